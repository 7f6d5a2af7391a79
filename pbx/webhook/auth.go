package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/peerline/peerline/config"
)

// SignatureHeader carries a PBX's HMAC signature: "t=<unix seconds>,id=<the
// request's unique id>,v1=<hex HMAC-SHA256 of t + "." + id + "." + body>". The
// id makes each request's signature unique, so a replay can be told from two
// requests that happen to carry the same body in the same second.
const SignatureHeader = "X-Peerline-Signature"

// signatureAge is how far a signature's time may be from peerline's clock.
const signatureAge = 5 * time.Minute

var (
	errUnauthorized = errors.New("no valid signature or bearer token")
	errStale        = errors.New("the signature's time is more than 5 minutes off")
	errReplayed     = errors.New("this signed request was seen before")
)

// Sign is the signature header's value for body sent at t as request id.
func Sign(secret string, t time.Time, id string, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",id=" + id + ",v1=" + mac(secret, ts, id, body)
}

func mac(secret, ts, id string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "." + id + "."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// authenticator knows the PBXs and remembers the request ids it has seen, so
// a signed request cannot be sent twice.
type authenticator struct {
	pbxs []config.PBXWebhook
	mu   sync.Mutex
	seen map[string]time.Time // PBX and request id -> the signature's time
}

// check returns the name of the PBX that sent r with body.
func (a *authenticator) check(r *http.Request, body []byte, now time.Time) (string, error) {
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		for _, p := range a.pbxs {
			if p.Auth == "bearer" && subtle.ConstantTimeCompare([]byte(tok), []byte(p.Secret)) == 1 {
				return p.Name, nil
			}
		}
		return "", errUnauthorized
	}
	sig := r.Header.Get(SignatureHeader)
	ts, id, v1, ok := parseSignature(sig)
	if !ok {
		return "", errUnauthorized
	}
	for _, p := range a.pbxs {
		if p.Auth != "hmac" || !hmac.Equal([]byte(v1), []byte(mac(p.Secret, ts, id, body))) {
			continue
		}
		sec, _ := strconv.ParseInt(ts, 10, 64)
		t := time.Unix(sec, 0)
		if d := now.Sub(t); d > signatureAge || d < -signatureAge {
			return "", errStale
		}
		return p.Name, a.remember(p.Name+" "+id, t, now)
	}
	return "", errUnauthorized
}

func (a *authenticator) remember(key string, t, now time.Time) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.seen == nil {
		a.seen = map[string]time.Time{}
	}
	for s, at := range a.seen { // older ones are refused as stale anyway
		if now.Sub(at) > signatureAge {
			delete(a.seen, s)
		}
	}
	if _, ok := a.seen[key]; ok {
		return errReplayed
	}
	a.seen[key] = t
	return nil
}

func parseSignature(s string) (ts, id, v1 string, ok bool) {
	for _, part := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "id":
			id = v
		case "v1":
			v1 = v
		}
	}
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil || len(v1) != 64 || !requestIDPattern.MatchString(id) {
		return "", "", "", false
	}
	return ts, id, v1, true
}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)
