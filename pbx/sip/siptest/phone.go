// Package siptest is a SIP phone for tests: a real sipgo user agent on 127.0.0.1
// with its own RTP endpoint, that calls peerline and notices being hung up on.
package siptest

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/media/mediatest"
)

// Phone is a caller's SIP phone.
type Phone struct {
	User   string // From user: the phone's number
	Media  *mediatest.Phone
	dialog *sipgo.DialogClientCache
	cli    *sipgo.Client
	byes   chan struct{}
	Addr   string
	// EarlyKeys are pressed as RFC 4733 events during the early media of the
	// next call (a 183 with SDP): an agent's '*' during the greeting.
	EarlyKeys string
	// SRTP is how the phone offers keys: "" or none offers plain RTP, optional
	// RTP/AVP with a key, required RTP/SAVP with a key. It encrypts when the
	// answer takes its key.
	SRTP media.Policy
	// SDP, when set, is offered as it is by the next call (odd offers).
	SDP []byte

	tls      bool // calls go over TLS
	mu       sync.Mutex
	received []string // every response and request the phone got, as sent
}

// Received is every SIP message the phone got from peerline, as text.
func (p *Phone) Received() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.received...)
}

func (p *Phone) got(m sip.Message) {
	p.mu.Lock()
	p.received = append(p.received, m.String())
	p.mu.Unlock()
}

// NewPhone starts a phone for number that speaks pt. BYEs arrive at its Contact;
// its requests go out from an ephemeral socket.
func NewPhone(t testing.TB, number string, pt uint8) *Phone {
	t.Helper()
	return newPhoneOn(t, newEndpoint(t, "siptest phone"), number, pt)
}

// NewPhoneTLS is a phone that speaks SIP over TLS: it listens with server's
// certificate (peerline's BYE comes there) and calls with client's trust.
func NewPhoneTLS(t testing.TB, number string, pt uint8, server, client *tls.Config) *Phone {
	t.Helper()
	return newPhoneOn(t, newTLSEndpoint(t, "siptest phone", server, client), number, pt)
}

func newPhoneOn(t testing.TB, e *endpoint, number string, pt uint8) *Phone {
	contact := sip.ContactHeader{Address: sip.Uri{User: number, Host: "127.0.0.1", Port: e.port}}
	addr := ""
	if e.tls != nil {
		contact.Address.UriParams = sip.NewParams()
		contact.Address.UriParams.Add("transport", "tls")
		addr = e.tls.Addr().String()
	} else {
		addr = e.pc.LocalAddr().String()
	}
	p := &Phone{User: number, Media: mediatest.NewPhone(t, pt), cli: e.cli, byes: make(chan struct{}, 8), Addr: addr, tls: e.tls != nil}
	p.dialog = sipgo.NewDialogClientCache(e.cli, contact)
	e.srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		p.got(req)
		p.dialog.ReadBye(req, tx)
		p.byes <- struct{}{}
	})
	e.serve()
	return p
}

// Call is one call made by the phone.
type Call struct {
	Session *sipgo.DialogClientSession
	Status  int
}

// Call dials sip:to@target (target "127.0.0.1:5060") and waits for the final answer;
// on 200 it sends the ACK.
func (p *Phone) Call(ctx context.Context, to, target string) (*Call, error) {
	host, port, _ := net.SplitHostPort(target)
	var portN int
	fmt.Sscan(port, &portN)
	local, err := p.local(1)
	if err != nil {
		return nil, err
	}
	offer := local.Offer()
	if p.SDP != nil {
		offer, p.SDP = p.SDP, nil
	}
	from := sip.NewHeader("From", fmt.Sprintf("<sip:%s@127.0.0.1>;tag=%d", p.User, time.Now().UnixNano()))
	uri := sip.Uri{User: to, Host: host, Port: portN}
	if p.tls {
		uri.UriParams = sip.NewParams()
		uri.UriParams.Add("transport", "tls")
	}
	sess, err := p.dialog.Invite(ctx, uri, offer, from,
		sip.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		return nil, err
	}
	c := &Call{Session: sess}
	early := p.EarlyKeys
	p.EarlyKeys = ""
	keyed := false
	err = sess.WaitAnswer(ctx, sipgo.AnswerOptions{OnResponse: func(r *sip.Response) error {
		p.got(r)
		o, err := media.ParseSDP(r.Body())
		if err == nil && !keyed {
			keyed = true
			if err := p.encrypt(local, o); err != nil {
				return err
			}
		}
		if err == nil && r.StatusCode == 183 && early != "" {
			go p.Media.SendKeys(o.Addr, media.DefaultDTMF, early)
			early = ""
		}
		return nil
	}})
	if sess.InviteResponse != nil {
		c.Status = sess.InviteResponse.StatusCode
	}
	if err != nil {
		return c, nil // a final error answer is a result, not a test failure
	}
	return c, sess.Ack(ctx)
}

