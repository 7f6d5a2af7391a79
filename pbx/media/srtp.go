package media

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/srtp/v3"
)

// SRTP keys are agreed by SDES (RFC 4568): each side puts its own master key in
// its SDP as a=crypto and encrypts what it sends with it, so the answer's key
// decrypts what the answerer sends and the offer's what the offerer sends.

var (
	// ErrBadCrypto means an a=crypto attribute does not follow RFC 4568: the
	// offer is refused (488) rather than half understood.
	ErrBadCrypto = errors.New("sdp: malformed a=crypto")
	// ErrCryptoUnsupported means a well-formed a=crypto that peerline cannot
	// use (another suite, several keys, MKI, session parameters); the offer's
	// other a=crypto lines may still do.
	ErrCryptoUnsupported = errors.New("sdp: unsupported a=crypto")
	// ErrSRTPRequired means a leg whose policy requires SRTP got an offer or an
	// answer with no key peerline can use.
	ErrSRTPRequired = errors.New("srtp: the leg requires SRTP and the other side offers no usable key")
	// ErrSRTPOff means the other side insists on SRTP (RTP/SAVP) on a leg whose
	// policy is none.
	ErrSRTPOff = errors.New("srtp: the other side requires SRTP (RTP/SAVP) and SRTP is off for this leg")
)

// Policy is how a leg treats SRTP.
type Policy string

const (
	// SRTPNone never encrypts; an offer that insists on SRTP is refused.
	SRTPNone Policy = "none"
	// SRTPOptional encrypts when the other side offers keys or takes ours.
	// peerline offers keys only over TLS, where they cannot be read on the way.
	SRTPOptional Policy = "optional"
	// SRTPRequired refuses plain RTP both ways.
	SRTPRequired Policy = "required"
)

// Policies are the valid values of a Policy, for config.
var Policies = []Policy{SRTPNone, SRTPOptional, SRTPRequired}

// suites are the crypto suites peerline speaks, by their SDES names (RFC
// 4568, RFC 6188); the first is the one it offers.
var suites = map[string]srtp.ProtectionProfile{
	"AES_CM_128_HMAC_SHA1_80": srtp.ProtectionProfileAes128CmHmacSha1_80,
	"AES_CM_128_HMAC_SHA1_32": srtp.ProtectionProfileAes128CmHmacSha1_32,
	"AES_256_CM_HMAC_SHA1_80": srtp.ProtectionProfileAes256CmHmacSha1_80,
	"AES_256_CM_HMAC_SHA1_32": srtp.ProtectionProfileAes256CmHmacSha1_32,
}

// OfferedSuite is the suite of the keys peerline offers.
const OfferedSuite = "AES_CM_128_HMAC_SHA1_80"

// Crypto is one a=crypto attribute: a tag, a suite and a master key and salt.
// It prints without its key, so that no log line can hold one.
type Crypto struct {
	Tag   int
	Suite string
	key   []byte // master key || master salt
}

// NewCrypto makes a fresh random key of suite under tag.
func NewCrypto(tag int, suite string) (Crypto, error) {
	n, err := keyLen(suite)
	if err != nil {
		return Crypto{}, err
	}
	c := Crypto{Tag: tag, Suite: suite, key: make([]byte, n)}
	if _, err := rand.Read(c.key); err != nil {
		return Crypto{}, err
	}
	return c, nil
}

func keyLen(suite string) (int, error) {
	p, ok := suites[suite]
	if !ok {
		return 0, fmt.Errorf("%w: suite %.40q", ErrCryptoUnsupported, suite)
	}
	k, _ := p.KeyLen()
	s, _ := p.SaltLen()
	return k + s, nil
}

// String names the tag and suite, never the key.
func (c Crypto) String() string { return fmt.Sprintf("%d %s inline:[key]", c.Tag, c.Suite) }

// Attribute is the value of the a=crypto line that carries c.
func (c Crypto) Attribute() string {
	return fmt.Sprintf("%d %s inline:%s", c.Tag, c.Suite, base64.StdEncoding.EncodeToString(c.key))
}

