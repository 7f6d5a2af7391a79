package clock

import (
	"context"
	"sync"
	"time"
)

// Loop runs a job when kicked and when the time it last asked for comes, on a
// clock: the outboxes' senders use it. The job returns when it wants to run
// again (zero: only when kicked).
type Loop struct {
	clock Clock
	kick  chan struct{}
	mu    sync.Mutex
	timer Timer
}

// NewLoop makes a loop on c.
func NewLoop(c Clock) *Loop { return &Loop{clock: c, kick: make(chan struct{}, 1)} }

// Kick asks for a run now; kicks while one is pending are one.
func (l *Loop) Kick() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// Run runs job once at start and then on each kick, until ctx ends.
func (l *Loop) Run(ctx context.Context, job func(ctx context.Context) time.Time) {
	l.Kick()
	for {
		select {
		case <-ctx.Done():
			l.mu.Lock()
			if l.timer != nil {
				l.timer.Stop()
			}
			l.mu.Unlock()
			return
		case <-l.kick:
			if next := job(ctx); !next.IsZero() {
				l.mu.Lock()
				if l.timer != nil {
					l.timer.Stop()
				}
				// From the clock's time now, not the job's start: a slow run
				// must not push the next one later.
				l.timer = l.clock.AfterFunc(next.Sub(l.clock.Now()), l.Kick)
				l.mu.Unlock()
			}
		}
	}
}

// Earliest keeps in t the earlier of t and c (a zero t is no time yet).
func Earliest(t *time.Time, c time.Time) {
	if t.IsZero() || c.Before(*t) {
		*t = c
	}
}
