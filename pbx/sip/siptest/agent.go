package siptest

import (
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/media/mediatest"
)

// Agent is an agent's SIP phone (or a trunk with the phone behind it): a real
// sipgo user agent that rings, answers or refuses, and can ask for digest
// credentials first as a trunk does.
type Agent struct {
	URI   string // sip:agent@127.0.0.1:port, for the agent's sip_uri
	Addr  string // host:port
	Media *mediatest.Phone

	opt AgentOptions

	invites chan *sip.Request // INVITEs accepted (after authentication)
	cancels chan struct{}
	byes    chan struct{}
	dialogs *sipgo.DialogServerCache

	mu      sync.Mutex
	current *sipgo.DialogServerSession
	remote  netip.AddrPort
	nonces  int
}

// AgentOptions shape how the agent's phone behaves.
type AgentOptions struct {
	RingFor time.Duration // how long it rings before it answers
	Refuse  int           // a final status to refuse with instead of answering (e.g. 486)
	// Digest, when User is set, challenges every INVITE with 407 until it carries
	// the right Proxy-Authorization, as an operator's trunk does; with WWW, with
	// 401 and Authorization, as a registrar-style server does.
	User, Password string
	WWW            bool
	// TLS, when set, makes the phone speak SIP over TLS with this server
	// config (its certificate); its URI then says ;transport=tls.
	TLS *tls.Config
	// SRTP is the phone's policy for an offer: none refuses RTP/SAVP, required
	// refuses plain RTP (488 both); a key it takes makes it speak SRTP.
	SRTP media.Policy
}

// NewAgent starts an agent's phone on 127.0.0.1 that speaks pt.
func NewAgent(t testing.TB, pt uint8, opt AgentOptions) *Agent {
	t.Helper()
	var e *endpoint
	contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", Host: "127.0.0.1"}}
	uri := "sip:agent@127.0.0.1:%d"
	if opt.TLS != nil {
		e = newTLSEndpoint(t, "siptest agent", opt.TLS, &tls.Config{InsecureSkipVerify: true})
		contact.Address.UriParams = sip.NewParams()
		contact.Address.UriParams.Add("transport", "tls")
		uri += ";transport=tls"
	} else {
		e = newEndpoint(t, "siptest agent")
	}
	contact.Address.Port = e.port
	a := &Agent{URI: fmt.Sprintf(uri, e.port), Addr: fmt.Sprintf("127.0.0.1:%d", e.port),
		Media: mediatest.NewPhone(t, pt), opt: opt, invites: make(chan *sip.Request, 64),
		cancels: make(chan struct{}, 64), byes: make(chan struct{}, 64)}
	a.dialogs = sipgo.NewDialogServerCache(e.cli, contact)
	srv := e.srv
	srv.OnInvite(a.onInvite)
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { a.dialogs.ReadAck(req, tx) })
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if a.dialogs.ReadBye(req, tx) == nil {
			a.byes <- struct{}{}
		}
	})
	e.serve()
	return a
}