// ParseCrypto reads the value of an a=crypto attribute (after "crypto:"):
//
//	tag SP suite SP "inline:" base64(key||salt) ["|" lifetime] ["|" mki ":" length] [SP session-params]
//
// A lifetime is accepted and left to the suite's own limit. Errors wrap
// ErrBadCrypto or ErrCryptoUnsupported and never quote the key.
func ParseCrypto(v string) (Crypto, error) {
	f := strings.Fields(v)
	if len(f) < 3 {
		return Crypto{}, fmt.Errorf("%w: want a tag, a suite and a key", ErrBadCrypto)
	}
	tag, err := strconv.Atoi(f[0])
	if err != nil || tag < 0 || tag > 999999999 || len(f[0]) > 9 {
		return Crypto{}, fmt.Errorf("%w: tag %.12q is not 1-9 digits", ErrBadCrypto, f[0])
	}
	c := Crypto{Tag: tag, Suite: f[1]}
	method, info, ok := strings.Cut(f[2], ":")
	if !ok || method != "inline" {
		return c, fmt.Errorf("%w: key method is not inline", ErrBadCrypto)
	}
	if strings.Contains(info, ";") {
		return c, fmt.Errorf("%w: more than one key", ErrCryptoUnsupported)
	}
	parts := strings.Split(info, "|")
	if len(parts) > 3 {
		return c, fmt.Errorf("%w: key has more than a lifetime and an MKI", ErrBadCrypto)
	}
	key, err := decodeKey(parts[0])
	if err != nil {
		return c, err
	}
	for _, p := range parts[1:] {
		if err := checkKeyParam(p); err != nil {
			return c, err
		}
	}
	n, err := keyLen(c.Suite)
	if err != nil {
		return c, err
	}
	if len(key) != n {
		return c, fmt.Errorf("%w: key and salt are %d bytes, %s needs %d", ErrBadCrypto, len(key), c.Suite, n)
	}
	if len(f) > 3 {
		return c, fmt.Errorf("%w: session parameters", ErrCryptoUnsupported)
	}
	c.key = key
	return c, nil
}

func decodeKey(s string) ([]byte, error) {
	if k, err := base64.StdEncoding.DecodeString(s); err == nil {
		return k, nil
	}
	if k, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return k, nil
	}
	return nil, fmt.Errorf("%w: key is not base64", ErrBadCrypto)
}

// checkKeyParam checks a lifetime ("2^31" or "1024") or an MKI ("1:4"); an
// MKI is refused, as peerline keys one master key per stream.
func checkKeyParam(p string) error {
	if v, l, ok := strings.Cut(p, ":"); ok {
		if !digits(v) || !digits(l) {
			return fmt.Errorf("%w: MKI is not value:length", ErrBadCrypto)
		}
		return fmt.Errorf("%w: MKI", ErrCryptoUnsupported)
	}
	if !digits(strings.TrimPrefix(p, "2^")) {
		return fmt.Errorf("%w: lifetime is not a number", ErrBadCrypto)
	}
	return nil
}

func digits(s string) bool {
	if s == "" || len(s) > 10 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Context makes an SRTP context for c's key, to encrypt with or (replay-checked)
// to decrypt with; not safe for concurrent use.
func (c Crypto) Context(decrypt bool) (*srtp.Context, error) {
	p, ok := suites[c.Suite]
	if !ok || len(c.key) == 0 {
		return nil, fmt.Errorf("%w: no key for suite %q", ErrCryptoUnsupported, c.Suite)
	}
	k, _ := p.KeyLen()
	var opts []srtp.ContextOption
	if decrypt {
		opts = append(opts, srtp.SRTPReplayProtection(128))
	}
	return srtp.CreateContext(c.key[:k], c.key[k:], p, opts...)
}

// Key picks the offer's key to answer under p: nil for plain RTP.
func (o Offer) Key(p Policy) (*Crypto, error) {
	switch {
	case p == SRTPNone && o.Secure:
		return nil, ErrSRTPOff
	case p == SRTPNone:
		return nil, nil
	case len(o.Crypto) > 0:
		return &o.Crypto[0], nil
	case o.Secure || p == SRTPRequired:
		return nil, ErrSRTPRequired
	}
	return nil, nil
}

// Agree picks the answer's key to our offer l under p: nil for plain RTP. The
// answer must take the tag and suite we offered.
func (l Local) Agree(ans Offer, p Policy) (*Crypto, error) {
	for i, c := range ans.Crypto {
		if l.Crypto != nil && c.Tag == l.Crypto.Tag && c.Suite == l.Crypto.Suite {
			return &ans.Crypto[i], nil
		}
	}
	if l.Crypto != nil && (p == SRTPRequired || ans.Secure) {
		return nil, ErrSRTPRequired
	}
	return nil, nil
}

// Encrypt makes s send SRTP with local's key and take only SRTP that
// remote's key authenticates. It must be called before Start and before the
// first Write.
func (s *Session) Encrypt(local, remote Crypto) error {
	out, err := local.Context(false)
	if err != nil {
		return err
	}
	in, err := remote.Context(true)
	if err != nil {
		return err
	}
	s.srtpOut, s.srtpIn = out, in
	s.sealed = make([]byte, 0, 1500)
	return nil
}

// Encrypted reports whether s sends and takes SRTP.
func (s *Session) Encrypted() bool { return s.srtpOut != nil }
