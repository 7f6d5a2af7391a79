package sip

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/peerline/peerline/internal/clock"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/prompts"
	"github.com/rs/zerolog"
)

// leg is what both call directions share: the media session, the prompts, the
// leg's lifetime and the RTP timeout.
type leg struct {
	session  *media.Session
	pt       uint8 // the codec in use
	dtmf     int   // the remote's telephone-event payload type, -1 without
	prompts  prompts.Set
	rtpWatch *rtpWatch      // the server's RTP timeout
	relayed  *atomic.Uint64 // the server's count of relayed packets
	log      zerolog.Logger
	clock    clock.Clock // runs key timeouts
	keys     chan byte   // pressed by RFC 4733 events or SIP INFO, not yet collected

	ctx context.Context // ends when the leg has ended, whoever ended it
	end context.CancelFunc
}

// newLeg is a leg on session that lives at most as long as parent.
func (s *Server) newLeg(parent context.Context, session *media.Session, p prompts.Set, log zerolog.Logger) *leg {
	l := &leg{session: session, dtmf: -1, prompts: p, rtpWatch: s.rtpWatch, relayed: &s.relayed, log: log,
		clock: s.clock, keys: make(chan byte, keyBuffer)}
	l.ctx, l.end = context.WithCancel(parent)
	return l
}

// Context ends with the leg (line's withCaller waits on it without a goroutine).
func (l *leg) Context() context.Context { return l.ctx }

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

// Keys are the keys pressed that no Collect took.
func (l *leg) Keys() <-chan byte { return l.keys }

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
func (l *leg) watchRTP(hangup func()) { l.rtpWatch.add(l, hangup) }

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

// Conference mixes this leg and others (SIP calls of either direction) so
// that each hears all the others: a warm referral's three-way part.
func (l *leg) Conference(ctx context.Context, others ...line.Call) (line.Bridge, error) {
	legs := []*leg{l}
	for _, o := range others {
		x, ok := o.(legger)
		if !ok {
			return nil, fmt.Errorf("conference: %T is not a SIP call", o)
		}
		legs = append(legs, x.legOf())
	}
	ml := make([]media.Leg, len(legs))
	for i, x := range legs {
		ml[i] = mediaLeg(x)
	}
	mix, err := media.NewMix(ml...)
	if err != nil {
		return nil, err
	}
	return run(ctx, mix, legs)
}

// mixer is what a bridge runs: the two-party relay or a mix.
type mixer interface {
	Start()
	Stop()
	Whisper(leg int, samples []int16)
}

// bridge is legs talking to each other through a relay or a mix. It has no
// goroutine: it ends (stop) when its ctx or a leg's ends, or on Stop.
type bridge struct {
	end   func() // stops the media once and closes done
	done  chan struct{}
	relay mixer
	legs  []*leg
}

// Whisper mixes the prompts of to's line into what to hears.
func (b *bridge) Whisper(to line.Call, prompts ...string) error {
	o, ok := to.(legger)
	if !ok {
		return fmt.Errorf("whisper: %T is not a SIP call", to)
	}
	l := o.legOf()
	i := slices.Index(b.legs, l)
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

// Stop ends the relay, so the legs are free for prompts again.
func (b *bridge) Stop() { b.end() }

func mediaLeg(l *leg) media.Leg { return media.Leg{Session: l.session, PT: l.pt} }

// bridgeLegs relays a and b until ctx ends, either leg ends, or Stop.
func bridgeLegs(ctx context.Context, a, b *leg) (*bridge, error) {
	relay := media.NewBridge(mediaLeg(a), mediaLeg(b))
	relay.CountInto(a.relayed)
	return run(ctx, relay, []*leg{a, b})
}

// run runs relay over legs until ctx ends, a leg ends, or Stop. A socket
// that fails under a bridge silences its leg: the RTP timeout ends it.
func run(ctx context.Context, relay mixer, legs []*leg) (*bridge, error) {
	for i, l := range legs {
		if slices.Index(legs, l) != i {
			return nil, fmt.Errorf("bridge: a leg cannot be bridged to itself")
		}
		if l.ctx.Err() != nil {
			return nil, fmt.Errorf("bridge: a leg has ended")
		}
	}
	br := &bridge{done: make(chan struct{}), relay: relay, legs: legs}
	var mu sync.Mutex // stops is filled while an AfterFunc may already run end
	var stops []func() bool
	br.end = sync.OnceFunc(func() {
		mu.Lock()
		for _, s := range stops {
			s()
		}
		mu.Unlock()
		relay.Stop()
		close(br.done)
	})
	relay.Start()
	mu.Lock()
	for _, c := range append([]context.Context{ctx}, contexts(legs)...) {
		stops = append(stops, context.AfterFunc(c, br.end))
	}
	mu.Unlock()
	return br, nil
}

func contexts(legs []*leg) []context.Context {
	out := make([]context.Context, len(legs))
	for i, l := range legs {
		out[i] = l.ctx
	}
	return out
}
