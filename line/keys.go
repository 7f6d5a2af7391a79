package line

import (
	"context"
	"strings"

	"github.com/peerline/peerline/internal/clock"
)

func (o CollectOptions) accepts(k byte) bool {
	return o.Accept == "" || strings.IndexByte(o.Accept, k) >= 0 || (o.Terminator != 0 && k == o.Terminator)
}

// Collect is how every driver gathers keys for the flows (see CollectOptions):
// keys are what the leg's far end pressed, in order, and play plays one prompt
// of the line's until it ends or its ctx does. The first accepted key stops the
// prompts (barge-in) and starts the input; the prompt is left for the next one
// to play once Collect returns. Timeouts run on clk. A driver only delivers keys
// and plays audio; the input rules live here, once.
func Collect(ctx context.Context, clk clock.Clock, keys <-chan byte, play func(context.Context, string) error,
	o CollectOptions) (string, error) {
	first, err := playUntilKey(ctx, keys, play, o)
	if err != nil {
		return "", err
	}
	return collectKeys(ctx, clk, keys, first, o)
}

// playUntilKey plays prompts until they end or an accepted key comes; it
// returns that key, or 0.
func playUntilKey(ctx context.Context, keys <-chan byte, play func(context.Context, string) error,
	o CollectOptions) (byte, error) {
	if len(o.Prompts) == 0 {
		return 0, nil
	}
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() {
		for _, p := range o.Prompts {
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

// collectKeys gathers keys from keys (pressed is a key already pressed, say during
// a prompt it cut short; 0 for none) until the terminator, Max keys, or a quiet
// NextKey: the input so far is the answer then. Keys not accepted are ignored.
func collectKeys(ctx context.Context, clk clock.Clock, keys <-chan byte, pressed byte, o CollectOptions) (string, error) {
	var got []byte
	add := func(k byte) bool { return o.add(&got, k) }
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

// add adds an accepted key to the input got and reports whether the input is
// complete: the terminator (not part of it) or Max keys.
func (o CollectOptions) add(got *[]byte, k byte) bool {
	if o.Terminator != 0 && k == o.Terminator {
		return true
	}
	*got = append(*got, k)
	return o.Max > 0 && len(*got) >= o.Max
}

// Keys is the input in keys pressed all at once, for a PBX that gathers keys
// itself (46elks's ivr): the rules of Collect, without its waiting. Keys not
// accepted are ignored; the input ends at the terminator or Max keys. Nothing
// but the terminator is an answer (""); no keys at all is ErrNoInput.
func (o CollectOptions) Keys(pressed string) (string, error) {
	var got []byte
	for i := range len(pressed) {
		if k := pressed[i]; o.accepts(k) && o.add(&got, k) {
			return string(got), nil
		}
	}
	if len(got) == 0 {
		return "", ErrNoInput
	}
	return string(got), nil
}

// nextKey waits for the next accepted key: FirstKey long for the first one,
// NextKey for the others. 0 is the timeout.
func nextKey(ctx context.Context, clk clock.Clock, keys <-chan byte, o CollectOptions, first bool) (byte, error) {
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
	var timeout <-chan struct{} // nil: no timeout
	if wait > 0 {
		due, t := clock.After(clk, wait)
		defer t.Stop()
		timeout = due
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
