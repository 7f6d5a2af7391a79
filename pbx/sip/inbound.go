package sip

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/pbx/media"
)

// inboundCall is a caller's leg: a sipgo server dialog with our media session.
// It implements line.Call. Prompts and ringback before Answer go out as early
// media (183), so the caller can still cancel while an agent's phone rings.
type inboundCall struct {
	*leg
	srv     *Server
	id      string // ours, not the SIP Call-ID
	dialog  *sipgo.DialogServerSession
	answer  []byte // our SDP, the same in the 183 and the 200
	contact sip.ContactHeader
	caller  string // in memory only

	respond  sync.Mutex // one response to the INVITE at a time; guards early
	early    bool       // 183 sent
	answered atomic.Bool

	mu     sync.Mutex
	dialed []*outboundCall // agent legs, hung up at the latest when this call ends
}

func (c *inboundCall) ID() string     { return c.id }
func (c *inboundCall) Caller() string { return c.caller }

// Answer sends 200 OK with our SDP and waits for the ACK.
func (c *inboundCall) Answer(ctx context.Context) error {
	c.respond.Lock()
	defer c.respond.Unlock()
	if c.answered.Load() {
		return nil
	}
	res := sip.NewSDPResponseFromRequest(c.dialog.InviteRequest, c.answer)
	res.AppendHeader(c.contact.Clone())
	if err := c.dialog.WriteResponse(res); err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	c.answered.Store(true)
	c.startMedia()
	c.watchRTP(func() { c.Hangup(context.Background()) })
	return nil
}

// earlyMedia sends 183 with our SDP once, before the first sound of an
// unanswered call.
func (c *inboundCall) earlyMedia() error {
	c.respond.Lock()
	defer c.respond.Unlock()
	if c.answered.Load() || c.early {
		return nil
	}
	if err := c.dialog.Respond(sip.StatusSessionInProgress, "Session Progress", c.answer,
		sip.NewHeader("Content-Type", "application/sdp"), c.contact.Clone()); err != nil {
		return fmt.Errorf("early media: %w", err)
	}
	c.early = true
	c.startMedia()
	return nil
}

func (c *inboundCall) Play(ctx context.Context, name string) error {
	if _, ok := c.prompts[name]; !ok {
		return fmt.Errorf("prompt %q: %w", name, line.ErrNoPrompt)
	}
	if err := c.earlyMedia(); err != nil {
		return err
	}
	return c.leg.Play(ctx, name)
}

func (c *inboundCall) Collect(ctx context.Context, o line.CollectOptions) (string, error) {
	if len(o.Prompts) > 0 {
		if err := c.earlyMedia(); err != nil {
			return "", err
		}
	}
	return c.leg.Collect(ctx, o)
}

func (c *inboundCall) Ring(ctx context.Context) error {
	if err := c.earlyMedia(); err != nil {
		return err
	}
	return c.leg.Ring(ctx)
}

func (c *inboundCall) Hold(ctx context.Context) error {
	if err := c.earlyMedia(); err != nil {
		return err
	}
	return c.leg.Hold(ctx)
}

// Dial calls an agent for this caller; see Server.dial.
func (c *inboundCall) Dial(ctx context.Context, t line.Target, o line.DialOptions) (line.Call, error) {
	out, err := c.srv.dial(ctx, t, o, c.prompts, c.log)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.dialed = append(c.dialed, out)
	c.mu.Unlock()
	return out, nil
}

// Hangup ends the call: BYE when answered, 480 before.
func (c *inboundCall) Hangup(ctx context.Context) error {
	defer c.end()
	if c.dialog.Context().Err() != nil {
		return nil
	}
	if !c.answered.Load() {
		return c.dialog.Respond(sip.StatusTemporarilyUnavailable, "Temporarily Unavailable", nil)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return c.dialog.Bye(ctx)
}

// close ends the caller's leg and every agent leg it dialled.
func (c *inboundCall) close() {
	c.Hangup(context.Background())
	c.mu.Lock()
	dialed := c.dialed
	c.mu.Unlock()
	for _, o := range dialed {
		o.Hangup(context.Background())
	}
	c.release()
}

// answerKey makes our key for an answer to the offer's key (the same tag and
// suite) and encrypts session with the two; a nil key leaves it plain.
func answerKey(session *media.Session, local *media.Local, key *media.Crypto) error {
	if key == nil {
		return nil
	}
	ours, err := media.NewCrypto(key.Tag, key.Suite)
	if err != nil {
		return err
	}
	local.Crypto = &ours
	return session.Encrypt(ours, *key)
}

// newLocal is our side of a new media session at addr.
func newLocal(addr netip.AddrPort) media.Local {
	return media.Local{Addr: addr, Codecs: []uint8{media.PCMU, media.PCMA}, DTMF: media.DefaultDTMF,
		SessionID: rand.Uint64N(1 << 62), Version: 1}
}
