package elks

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/peerline/peerline/internal/clock"
	"github.com/peerline/peerline/line"
)

// errGone ends a leg that 46elks reported ended.
var errGone = errors.New("46elks ended the call")

// errUnsupported is what 46elks cannot do on a connected call.
var errUnsupported = errors.New("46elks cannot do this during a connected call")

// leg is a call at 46elks driven by peerline: each of 46elks's requests for
// it (voice_start, then each action's next) is a turn. A turn hands over the
// result of the action before it and answers with the leg's next action,
// which the flow gives (do); a flow with nothing new within the server's hold
// gets a second of silence played and is asked again.
type leg struct {
	s      *Server
	ref    string // peerline's id for the leg: in URLs, records and logs
	elksID string // 46elks's call id: in memory only
	lineID string
	caller string // in memory only

	ctx context.Context // ends with the leg
	end context.CancelCauseFunc

	actions chan offer // the flow's next action, taken by a turn

	mu        sync.Mutex
	seq       int                 // the last action's number
	waiters   map[int]chan string // an action's number -> who waits for its result
	turns     map[int]*turn       // a request's number -> its answer, for retries
	connected bool                // a connect is in progress: no second one
	hungUp    bool
}

// offer is an action the flow gives, with the context it gives it in: a turn
// skips an offer whose context has ended (ringback the flow stopped while the
// leg was in a connect must not play after it).
type offer struct {
	ctx    context.Context
	action Action
	seq    int // its number; 0 for a hangup
}

// turn is the answer to one of 46elks's requests, once known.
type turn struct {
	done   chan struct{}
	action Action
	err    error
}

func (s *Server) newLeg(elksID, lineID, caller string) *leg {
	l := &leg{s: s, ref: line.NewCallID(), elksID: elksID, lineID: lineID, caller: caller,
		actions: make(chan offer), waiters: map[int]chan string{}, turns: map[int]*turn{}}
	l.ctx, l.end = context.WithCancelCause(s.ctx)
	s.legs[l.ref] = l
	s.byElks[elksID] = l
	return l
}

// turn answers the request that reports the result of action seq (0: the
// call's start): the result goes to whoever waits for it, and the answer is
// the leg's next action. A request retried meanwhile or later gets the same
// answer, so no action is taken twice; one 46elks gave up on before it had
// an answer is taken afresh when retried.
func (l *leg) turn(ctx context.Context, seq int, result string) (Action, error) {
	l.mu.Lock()
	if t, ok := l.turns[seq]; ok {
		l.mu.Unlock()
		select {
		case <-t.done:
			return t.action, t.err
		case <-ctx.Done():
			return Action{}, ctx.Err()
		}
	}
	t := &turn{done: make(chan struct{})}
	l.turns[seq] = t
	if w, ok := l.waiters[seq]; ok {
		delete(l.waiters, seq)
		w <- result
	}
	l.mu.Unlock()
	t.action, t.err = l.take(ctx, seq == 0)
	if t.err != nil {
		l.mu.Lock()
		delete(l.turns, seq)
		l.mu.Unlock()
	}
	close(t.done)
	return t.action, t.err
}

// take waits for the flow's next action; first is the call's first.
func (l *leg) take(ctx context.Context, first bool) (Action, error) {
	a, err := l.next(ctx)
	if err == nil && first {
		a.WhenHangup = l.s.url("hangup", l.ref)
	}
	return a, err
}

// next is the flow's next action that is still wanted, a second of silence
// when the flow has none within the hold, or hangup once the leg has ended.
func (l *leg) next(ctx context.Context) (Action, error) {
	hold, timer := clock.After(l.s.clock, l.s.hold)
	defer timer.Stop()
	for {
		select {
		case o := <-l.actions:
			if o.ctx.Err() == nil {
				return o.action, nil
			}
			l.forget(o.seq) // stale: its flow step has moved on
		case <-hold:
			a, _ := l.number(Action{Play: l.s.soundURL(l.lineID, "silence", -1)}, nil)
			return a, nil
		case <-l.ctx.Done():
			return Action{Hangup: "reject"}, nil
		case <-ctx.Done(): // 46elks gave up on the request: it will retry it
			return Action{}, ctx.Err()
		}
	}
}