// local is the phone's side of its offer, with a key of its own under p.SRTP.
func (p *Phone) local(version uint64) (media.Local, error) {
	l := media.Local{Addr: p.Media.Addr(), Codecs: []uint8{p.Media.PT}, DTMF: media.DefaultDTMF, SessionID: 1, Version: version}
	if p.SRTP == "" || p.SRTP == media.SRTPNone {
		return l, nil
	}
	key, err := media.NewCrypto(1, media.OfferedSuite)
	l.Crypto, l.Secure = &key, p.SRTP == media.SRTPRequired
	return l, err
}

// encrypt makes the phone's media speak SRTP when the answer took its key.
func (p *Phone) encrypt(l media.Local, ans media.Offer) error {
	key, err := l.Agree(ans, p.SRTP)
	if err != nil || key == nil {
		return err
	}
	return p.Media.Encrypt(*l.Crypto, *key)
}

// Remote is where peerline receives the caller's RTP, from its answer's SDP.
func (c *Call) Remote() netip.AddrPort {
	o, err := media.ParseSDP(c.Session.InviteResponse.Body())
	if err != nil {
		return netip.AddrPort{}
	}
	return o.Addr
}

// Hangup ends the call from the caller's side.
func (c *Call) Hangup(ctx context.Context) error { return c.Session.Bye(ctx) }

// Options sends OPTIONS to target ("127.0.0.1:5060") and returns the answer.
func (p *Phone) Options(ctx context.Context, target string) (*sip.Response, error) {
	host, port, _ := net.SplitHostPort(target)
	var portN int
	fmt.Sscan(port, &portN)
	return p.cli.Do(ctx, sip.NewRequest(sip.OPTIONS, sip.Uri{Host: host, Port: portN}))
}

// Reinvite sends an in-dialog INVITE with the phone's SDP again (as a session
// refresh would) and returns the answer.
func (c *Call) Reinvite(ctx context.Context, p *Phone) (*sip.Response, error) {
	target := c.Session.InviteResponse.Contact()
	if target == nil {
		return nil, fmt.Errorf("the answer to the INVITE had no Contact")
	}
	req := sip.NewRequest(sip.INVITE, target.Address)
	req.SetBody(media.Local{Addr: p.Media.Addr(), Codecs: []uint8{p.Media.PT}, DTMF: -1, SessionID: 1, Version: 2}.Offer())
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	return c.Session.Do(ctx, req)
}

// WaitBye waits for peerline to hang up on the phone.
func (p *Phone) WaitBye(timeout time.Duration) bool { return wait(p.byes, timeout) }

// Info sends an in-dialog INFO with body of type contentType and returns the answer.
func (c *Call) Info(ctx context.Context, contentType, body string) (*sip.Response, error) {
	target := c.Session.InviteResponse.Contact()
	if target == nil {
		return nil, fmt.Errorf("the answer to the INVITE had no Contact")
	}
	return c.Session.Do(ctx, infoRequest(target.Address, contentType, body))
}

// PressInfo presses keys by SIP INFO (application/dtmf-relay), as some phones do.
func (c *Call) PressInfo(ctx context.Context, keys string) error {
	target := c.Session.InviteResponse.Contact()
	if target == nil {
		return fmt.Errorf("the answer to the INVITE had no Contact")
	}
	return pressInfo(ctx, c.Session.Do, target.Address, keys)
}

func infoRequest(target sip.Uri, contentType, body string) *sip.Request {
	req := sip.NewRequest(sip.INFO, target)
	req.SetBody([]byte(body))
	req.AppendHeader(sip.NewHeader("Content-Type", contentType))
	return req
}

// pressInfo sends one application/dtmf-relay INFO a key in a dialog (do) and
// wants 200 for each.
func pressInfo(ctx context.Context, do func(context.Context, *sip.Request) (*sip.Response, error), target sip.Uri, keys string) error {
	for i := range len(keys) {
		res, err := do(ctx, infoRequest(target, "application/dtmf-relay", fmt.Sprintf("Signal=%c\r\nDuration=160\r\n", keys[i])))
		if err != nil {
			return err
		}
		if res.StatusCode != 200 {
			return fmt.Errorf("INFO %c: %d %s", keys[i], res.StatusCode, res.Reason)
		}
	}
	return nil
}
