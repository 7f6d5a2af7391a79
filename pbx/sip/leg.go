package sip

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

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
	log        zerolog.Logger

	ctx context.Context // ends when the leg has ended, whoever ended it
	end context.CancelFunc

	mu        sync.Mutex
	watching  bool               // the RTP timeout watch runs
	drainStop context.CancelFunc // nil while nobody drains (bridged, or not started)
	drainDone chan struct{}
}

func newLeg(parent context.Context, s *media.Session, p prompts.Set, timeout time.Duration, log zerolog.Logger) *leg {
	l := &leg{session: s, dtmf: -1, prompts: p, rtpTimeout: timeout, log: log}
	l.ctx, l.end = context.WithCancel(parent)
	return l
}

func (l *leg) Done() <-chan struct{} { return l.ctx.Done() }

// Play plays a prompt of the line's set; it returns early when ctx or the leg ends.
func (l *leg) Play(ctx context.Context, name string) error {
	p, ok := l.prompts[name]
	if !ok {
		return fmt.Errorf("prompt %q: %w", name, line.ErrNoPrompt)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(l.ctx, cancel)()
	return media.Play(ctx, l.session, l.pt, p)
}

// Ring plays the Swedish ringback tone until ctx or the leg ends.
func (l *leg) Ring(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(l.ctx, cancel)()
	err := media.PlayTone(ctx, l.session, l.pt, media.Ringback)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// startMedia begins reading the leg's RTP and, once the call is answered
// (watch), the RTP timeout: silence for that long means the far end is gone, and
// hangup ends the leg.
func (l *leg) startMedia(watch bool, hangup func()) {
	l.resumeDrain()
	l.mu.Lock()
	start := watch && !l.watching && l.rtpTimeout > 0
	l.watching = l.watching || start
	l.mu.Unlock()
	if !start {
		return
	}
	l.session.Touch()
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

// resumeDrain starts draining the leg's RTP unless someone drains already.
func (l *leg) resumeDrain() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.drainStop != nil || l.ctx.Err() != nil {
		return
	}
	ctx, stop := context.WithCancel(l.ctx)
	done := make(chan struct{})
	l.drainStop, l.drainDone = stop, done
	go func() {
		defer close(done)
		l.session.Drain(ctx)
	}()
}

// pauseDrain stops draining and waits until the socket is free for another reader.
func (l *leg) pauseDrain() {
	l.mu.Lock()
	stop, done := l.drainStop, l.drainDone
	l.drainStop, l.drainDone = nil, nil
	l.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
}

// release ends the leg and frees its port.
func (l *leg) release() {
	l.end()
	l.pauseDrain()
	l.session.Close()
}

// legger is a call that has a leg: both directions do.
type legger interface{ legOf() *leg }

func (l *leg) legOf() *leg { return l }

// bridge is two legs relaying to each other.
type bridge struct {
	stop context.CancelFunc
	done chan struct{}
}

func (b *bridge) Done() <-chan struct{} { return b.done }

// Stop ends the relay and waits for it, so the legs are free for prompts again.
func (b *bridge) Stop() {
	b.stop()
	<-b.done
}

// bridgeLegs relays a and b until ctx ends, either leg ends, or Stop.
func bridgeLegs(ctx context.Context, a, b *leg, relayed *atomic.Uint64) (*bridge, error) {
	if a == b {
		return nil, fmt.Errorf("bridge: a leg cannot be bridged to itself")
	}
	if a.ctx.Err() != nil || b.ctx.Err() != nil {
		return nil, fmt.Errorf("bridge: a leg has ended")
	}
	a.pauseDrain()
	b.pauseDrain()
	ctx, stop := context.WithCancel(ctx)
	stopA := context.AfterFunc(a.ctx, stop)
	stopB := context.AfterFunc(b.ctx, stop)
	br := &bridge{stop: stop, done: make(chan struct{})}
	relay := media.NewBridge(media.Leg{Session: a.session, PT: a.pt, DTMF: a.dtmf},
		media.Leg{Session: b.session, PT: b.pt, DTMF: b.dtmf}, nil)
	relay.CountInto(relayed)
	go func() {
		defer close(br.done)
		defer stopA()
		defer stopB()
		if err := relay.Run(ctx); err != nil && a.ctx.Err() == nil && b.ctx.Err() == nil {
			a.log.Warn().Err(err).Msg("bridge failed")
		}
		stop()
		a.resumeDrain()
		b.resumeDrain()
	}()
	return br, nil
}
