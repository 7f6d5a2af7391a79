// Package clocktest is a fake clock for tests.
package clocktest

import (
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/peerline/peerline/internal/clock"
)

// Fake is a clock that only moves when told to. Functions due are run by Advance
// and Set, in the order of their due time, outside the clock's lock.
type Fake struct {
	mu     sync.Mutex
	now    time.Time
	timers []*timer
}

var _ clock.Clock = (*Fake)(nil)

// New returns a fake clock set to now.
func New(now time.Time) *Fake { return &Fake{now: now} }

func (c *Fake) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *Fake) AfterFunc(d time.Duration, f func()) clock.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &timer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

// Armed reports whether a function is due at exactly t: a test waits for it
// before it moves the clock past t, so that the jump cannot come before the
// code under test has set its timer.
func (c *Fake) Armed(t time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, x := range c.timers {
		if x.at.Equal(t) {
			return true
		}
	}
	return false
}

// WaitArmed waits (bounded, 10 s of wall time) until a function is due at
// exactly at, and fails tb if none comes: see Armed.
func (c *Fake) WaitArmed(tb testing.TB, at time.Time) {
	tb.Helper()
	for deadline := time.Now().Add(10 * time.Second); !c.Armed(at); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("no timer due at %s", at)
		}
	}
}

// Next is when the earliest function is due and how many are waiting; ok is
// false when none is. A test that runs code to its end jumps from deadline to
// deadline with it, never past one the code has yet to set.
func (c *Fake) Next() (at time.Time, waiting int, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, x := range c.timers {
		if !ok || x.at.Before(at) {
			at, ok = x.at, true
		}
	}
	return at, len(c.timers), ok
}

// Advance moves the clock forward by d, running every function that falls due.
func (c *Fake) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// Set moves the clock to t (never backwards), running every function that falls due.
func (c *Fake) Set(t time.Time) {
	for {
		c.mu.Lock()
		sort.SliceStable(c.timers, func(i, j int) bool { return c.timers[i].at.Before(c.timers[j].at) })
		if len(c.timers) == 0 || c.timers[0].at.After(t) {
			if t.After(c.now) {
				c.now = t
			}
			c.mu.Unlock()
			return
		}
		next := c.timers[0]
		c.timers = c.timers[1:]
		if next.at.After(c.now) {
			c.now = next.at
		}
		c.mu.Unlock()
		next.f()
	}
}

type timer struct {
	c  *Fake
	at time.Time
	f  func()
}

func (t *timer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	for i, x := range t.c.timers {
		if x == t {
			t.c.timers = append(t.c.timers[:i], t.c.timers[i+1:]...)
			return true
		}
	}
	return false
}