// number gives a (unless it is a hangup, which has none) its number and
// next address, and registers wait (nil: nobody waits) for its result.
func (l *leg) number(a Action, wait chan string) (Action, int) {
	if a.Hangup != "" {
		return a, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	a.Next = l.s.url("next", l.ref, fmt.Sprint(l.seq))
	if wait != nil {
		l.waiters[l.seq] = wait
	}
	return a, l.seq
}

// forget drops who waits for action seq's result: the action was not given.
func (l *leg) forget(seq int) {
	l.mu.Lock()
	delete(l.waiters, seq)
	l.mu.Unlock()
}

// give hands a to the leg's next turn and returns a channel for its result.
func (l *leg) give(ctx context.Context, a Action) (<-chan string, error) {
	ch := make(chan string, 1)
	a, seq := l.number(a, ch)
	o := offer{ctx: ctx, action: a, seq: seq}
	select {
	case l.actions <- o:
		return ch, nil
	case <-ctx.Done():
		l.forget(o.seq)
		return nil, ctx.Err()
	case <-l.ctx.Done():
		l.forget(o.seq)
		return nil, context.Cause(l.ctx)
	}
}

// do gives a and waits for its result. A ctx that ends returns at once; the
// action itself runs to its end at 46elks.
func (l *leg) do(ctx context.Context, a Action) (string, error) {
	ch, err := l.give(ctx, a)
	if err != nil {
		return "", err
	}
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		return "", ctx.Err()
	case <-l.ctx.Done():
		return "", context.Cause(l.ctx)
	}
}

func (l *leg) ID() string                       { return l.ref }
func (l *leg) Caller() string                   { return l.caller }
func (l *leg) Done() <-chan struct{}            { return l.ctx.Done() }
func (l *leg) Answer(ctx context.Context) error { return nil } // the first action answers
func (l *leg) Context() context.Context         { return l.ctx }
func (l *leg) promptURL(name string) (string, bool) {
	if _, ok := l.s.prompts[l.lineID][name]; !ok {
		return "", false
	}
	return l.s.soundURL(l.lineID, name, -1), true
}

// Play plays a prompt to its end (46elks has no barge-in on play).
func (l *leg) Play(ctx context.Context, name string) error {
	u, ok := l.promptURL(name)
	if !ok {
		return fmt.Errorf("prompt %q: %w", name, line.ErrNoPrompt)
	}
	r, err := l.do(ctx, Action{Play: u})
	if err == nil && r == "failed" {
		err = fmt.Errorf("46elks could not play %q", name)
	}
	return err
}

// Ring plays ringback in parts until ctx ends.
func (l *leg) Ring(ctx context.Context) error { return l.loop(ctx, "ringback") }

// Hold loops the line's hold music in parts (silence without any) until ctx ends.
func (l *leg) Hold(ctx context.Context) error {
	if _, ok := l.promptURL("hold-music"); ok {
		return l.loop(ctx, "hold-music")
	}
	return l.loop(ctx, "silence")
}

// loop plays a sound part after part: 46elks plays an action to its end, so
// the next step waits at most a part.
func (l *leg) loop(ctx context.Context, name string) error {
	for part := 0; ctx.Err() == nil; part++ {
		if _, err := l.do(ctx, Action{Play: l.s.soundURL(l.lineID, name, part)}); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	return nil
}

// Keys is nil: 46elks reports keys only to an ivr, which Collect runs.
func (l *leg) Keys() <-chan byte { return nil }

// Collect gathers keys with 46elks's ivr: the prompts before the last play
// whole, the last is the ivr's sound. 46elks ends the keys at # or at Max.
func (l *leg) Collect(ctx context.Context, o line.CollectOptions) (string, error) {
	prompts := o.Prompts
	if len(prompts) == 0 {
		prompts = []string{""}
	}
	for _, p := range prompts[:len(prompts)-1] {
		if err := l.Play(ctx, p); err != nil && !errors.Is(err, line.ErrNoPrompt) {
			return "", err
		}
	}
	sound := l.s.soundURL(l.lineID, "silence", -1)
	if u, ok := l.promptURL(prompts[len(prompts)-1]); ok {
		sound = u
	}
	// 46elks waits this long for the keys after the sound. Without a first
	// wait (an announcement that only listens for the agent key while it
	// plays) the least it allows, a second.
	wait := o.FirstKey
	if wait > 0 {
		wait = max(wait, o.NextKey)
	}
	digits := o.Max
	if digits <= 0 {
		digits = 32 // until # or the wait
	}
	r, err := l.do(ctx, Action{IVR: sound, Digits: digits, Timeout: seconds(wait, 1, 30), Repeat: 1})
	if err != nil {
		return "", err
	}
	if !keysPattern.MatchString(r) {
		return "", line.ErrNoInput // failed, or no keys
	}
	return o.Keys(r)
}

func seconds(d time.Duration, lo, hi int) int {
	return min(hi, max(lo, int((d+time.Second-1)/time.Second)))
}

// Hangup ends the leg: its next action is hangup.
func (l *leg) Hangup(ctx context.Context) error {
	l.mu.Lock()
	done := l.hungUp
	l.hungUp = true
	l.mu.Unlock()
	if done || l.ctx.Err() != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.s.hold+30*time.Second)
	defer cancel()
	_, err := l.give(ctx, Action{Hangup: "reject"})
	l.end(errGone)
	if errors.Is(err, errGone) {
		return nil
	}
	return err
}

// Conference: 46elks joins no three parties.
func (l *leg) Conference(ctx context.Context, others ...line.Call) (line.Bridge, error) {
	return nil, line.ErrNoConference
}
