package webhook

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/pbx/prompts"
)

// errGone ends a leg that its PBX hung up or went silent on.
var (
	errGone   = errors.New("the PBX ended the call")
	errSilent = errors.New("the PBX went silent")
)

// keyBuffer is how many reported keys a leg keeps until they are collected.
const keyBuffer = 32

// leg is one call leg driven by a PBX: the flows' calls become actions in the
// leg's queue, which the PBX takes one at a time in the answers to its results.
type leg struct {
	s      *Server
	id     string // the PBX's call_id: a key of the protocol, never stored or logged
	ref    string // peerline's own id for the leg (line.NewCallID), for records and logs
	pbx    string // the PBX that owns the leg
	lineID string
	caller string // in memory only

	ctx context.Context // ends with the leg
	end context.CancelCauseFunc

	keys     chan byte
	answered chan struct{} // a dialled leg: closed when answered
	failed   chan error    // a dialled leg: why it was not

	mu        sync.Mutex
	actions   []Action       // every action given; actions[i].Seq == i
	delivered int            // the seq the PBX runs now
	results   map[int]Result // what the PBX said of each seq
	waiters   map[int]chan Result
	changed   chan struct{} // closed and replaced when an action is queued or the leg ends
	polling   int           // requests of the PBX's open for the leg
	lastSeen  time.Time
	gone      bool // the PBX ended it: further requests get 410
}

func (s *Server) newLeg(id, pbx, lineID, caller string, first Action) *leg {
	l := &leg{s: s, id: id, ref: line.NewCallID(), pbx: pbx, lineID: lineID, caller: caller, keys: make(chan byte, keyBuffer),
		answered: make(chan struct{}), failed: make(chan error, 1),
		actions: []Action{first}, results: map[int]Result{}, waiters: map[int]chan Result{},
		changed: make(chan struct{}), lastSeen: s.clock.Now()}
	l.ctx, l.end = context.WithCancelCause(s.ctx)
	s.watchSilence(l)
	return l
}

// queue adds an action and returns a channel for its result.
func (l *leg) queue(a Action) <-chan Result {
	l.mu.Lock()
	defer l.mu.Unlock()
	a.Seq = len(l.actions)
	l.actions = append(l.actions, a)
	ch := make(chan Result, 1)
	l.waiters[a.Seq] = ch
	l.signal()
	return ch
}

// signal wakes the PBX's requests waiting for an action; l.mu is held.
func (l *leg) signal() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// await waits for an action's result; a leg that ends, or ctx, stops the wait.
func (l *leg) await(ctx context.Context, ch <-chan Result) (Result, error) {
	select {
	case r := <-ch:
		if r.Result == ResFailed {
			return r, fmt.Errorf("the PBX failed the action: %s", r.Cause)
		}
		return r, nil
	case <-ctx.Done():
		return Result{}, ctx.Err()
	case <-l.ctx.Done():
		return Result{}, context.Cause(l.ctx)
	}
}

// do queues an action and waits for its result.
func (l *leg) do(ctx context.Context, a Action) error {
	if l.ctx.Err() != nil {
		return context.Cause(l.ctx)
	}
	_, err := l.await(ctx, l.queue(a))
	return err
}

// goOn queues an action that lasts until the next one and waits for ctx or
// the leg's end.
func (l *leg) goOn(ctx context.Context, a Action) error {
	if l.ctx.Err() != nil {
		return nil
	}
	l.queue(a)
	select {
	case <-ctx.Done():
	case <-l.ctx.Done():
	}
	return nil
}

func (l *leg) ID() string     { return l.ref }
func (l *leg) Caller() string { return l.caller }

// Context ends with the leg (line's withCaller waits on it without a goroutine).
func (l *leg) Context() context.Context { return l.ctx }

func (l *leg) Done() <-chan struct{}            { return l.ctx.Done() }
func (l *leg) Answer(ctx context.Context) error { return l.do(ctx, Action{Action: ActAnswer}) }

// Play has the PBX play a prompt of the line's, fetched from peerline by URL.
func (l *leg) Play(ctx context.Context, name string) error { return l.play(ctx, name, false) }

func (l *leg) play(ctx context.Context, name string, bargeIn bool) error {
	url, err := l.s.promptURL(l.lineID, name)
	if err != nil {
		return err
	}
	return l.do(ctx, Action{Action: ActPlay, Prompts: []string{url}, BargeIn: bargeIn})
}

func (l *leg) Ring(ctx context.Context) error { return l.goOn(ctx, Action{Action: ActRingback}) }

// Hold loops the line's hold music (silence without one) until ctx ends.
func (l *leg) Hold(ctx context.Context) error {
	a := Action{Action: ActHold}
	if url, err := l.s.promptURL(l.lineID, prompts.HoldMusic); err == nil {
		a.Prompts = []string{url}
	}
	return l.goOn(ctx, a)
}

// Keys are the keys the PBX reported that no Collect took.
func (l *leg) Keys() <-chan byte { return l.keys }

// Collect gathers the keys the PBX reports; the prompts play with barge-in, so
// the PBX stops them at a key as peerline does on SIP.
func (l *leg) Collect(ctx context.Context, o line.CollectOptions) (string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(l.ctx, cancel)
	defer stop()
	play := func(ctx context.Context, name string) error { return l.play(ctx, name, true) }
	return line.Collect(ctx, l.s.clock, l.keys, play, o)
}