func (a *Agent) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if a.opt.User != "" && !a.authorized(req) {
		code, reason, header := sip.StatusProxyAuthRequired, "Proxy Authentication Required", "Proxy-Authenticate"
		if a.opt.WWW {
			code, reason, header = sip.StatusUnauthorized, "Unauthorized", "WWW-Authenticate"
		}
		res := sip.NewResponseFromRequest(req, code, reason, nil)
		a.mu.Lock()
		a.nonces++
		nonce := fmt.Sprintf("nonce%d", a.nonces)
		a.mu.Unlock()
		res.AppendHeader(sip.NewHeader(header, fmt.Sprintf(`Digest realm="trunk", nonce="%s", algorithm=MD5`, nonce)))
		tx.Respond(res)
		return
	}
	a.invites <- req
	d, err := a.dialogs.ReadInvite(req, tx)
	if err != nil {
		return
	}
	defer d.Close()
	d.Respond(sip.StatusRinging, "Ringing", nil)
	if a.opt.Refuse != 0 {
		d.Respond(a.opt.Refuse, "Refused", nil)
		return
	}
	select {
	case <-time.After(a.opt.RingFor):
	case <-d.Context().Done():
		a.cancels <- struct{}{}
		return
	}
	offer, err := media.ParseSDP(req.Body())
	if err != nil {
		d.Respond(sip.StatusBadRequest, "Bad SDP", nil)
		return
	}
	local := media.Local{Addr: a.Media.Addr(), Codecs: []uint8{a.Media.PT}, DTMF: media.DefaultDTMF, SessionID: 2, Version: 1, Secure: offer.Secure}
	if err := a.encrypt(&local, offer); err != nil {
		d.Respond(sip.StatusNotAcceptableHere, "Not Acceptable Here", nil)
		return
	}
	a.mu.Lock()
	a.remote = offer.Addr
	a.mu.Unlock()
	answer := local.Answer(offer)
	if err := d.RespondSDP(answer); err != nil {
		return
	}
	// Published only now: sipgo writes the dialog's answer without a lock, and
	// Hangup and PressInfo read it.
	a.mu.Lock()
	a.current = d
	a.mu.Unlock()
	<-d.Context().Done() // the INVITE handler lives as long as the call
}

// encrypt takes the offer's key under the phone's policy, if any: its answer
// then carries a key of its own and its media speak SRTP.
func (a *Agent) encrypt(local *media.Local, offer media.Offer) error {
	p := a.opt.SRTP
	if p == "" {
		p = media.SRTPNone
	}
	key, err := offer.Key(p)
	if err != nil || key == nil {
		return err
	}
	ours, err := media.NewCrypto(key.Tag, key.Suite)
	if err != nil {
		return err
	}
	local.Crypto = &ours
	return a.Media.Encrypt(ours, *key)
}

// authorized checks the credentials the way RFC 2617 (without qop) does.
func (a *Agent) authorized(req *sip.Request) bool {
	name := "Proxy-Authorization"
	if a.opt.WWW {
		name = "Authorization"
	}
	h := req.GetHeader(name)
	if h == nil {
		return false
	}
	p := map[string]string{}
	for _, kv := range strings.Split(strings.TrimPrefix(h.Value(), "Digest "), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		p[k] = strings.Trim(v, `"`)
	}
	md := func(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }
	ha1 := md(a.opt.User + ":" + p["realm"] + ":" + a.opt.Password)
	ha2 := md("INVITE:" + p["uri"])
	return p["username"] == a.opt.User && p["response"] == md(ha1+":"+p["nonce"]+":"+ha2)
}

// WaitInvite returns the next INVITE the phone accepted, or nil after timeout.
func (a *Agent) WaitInvite(timeout time.Duration) *sip.Request {
	select {
	case r := <-a.invites:
		return r
	case <-time.After(timeout):
		return nil
	}
}

// WaitCancel reports whether a ringing call was cancelled within timeout.
func (a *Agent) WaitCancel(timeout time.Duration) bool { return wait(a.cancels, timeout) }

// WaitBye reports whether peerline hung up on the agent within timeout.
func (a *Agent) WaitBye(timeout time.Duration) bool { return wait(a.byes, timeout) }

// Remote is where the agent's phone sends its RTP (peerline's side of the leg).
func (a *Agent) Remote() netip.AddrPort {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.remote
}

// Hangup ends the agent's current call with BYE.
func (a *Agent) Hangup(ctx context.Context) error {
	a.mu.Lock()
	d := a.current
	a.mu.Unlock()
	if d == nil {
		return fmt.Errorf("no call to hang up")
	}
	return d.Bye(ctx)
}

// PressInfo presses keys on the agent's current call by SIP INFO
// (application/dtmf-relay), as some phones do.
func (a *Agent) PressInfo(ctx context.Context, keys string) error {
	a.mu.Lock()
	d := a.current
	a.mu.Unlock()
	if d == nil {
		return fmt.Errorf("no call to press keys on")
	}
	return pressInfo(ctx, d.Do, d.InviteRequest.Contact().Address, keys)
}
