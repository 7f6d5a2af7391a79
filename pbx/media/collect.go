package media

import (
	"context"
	"errors"
	"time"

	"github.com/peerline/peerline/clock"
)

// KeyOptions say how keys are gathered into an input such as a PIN or a menu choice.
type KeyOptions struct {
	Max        int           // the input ends at this many keys; 0: no limit
	Terminator byte          // ends the input and is not part of it (usually '#'); 0: none
	FirstKey   time.Duration // how long to wait for the first key; 0: until ctx ends
	NextKey    time.Duration // how long to wait for each further key; 0: until ctx ends
}

// ErrNoInput means no key came before the first-key timeout.
var ErrNoInput = errors.New("no key pressed")

// CollectKeys gathers keys from keys (pressed is a key already pressed, say during
// a prompt it cut short; 0 for none) until the terminator, Max keys, or a quiet
// NextKey: the input so far is the answer then. Timeouts run on clk.
func CollectKeys(ctx context.Context, clk clock.Clock, keys <-chan byte, pressed byte, o KeyOptions) (string, error) {
	var got []byte
	add := func(k byte) bool { // reports whether the input is complete
		if o.Terminator != 0 && k == o.Terminator {
			return true
		}
		got = append(got, k)
		return o.Max > 0 && len(got) >= o.Max
	}
	if pressed != 0 && add(pressed) {
		return string(got), nil
	}
	for {
		wait := o.NextKey
		if len(got) == 0 && pressed == 0 {
			wait = o.FirstKey
		}
		timeout := make(chan struct{})
		var t clock.Timer
		if wait > 0 {
			t = clk.AfterFunc(wait, func() { close(timeout) })
		}
		var k byte
		select {
		case k = <-keys:
		case <-timeout:
		case <-ctx.Done():
		}
		if t != nil {
			t.Stop()
		}
		switch {
		case ctx.Err() != nil:
			return string(got), ctx.Err()
		case k == 0 && len(got) == 0 && pressed == 0:
			return "", ErrNoInput
		case k == 0:
			return string(got), nil
		case add(k):
			return string(got), nil
		}
	}
}
