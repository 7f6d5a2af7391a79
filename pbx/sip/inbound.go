package sip

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/prompts"
)

// inboundCall is a caller's leg: a sipgo server dialog with our media session.
// It implements line.Call.
type inboundCall struct {
	dialog  *sipgo.DialogServerSession
	session *media.Session
	offer   media.Offer
	local   media.Local
	prompts prompts.Set
	caller  string // in memory only

	mu       sync.Mutex
	answered bool
}

func (c *inboundCall) ID() string     { return c.dialog.InviteRequest.CallID().Value() }
func (c *inboundCall) Caller() string { return c.caller }

func (c *inboundCall) Done() <-chan struct{} { return c.dialog.Context().Done() }

// Answer sends 200 OK with our SDP and waits for the ACK.
func (c *inboundCall) Answer(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.answered {
		return nil
	}
	if err := c.dialog.RespondSDP(c.local.Answer(c.offer)); err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	c.answered = true
	return nil
}

// Play plays a prompt of the line's set; it returns early when ctx ends.
func (c *inboundCall) Play(ctx context.Context, name string) error {
	p, ok := c.prompts[name]
	if !ok {
		return fmt.Errorf("prompt %q: %w", name, errNoPrompt)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(c.dialog.Context(), cancel)
	defer stop()
	return media.Play(ctx, c.session, c.local.Codecs[0], p)
}

var errNoPrompt = errors.New("no such prompt")

// Hangup ends the call: BYE when answered, 480 before.
func (c *inboundCall) Hangup(ctx context.Context) error {
	c.mu.Lock()
	answered := c.answered
	c.mu.Unlock()
	if c.dialog.Context().Err() != nil {
		return nil
	}
	if !answered {
		return c.dialog.Respond(sip.StatusTemporarilyUnavailable, "Temporarily Unavailable", nil)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return c.dialog.Bye(ctx)
}

// newLocal is our side of a new media session at addr.
func newLocal(addr netip.AddrPort) media.Local {
	return media.Local{Addr: addr, Codecs: []uint8{media.PCMU, media.PCMA}, DTMF: media.DefaultDTMF,
		SessionID: rand.Uint64N(1 << 62), Version: 1}
}