// Dial has the PBX start a new leg and waits until it answers, fails, or ctx
// ends (then the new leg is hung up).
func (l *leg) Dial(ctx context.Context, t line.Target, o line.DialOptions) (line.Call, error) {
	if l.ctx.Err() != nil {
		return nil, context.Cause(l.ctx)
	}
	if t.Phone == "" && t.SIPURI == "" {
		return nil, fmt.Errorf("dial %s: %w", t.Agent, line.ErrUnreachable)
	}
	n := l.s.add(l.s.newLeg(l.s.legID(l.id), l.pbx, l.lineID, "", Action{Action: ActDial}))
	a := Action{Action: ActDial, Leg: n.id, Target: &Target{Phone: t.Phone, SIPURI: t.SIPURI},
		CallerID: o.CallerID, CallerName: o.CallerName, RingTimeout: seconds(o.RingTimeout), TimeLimit: seconds(o.Limit)}
	for _, w := range o.Warnings {
		a.Warnings = append(a.Warnings, seconds(w))
	}
	l.queue(a)
	select {
	case <-n.answered:
		return n, nil
	case err := <-n.failed:
		n.end(err)
		return nil, err
	case <-n.ctx.Done(): // hung up or silent while it rang
		return nil, fmt.Errorf("dial: %w", line.ErrUnreachable)
	case <-ctx.Done():
		n.Hangup(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("dial: %w", context.Cause(ctx))
	case <-l.ctx.Done():
		n.Hangup(context.WithoutCancel(ctx))
		return nil, context.Cause(l.ctx)
	}
}

func seconds(d time.Duration) int { return int((d + time.Second - 1) / time.Second) }

// Hangup queues the hangup for the PBX and ends the leg at once.
func (l *leg) Hangup(context.Context) error {
	if l.ctx.Err() != nil {
		return nil
	}
	l.queue(Action{Action: ActHangup})
	l.end(errHungUp)
	return nil
}

var errHungUp = errors.New("peerline hung up")

// Bridge connects l with other at the PBX until Stop or either leg ends.
func (l *leg) Bridge(ctx context.Context, other line.Call) (line.Bridge, error) {
	o, ok := other.(*leg)
	if !ok || o.pbx != l.pbx {
		return nil, fmt.Errorf("bridge: %T is not a leg of this PBX", other)
	}
	if l.ctx.Err() != nil || o.ctx.Err() != nil {
		return nil, errors.New("bridge: a leg has ended")
	}
	l.queue(Action{Action: ActBridge, Leg: o.id})
	return newBridge(l, o), nil
}

// Conference has the PBX join this leg and others so that each hears all the
// others; a PBX that cannot says so, and Conference is ErrNoConference.
func (l *leg) Conference(ctx context.Context, others ...line.Call) (line.Bridge, error) {
	legs := []*leg{l}
	var ids []string
	for _, other := range others {
		o, ok := other.(*leg)
		if !ok || o.pbx != l.pbx {
			return nil, fmt.Errorf("conference: %T is not a leg of this PBX", other)
		}
		if o.ctx.Err() != nil {
			return nil, errors.New("conference: a leg has ended")
		}
		legs, ids = append(legs, o), append(ids, o.id)
	}
	if l.ctx.Err() != nil {
		return nil, errors.New("conference: a leg has ended")
	}
	r, err := l.await(ctx, l.queue(Action{Action: ActConference, Legs: ids}))
	if r.Result == ResFailed && r.Cause == CauseUnsupported {
		return nil, fmt.Errorf("%w (%s)", line.ErrNoConference, l.pbx)
	}
	if err != nil {
		return nil, err
	}
	return newBridge(legs...), nil
}

// newBridge watches legs talking at the PBX: done when one ends or Stop.
func newBridge(legs ...*leg) *bridge {
	b := &bridge{legs: legs, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		ended := make(chan struct{}, 1)
		for _, l := range legs {
			stop := context.AfterFunc(l.ctx, func() {
				select {
				case ended <- struct{}{}:
				default:
				}
			})
			defer stop()
		}
		select {
		case <-ended:
		case <-b.stop:
		}
	}()
	return b
}

type bridge struct {
	legs []*leg
	once sync.Once
	stop chan struct{}
	done chan struct{}
}

func (b *bridge) Done() <-chan struct{} { return b.done }

// Stop ends the bridge; both legs stay up.
func (b *bridge) Stop() {
	b.once.Do(func() {
		close(b.stop)
		if a := b.legs[0]; a.ctx.Err() == nil {
			a.queue(Action{Action: ActUnbridge})
		}
	})
}

// Whisper has the PBX play prompts to one leg of the bridge; the other hears
// none of it.
func (b *bridge) Whisper(to line.Call, prompts ...string) error {
	l, ok := to.(*leg)
	if !ok || !slices.Contains(b.legs, l) {
		return errors.New("whisper: not a leg of this bridge")
	}
	a := Action{Action: ActPlay}
	for _, p := range prompts {
		url, err := l.s.promptURL(l.lineID, p)
		if err != nil {
			return err
		}
		a.Prompts = append(a.Prompts, url)
	}
	if l.ctx.Err() == nil {
		l.queue(a)
	}
	return nil
}
