package sip

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/peerline/peerline/internal/clock"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/prompts"
	"github.com/rs/zerolog"
)

// leg is what both call directions share: the media session, the prompts, the
// leg's lifetime and the RTP timeout.
type leg struct {
	session    *media.Session
	pt         uint8 // the codec in use
	dtmf       int   // the remote's telephone-event payload type, -1 without
	prompts    prompts.Set
	rtpTimeout time.Duration
	relayed    *atomic.Uint64 // the server's count of relayed packets
	log        zerolog.Logger
	clock      clock.Clock // runs key timeouts
	keys       chan byte   // pressed by RFC 4733 events or SIP INFO, not yet collected

	ctx context.Context // ends when the leg has ended, whoever ended it
	end context.CancelFunc
}

// newLeg is a leg on session that lives at most as long as parent.
func (s *Server) newLeg(parent context.Context, session *media.Session, p prompts.Set, log zerolog.Logger) *leg {
	l := &leg{session: session, dtmf: -1, prompts: p, rtpTimeout: s.rtpTimeout, relayed: &s.relayed, log: log,
		clock: s.clock, keys: make(chan byte, keyBuffer)}
	l.ctx, l.end = context.WithCancel(parent)
	return l
}

func (l *leg) Done() <-chan struct{} { return l.ctx.Done() }

// keyBuffer is how many keys a leg keeps until they are collected: a PIN typed
// ahead of its prompt fits; more are dropped.
const keyBuffer = 32

// listenKeys makes the session report RFC 4733 key presses once the remote's
// telephone-event payload type is known.
func (l *leg) listenKeys() { l.session.ListenKeys(l.dtmf, l.keys) }

// press is a key pressed by SIP INFO; a full buffer drops it.
func (l *leg) press(k byte) {
	select {
	case l.keys <- k:
	default:
	}
}

// Collect plays prompts and gathers keys; see line.CollectOptions.
func (l *leg) Collect(ctx context.Context, o line.CollectOptions) (string, error) {
	ctx, cancel := l.bound(ctx)
	defer cancel()
	return line.Collect(ctx, l.clock, l.keys, l.Play, o)
}

// Play plays a prompt of the line's set; it returns early when ctx or the leg ends.
func (l *leg) Play(ctx context.Context, name string) error {
	p, ok := l.prompts[name]
	if !ok {
		return fmt.Errorf("prompt %q: %w", name, line.ErrNoPrompt)
	}
	ctx, cancel := l.bound(ctx)
	defer cancel()
	return media.Play(ctx, l.session, l.pt, p)
}

// Ring plays the Swedish ringback tone until ctx or the leg ends.
func (l *leg) Ring(ctx context.Context) error {
	ctx, cancel := l.bound(ctx)
	defer cancel()
	err := media.PlayTone(ctx, l.session, l.pt, media.Ringback)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// Hold loops the line's hold music until ctx or the leg ends; a line without
// any holds in silence.
func (l *leg) Hold(ctx context.Context) error {
	ctx, cancel := l.bound(ctx)
	defer cancel()
	p, ok := l.prompts[prompts.HoldMusic]
	if !ok {
		p = &media.Prompt{Name: prompts.HoldMusic}
	}
	err := media.Loop(ctx, l.session, l.pt, p)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// bound is ctx that also ends with the leg.
func (l *leg) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(l.ctx, cancel)
	return ctx, func() { stop(); cancel() }
}

// watchRTP starts the RTP timeout once the leg is answered: silence for that long
// means the far end is gone, and hangup ends the leg. Each leg is answered once.
func (l *leg) watchRTP(hangup func()) {
	if l.rtpTimeout <= 0 {
		return
	}
	l.session.Touch() // a phone sends nothing while it rings
	go l.watch(hangup)
}

func (l *leg) watch(hangup func()) {
	every := min(max(l.rtpTimeout/4, 20*time.Millisecond), time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-l.ctx.Done():
			return
		case <-t.C:
			if idle := l.session.Idle(); idle > l.rtpTimeout {
				l.log.Info().Dur("silent", idle).Msg("no RTP for longer than sip.rtp_timeout: hanging up")
				hangup()
				return
			}
		}
	}
}

// startMedia starts reading the leg's RTP (once): from then on the peer latches,
// keys are heard and the RTP timeout sees the peer alive.
func (l *leg) startMedia() { l.session.Start() }

// release ends the leg and frees its port.
func (l *leg) release() {
	l.end()
	l.session.Close()
}

// legger is a call that has a leg: both directions do.
type legger interface{ legOf() *leg }

func (l *leg) legOf() *leg { return l }

// Bridge relays this leg and other (a SIP call of either direction) to each other.
func (l *leg) Bridge(ctx context.Context, other line.Call) (line.Bridge, error) {
	o, ok := other.(legger)
	if !ok {
		return nil, fmt.Errorf("bridge: %T is not a SIP call", other)
	}
	return bridgeLegs(ctx, l, o.legOf())
}

// bridge is two legs relaying to each other.
type bridge struct {
	stop  context.CancelFunc
	done  chan struct{}
	relay *media.Bridge
	legs  [2]*leg
}

// Whisper mixes the prompts of to's line into what to hears.
func (b *bridge) Whisper(to line.Call, prompts ...string) error {
	o, ok := to.(legger)
	if !ok {
		return fmt.Errorf("whisper: %T is not a SIP call", to)
	}
	l := o.legOf()
	i := slices.Index(b.legs[:], l)
	if i < 0 {
		return fmt.Errorf("whisper: the leg is not in this bridge")
	}
	for _, name := range prompts {
		p, ok := l.prompts[name]
		if !ok {
			return fmt.Errorf("prompt %q: %w", name, line.ErrNoPrompt)
		}
		b.relay.Whisper(i, p.Samples)
	}
	return nil
}

func (b *bridge) Done() <-chan struct{} { return b.done }

// Stop ends the relay and waits for it, so the legs are free for prompts again.
func (b *bridge) Stop() {
	b.stop()
	<-b.done
}

// bridgeLegs relays a and b until ctx ends, either leg ends, or Stop.
func bridgeLegs(ctx context.Context, a, b *leg) (*bridge, error) {
	if a == b {
		return nil, fmt.Errorf("bridge: a leg cannot be bridged to itself")
	}
	if a.ctx.Err() != nil || b.ctx.Err() != nil {
		return nil, fmt.Errorf("bridge: a leg has ended")
	}
	ctx, stop := context.WithCancel(ctx)
	stopA := context.AfterFunc(a.ctx, stop)
	stopB := context.AfterFunc(b.ctx, stop)
	relay := media.NewBridge(media.Leg{Session: a.session, PT: a.pt},
		media.Leg{Session: b.session, PT: b.pt})
	br := &bridge{stop: stop, done: make(chan struct{}), relay: relay, legs: [2]*leg{a, b}}
	relay.CountInto(a.relayed)
	go func() {
		defer close(br.done)
		defer stopA()
		defer stopB()
		if err := relay.Run(ctx); err != nil && a.ctx.Err() == nil && b.ctx.Err() == nil {
			a.log.Warn().Err(err).Msg("bridge failed")
		}
		stop()
	}()
	return br, nil
}
