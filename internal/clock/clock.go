// Package clock is the injected source of time. Production code uses Real; tests use
// clocktest.Fake, so that a whole day of a line runs in milliseconds.
package clock

import "time"

// Clock tells the time and runs functions later.
type Clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc.
type Timer interface {
	// Stop prevents the function from running; false if it already ran or was stopped.
	Stop() bool
}

// After is a channel closed once d has passed on c, and the timer to stop it.
func After(c Clock, d time.Duration) (<-chan struct{}, Timer) {
	due := make(chan struct{})
	return due, c.AfterFunc(d, func() { close(due) })
}

// Real is the system clock.
type Real struct{}

func (Real) Now() time.Time { return time.Now() }

func (Real) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
