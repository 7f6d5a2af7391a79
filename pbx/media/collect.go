package media

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/peerline/peerline/internal/clock"
)

// KeyOptions say how keys are gathered into an input such as a PIN or a menu choice.
type KeyOptions struct {
	Accept     string        // the keys that count; others are ignored. "": every key
	Max        int           // the input ends at this many keys; 0: no limit
	Terminator byte          // ends the input and is not part of it (usually '#'); 0: none
	FirstKey   time.Duration // how long to wait for the first key; 0: only a key already pressed counts
	NextKey    time.Duration // how long to wait for each further key; 0: until ctx ends
}

func (o KeyOptions) accepts(k byte) bool {
	return o.Accept == "" || strings.IndexByte(o.Accept, k) >= 0 || (o.Terminator != 0 && k == o.Terminator)
}

// ErrNoInput means no key came before the first-key timeout.
var ErrNoInput = errors.New("no key pressed")

// Collect plays prompts in turn with play while it listens on keys: the first
// accepted key stops the prompts (barge-in) and starts the input, which then goes
// on as CollectKeys says. The prompt is left for the next one to play once
// Collect returns.
func Collect(ctx context.Context, clk clock.Clock, keys <-chan byte, play func(context.Context, string) error,
	prompts []string, o KeyOptions) (string, error) {
	first, err := playUntilKey(ctx, keys, play, prompts, o)
	if err != nil {
		return "", err
	}
	return CollectKeys(ctx, clk, keys, first, o)
}

// playUntilKey plays prompts until they end or an accepted key comes; it
// returns that key, or 0.
func playUntilKey(ctx context.Context, keys <-chan byte, play func(context.Context, string) error,
	prompts []string, o KeyOptions) (byte, error) {
	if len(prompts) == 0 {
		return 0, nil
	}
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() {
		for _, p := range prompts {
			if err := play(pctx, p); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for {
		select {
		case k := <-keys:
			if !o.accepts(k) {
				continue
			}
			stop()
			<-done // the media is free for the next prompt
			return k, nil
		case err := <-done:
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			return 0, err
		}
	}
}

// CollectKeys gathers keys from keys (pressed is a key already pressed, say during
// a prompt it cut short; 0 for none) until the terminator, Max keys, or a quiet
// NextKey: the input so far is the answer then. Keys not accepted are ignored.
// Timeouts run on clk.
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
		k, err := nextKey(ctx, clk, keys, o, len(got) == 0 && pressed == 0)
		switch {
		case err != nil:
			return string(got), err
		case k == 0 && len(got) == 0 && pressed == 0:
			return "", ErrNoInput
		case k == 0:
			return string(got), nil
		case add(k):
			return string(got), nil
		}
	}
}

// nextKey waits for the next accepted key: FirstKey long for the first one,
// NextKey for the others. 0 is the timeout.
func nextKey(ctx context.Context, clk clock.Clock, keys <-chan byte, o KeyOptions, first bool) (byte, error) {
	wait := o.NextKey
	if first {
		if o.FirstKey <= 0 {
			for {
				select {
				case k := <-keys:
					if o.accepts(k) {
						return k, nil
					}
				default:
					return 0, nil
				}
			}
		}
		wait = o.FirstKey
	}
	timeout := make(chan struct{})
	if wait > 0 {
		t := clk.AfterFunc(wait, func() { close(timeout) })
		defer t.Stop()
	}
	for {
		select {
		case k := <-keys:
			if o.accepts(k) {
				return k, nil
			}
		case <-timeout:
			return 0, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}
