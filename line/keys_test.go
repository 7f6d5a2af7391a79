package line_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/peerline/peerline/internal/clock/clocktest"
	"github.com/peerline/peerline/line"
)

type collected struct {
	s   string
	err error
}

// collect runs Collect without prompts in the background on a fake clock.
func collect(ctx context.Context, keys chan byte, o line.CollectOptions) (*clocktest.Fake, chan collected) {
	clk := clocktest.New(time.Date(2026, 5, 19, 13, 0, 0, 0, time.UTC))
	out := make(chan collected, 1)
	go func() {
		s, err := line.Collect(ctx, clk, keys, nil, o)
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
		t.Fatal("Collect did not return")
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
	t.Fatal("Collect did not return")
	return collected{}
}

var pinKeys = line.CollectOptions{Max: 12, Terminator: '#', FirstKey: 10 * time.Second, NextKey: 5 * time.Second}

func TestCollectUntilTheTerminator(t *testing.T) {
	keys := make(chan byte, 16)
	for _, k := range []byte("12468#9") {
		keys <- k
	}
	_, out := collect(context.Background(), keys, pinKeys)
	if r := result(t, out); r.s != "12468" || r.err != nil {
		t.Errorf("%+v", r)
	}
}

func TestCollectStopsAtMax(t *testing.T) {
	keys := make(chan byte, 16)
	keys <- '3'
	_, out := collect(context.Background(), keys, line.CollectOptions{Max: 1})
	if r := result(t, out); r.s != "3" || r.err != nil {
		t.Errorf("%+v", r)
	}
}

func TestCollectTimeouts(t *testing.T) {
	keys := make(chan byte, 16)
	clk, out := collect(context.Background(), keys, pinKeys)
	if r := advanceUntil(t, clk, out, time.Second); !errors.Is(r.err, line.ErrNoInput) {
		t.Errorf("nothing pressed: %+v", r)
	}
	keys <- '4'
	keys <- '2'
	clk, out = collect(context.Background(), keys, pinKeys)
	if r := advanceUntil(t, clk, out, time.Second); r.s != "42" || r.err != nil || clk.Now().Sub(time.Date(2026, 5, 19, 13, 0, 0, 0, time.UTC)) < 5*time.Second {
		t.Errorf("two keys then quiet: %+v at %v", r, clk.Now())
	}
}

func TestCollectEndsWithTheCall(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	keys := make(chan byte, 16)
	keys <- '7'
	_, out := collect(ctx, keys, line.CollectOptions{Terminator: '#'})
	time.Sleep(10 * time.Millisecond)
	cancel()
	if r := result(t, out); r.s != "7" || !errors.Is(r.err, context.Canceled) {
		t.Errorf("%+v", r)
	}
}

// slowPrompts is a play function whose prompts last until ctx ends or a second
// passes, and which records what it started and whether it was cut short.
type slowPrompts struct {
	started []string
	cut     bool
}

func (p *slowPrompts) play(ctx context.Context, name string) error {
	p.started = append(p.started, name)
	select {
	case <-ctx.Done():
		p.cut = true
		return ctx.Err()
	case <-time.After(time.Second):
		return nil
	}
}

func TestCollectBargesIn(t *testing.T) {
	keys := make(chan byte, 16)
	p := &slowPrompts{}
	clk := clocktest.New(time.Date(2026, 5, 19, 13, 0, 0, 0, time.UTC))
	go func() {
		time.Sleep(20 * time.Millisecond)
		for _, k := range []byte("5*12#") { // '*' is not accepted: ignored
			keys <- k
		}
	}()
	got, err := line.Collect(context.Background(), clk, keys, p.play,
		line.CollectOptions{Prompts: []string{"agent-pin", "never"}, Accept: "0123456789", Terminator: '#', FirstKey: 10 * time.Second, NextKey: 5 * time.Second})
	if got != "512" || err != nil {
		t.Errorf("got %q, %v", got, err)
	}
	if len(p.started) != 1 || !p.cut {
		t.Errorf("the first key should stop the first prompt: started %v, cut %v", p.started, p.cut)
	}
}

func TestCollectWithoutWaitingAfterThePrompts(t *testing.T) {
	keys := make(chan byte, 16)
	keys <- '3' // not accepted: the greeting plays to its end
	clk := clocktest.New(time.Date(2026, 5, 19, 13, 0, 0, 0, time.UTC))
	quick := func(context.Context, string) error { return nil }
	_, err := line.Collect(context.Background(), clk, keys, quick, line.CollectOptions{Prompts: []string{"greeting"}, Accept: "*", Max: 1})
	if !errors.Is(err, line.ErrNoInput) {
		t.Errorf("got %v", err)
	}
	keys <- '*'
	if got, err := line.Collect(context.Background(), clk, keys, quick, line.CollectOptions{Prompts: []string{"greeting"}, Accept: "*", Max: 1}); got != "*" || err != nil {
		t.Errorf("a key pressed as the prompt ended: %q, %v", got, err)
	}
}

func TestCollectReportsAFailedPrompt(t *testing.T) {
	broken := errors.New("no such prompt")
	clk := clocktest.New(time.Date(2026, 5, 19, 13, 0, 0, 0, time.UTC))
	_, err := line.Collect(context.Background(), clk, make(chan byte), func(context.Context, string) error { return broken },
		line.CollectOptions{Prompts: []string{"x"}, FirstKey: time.Second})
	if !errors.Is(err, broken) {
		t.Errorf("got %v", err)
	}
}

// TestKeysPressedAllAtOnce: keys a PBX gathered itself take Collect's rules.
func TestKeysPressedAllAtOnce(t *testing.T) {
	pin := line.CollectOptions{Accept: "0123456789", Terminator: '#', Max: 6}
	for _, c := range []struct {
		o       line.CollectOptions
		pressed string
		want    string
		err     error
	}{
		{pin, "4829#", "4829", nil},
		{pin, "48*29#7", "4829", nil},              // * is not accepted; after # nothing counts
		{pin, "48291577", "482915", nil},           // Max
		{pin, "#", "", nil},                        // only the terminator: an answer ("my own number")
		{pin, "", "", line.ErrNoInput},             // nothing pressed
		{pin, "**", "", line.ErrNoInput},           // nothing accepted
		{line.CollectOptions{}, "1#2", "1#2", nil}, // no rules: all of it
	} {
		got, err := c.o.Keys(c.pressed)
		if got != c.want || !errors.Is(err, c.err) || (c.err == nil && err != nil) {
			t.Errorf("%+v: Keys(%q) = %q, %v; want %q, %v", c.o, c.pressed, got, err, c.want, c.err)
		}
	}
}
