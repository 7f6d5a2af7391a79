package sip

import (
	"context"
	"sync"
	"time"
)

// rtpWatch runs the RTP timeout of every answered leg from one goroutine: a
// leg silent for longer than sip.rtp_timeout is hung up. One ticker for the
// server instead of a goroutine and a ticker per leg: at 500 calls that was
// 1,000 goroutines waking the scheduler every second for nothing.
type rtpWatch struct {
	timeout time.Duration
	ctx     context.Context // the server's calls: the watch ends with them
	once    sync.Once

	mu   sync.Mutex
	legs map[*leg]func() // answered legs and how each is hung up
}

func newRTPWatch(ctx context.Context, timeout time.Duration) *rtpWatch {
	return &rtpWatch{timeout: timeout, ctx: ctx, legs: map[*leg]func(){}}
}

// add watches l from now (a phone sends nothing while it rings) until it
// ends. The check forgets an ended leg at its next tick (a second at most);
// a callback on the leg's end cost each leg half a kilobyte of contexts.
func (w *rtpWatch) add(l *leg, hangup func()) {
	if w.timeout <= 0 {
		return
	}
	l.session.Touch()
	w.once.Do(func() { go w.run() })
	w.mu.Lock()
	w.legs[l] = hangup
	w.mu.Unlock()
}

func (w *rtpWatch) run() {
	t := time.NewTicker(min(max(w.timeout/4, 20*time.Millisecond), time.Second))
	defer t.Stop()
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-t.C:
			w.check()
		}
	}
}

// check hangs up the legs silent for too long (outside the lock: a hangup
// sends a BYE).
func (w *rtpWatch) check() {
	var silent []func()
	w.mu.Lock()
	for l, hangup := range w.legs {
		if l.ctx.Err() != nil { // ended
			delete(w.legs, l)
			continue
		}
		if idle := l.session.Idle(); idle > w.timeout {
			l.log.Info().Dur("silent", idle).Msg("no RTP for longer than sip.rtp_timeout: hanging up")
			silent = append(silent, hangup)
			delete(w.legs, l)
		}
	}
	w.mu.Unlock()
	for _, h := range silent {
		go h()
	}
}
