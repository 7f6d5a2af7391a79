// Package linetest is a scripted call for testing the line's flows without telephony.
package linetest

import (
	"context"
	"sync"
	"time"
)

// Call is a fake line.Call that records what the flow did to it.
type Call struct {
	CallID, From string
	PlayTime     time.Duration // how long each prompt takes to play

	mu       sync.Mutex
	answered bool
	played   []string
	hungUp   bool
	done     chan struct{}
	once     sync.Once
}

// NewCall returns a call from number with the given id.
func NewCall(id, from string) *Call { return &Call{CallID: id, From: from, done: make(chan struct{})} }

func (c *Call) ID() string     { return c.CallID }
func (c *Call) Caller() string { return c.From }

func (c *Call) Answer(context.Context) error {
	c.mu.Lock()
	c.answered = true
	c.mu.Unlock()
	return nil
}

// Play records the prompt and takes PlayTime, or less if ctx ends.
func (c *Call) Play(ctx context.Context, prompt string) error {
	c.mu.Lock()
	c.played = append(c.played, prompt)
	c.mu.Unlock()
	select {
	case <-time.After(c.PlayTime):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Call) Hangup(context.Context) error {
	c.mu.Lock()
	c.hungUp = true
	c.mu.Unlock()
	c.CallerHangsUp()
	return nil
}

func (c *Call) Done() <-chan struct{} { return c.done }

// CallerHangsUp ends the call from the far end.
func (c *Call) CallerHangsUp() { c.once.Do(func() { close(c.done) }) }

// Result is what happened to the call.
func (c *Call) Result() (answered bool, played []string, hungUp bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.answered, append([]string(nil), c.played...), c.hungUp
}
