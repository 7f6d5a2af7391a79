package media_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/peerline/peerline/clock/clocktest"
	"github.com/peerline/peerline/pbx/media"
)

type collected struct {
	s   string
	err error
}

// collect runs CollectKeys in the background on a fake clock.
func collect(ctx context.Context, keys chan byte, pressed byte, o media.KeyOptions) (*clocktest.Fake, chan collected) {
	clk := clocktest.New(time.Date(2026, 5, 19, 13, 0, 0, 0, time.UTC))
	out := make(chan collected, 1)
	go func() {
		s, err := media.CollectKeys(ctx, clk, keys, pressed, o)
		out <- collected{s, err}
	}()
	return clk, out
}

func result(t *testing.T, out chan collected) collected {
	t.Helper()
	select {
	case r := <-out:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("CollectKeys did not return")
		return collected{}
	}
}

// advanceUntil moves clk on by step until out has a result (bounded).
func advanceUntil(t *testing.T, clk *clocktest.Fake, out chan collected, step time.Duration) collected {
	t.Helper()
	for range 1000 {
		select {
		case r := <-out:
			return r
		case <-time.After(time.Millisecond):
			clk.Advance(step)
		}
	}
	t.Fatal("CollectKeys did not return")
	return collected{}
}

var pin = media.KeyOptions{Max: 12, Terminator: '#', FirstKey: 10 * time.Second, NextKey: 5 * time.Second}

func TestCollectUntilTheTerminator(t *testing.T) {
	keys := make(chan byte, 16)
	for _, k := range []byte("2468#9") {
		keys <- k
	}
	_, out := collect(context.Background(), keys, '1', pin)
	if r := result(t, out); r.s != "12468" || r.err != nil {
		t.Errorf("%+v", r)
	}
}

func TestCollectStopsAtMax(t *testing.T) {
	keys := make(chan byte, 16)
	keys <- '3'
	_, out := collect(context.Background(), keys, 0, media.KeyOptions{Max: 1})
	if r := result(t, out); r.s != "3" || r.err != nil {
		t.Errorf("%+v", r)
	}
}

func TestCollectTimeouts(t *testing.T) {
	keys := make(chan byte, 16)
	clk, out := collect(context.Background(), keys, 0, pin)
	if r := advanceUntil(t, clk, out, time.Second); !errors.Is(r.err, media.ErrNoInput) {
		t.Errorf("nothing pressed: %+v", r)
	}
	keys <- '4'
	keys <- '2'
	clk, out = collect(context.Background(), keys, 0, pin)
	if r := advanceUntil(t, clk, out, time.Second); r.s != "42" || r.err != nil || clk.Now().Sub(time.Date(2026, 5, 19, 13, 0, 0, 0, time.UTC)) < 5*time.Second {
		t.Errorf("two keys then quiet: %+v at %v", r, clk.Now())
	}
}

func TestCollectEndsWithTheCall(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	keys := make(chan byte, 16)
	keys <- '7'
	_, out := collect(ctx, keys, 0, media.KeyOptions{Terminator: '#'})
	time.Sleep(10 * time.Millisecond)
	cancel()
	if r := result(t, out); r.s != "7" || !errors.Is(r.err, context.Canceled) {
		t.Errorf("%+v", r)
	}
}
