package line

import (
	"context"
	"errors"
	"github.com/peerline/peerline/line/hours"
	"time"

	"github.com/peerline/peerline/internal/clock"
	"github.com/peerline/peerline/roster"
)

// connect is the caller's flow on an open line with agents logged in: greeting,
// then ringback while a free agent's phone rings, or the queue while every agent
// is busy, then the bridge until either side hangs up. A caller who has not been
// queued is answered only when an agent has answered, so a caller who gives up
// while it rings cancels the agent's leg too.
func (ls *Lines) connect(ctx context.Context, l *Line, c Call, rec *Record) error {
	ctx, cancel := withCaller(ctx, c)
	defer cancel()
	leg, err := ls.putThrough(ctx, l, c, rec)
	if leg == nil {
		return err
	}
	agent := rec.Agent
	defer ls.cooldown(l, agent)
	defer leg.Hangup(context.WithoutCancel(ctx))
	err = ls.talk(ctx, l, c, leg, rec)
	ls.remember(l, agent, c.Caller(), rec)
	return err
}

// putThrough greets the caller, keeps them in the queue until an agent
// answers and answers the call: it returns the agent's leg, or nil and the
// caller told why not. It is apart from connect, whose frame stays on the
// call's stack for as long as the call lasts (see pbx/sip's takeCall).
func (ls *Lines) putThrough(ctx context.Context, l *Line, c Call, rec *Record) (Call, error) {
	w := ls.queue.join(l.Config.ID, rec.Start)
	defer ls.queue.leave(w, ls.clock.Now())
	if err := ls.announce(ctx, l, c, "greeting"); err != nil && !errors.Is(err, ErrNoPrompt) {
		if ctx.Err() != nil {
			return nil, ls.gaveUp(rec)
		}
		return nil, err
	}
	agent, leg, err := ls.await(ctx, l, c, w)
	ls.queue.leave(w, ls.clock.Now())
	rec.Wait = ls.clock.Now().Sub(rec.Start).Seconds()
	var closed *ClosedError
	switch {
	case err == nil:
		rec.Agent = agent.ID
	case ctx.Err() != nil:
		return nil, ls.gaveUp(rec)
	case errors.As(err, &closed): // closing time came while the caller waited
		rec.Outcome, rec.Reason = OutcomeClosed, closed.Status.Reason
		return nil, ls.tell(ctx, l, c, rec, ls.closedSay(l, closed.Status.Reason), false)
	case errors.Is(err, errQueueTimeout):
		rec.Outcome = OutcomeQueueTimeout
		return nil, ls.tell(ctx, l, c, rec, []string{"queue-timeout"}, false)
	case errors.Is(err, errNobodyAnswered):
		rec.Outcome = OutcomeAgentNoAnswer
		return nil, ls.tell(ctx, l, c, rec, []string{"no-agents"}, false)
	case errors.Is(err, errNoAgents):
		rec.Outcome = OutcomeNoAgents
		return nil, ls.tell(ctx, l, c, rec, []string{"no-agents"}, false)
	default:
		rec.Outcome = OutcomeFailed
		c.Hangup(context.WithoutCancel(ctx))
		return nil, err
	}
	if ctx.Err() == nil { // the caller may hang up as the agent answers
		if err = c.Answer(ctx); err == nil {
			return leg, nil // a stop during the answer is talk's to tell
		}
	}
	leg.Hangup(context.WithoutCancel(ctx))
	ls.cooldown(l, agent.ID)
	if ctx.Err() != nil {
		return nil, ls.gaveUp(rec)
	}
	rec.Outcome = OutcomeFailed
	return nil, err
}

var (
	errQueueTimeout = errors.New("queue.max_wait passed")
	errNoAgents     = errors.New("nobody is logged in")
)

// retryPause is how long a caller whose round of ringing found nobody waits
// before the next round, so a phone that fails at once is not dialled in a loop.
const retryPause = 5 * time.Second

// await keeps the caller until an agent answers: agents are rung as soon as one
// is free and nobody who came earlier is waiting; until then the caller is on
// hold. It ends without an agent when the caller hangs up (ctx), the line closes
// (*ClosedError), nobody is logged in any more (errNoAgents, or errNobodyAnswered
// after unanswered rounds), or queue.max_wait has passed (errQueueTimeout).
func (ls *Lines) await(ctx context.Context, l *Line, c Call, w *waiter) (roster.Agent, Call, error) {
	var music *background
	defer func() { music.stop() }()
	deadline := w.arrived.Add(time.Duration(l.Config.Queue.MaxWait))
	rang := false
	for {
		changed := ls.queue.watch()
		now := ls.clock.Now()
		if !now.Before(w.retryAt) {
			if agents := ls.take(w, nil, l.ringsAll()); len(agents) > 0 {
				music.stop()
				music = nil
				a, leg, err := ls.round(ctx, l, c, w, agents)
				if err == nil {
					return a, leg, nil
				}
				rang = true
				w.retryAt = ls.clock.Now().Add(retryPause)
				continue
			}
		}
		st, err := ls.Status(l.Config.ID)
		switch {
		case ctx.Err() != nil:
			return roster.Agent{}, nil, ctx.Err()
		case err != nil:
			return roster.Agent{}, nil, err
		case st.State == hours.Closed:
			return roster.Agent{}, nil, &ClosedError{Status: st}
		case !ls.loggedIn(l.Config.ID) && rang:
			return roster.Agent{}, nil, errNobodyAnswered
		case !ls.loggedIn(l.Config.ID):
			return roster.Agent{}, nil, errNoAgents
		case !now.Before(deadline):
			return roster.Agent{}, nil, errQueueTimeout
		}
		if music == nil {
			if music, err = ls.putOnHold(ctx, l, c, w); err != nil {
				return roster.Agent{}, nil, err
			}
		}
		next := deadline
		if w.retryAt.After(now) && w.retryAt.Before(next) {
			next = w.retryAt
		}
		if st.ClosesAt != nil && st.ClosesAt.Before(next) {
			next = *st.ClosesAt
		}
		ls.sleep(ctx, changed, next.Sub(now))
	}
}

// sleep waits for changed, d on the line's clock, or ctx.
func (ls *Lines) sleep(ctx context.Context, changed <-chan struct{}, d time.Duration) {
	due, t := clock.After(ls.clock, d)
	defer t.Stop()
	select {
	case <-changed:
	case <-due:
	case <-ctx.Done():
	}
}

// putOnHold answers a caller who must wait and starts what they hear: the queue
// prompt the first time, then their place every queue.announce_every, with hold
// music in between.
func (ls *Lines) putOnHold(ctx context.Context, l *Line, c Call, w *waiter) (*background, error) {
	if err := c.Answer(ctx); err != nil {
		return nil, err
	}
	first := false
	ls.queue.set(w, func(w *waiter) {
		if first = w.held.IsZero(); first {
			w.held = ls.clock.Now()
		}
	})
	every := time.Duration(l.Config.Queue.AnnounceEvery)
	return start(ctx, func(ctx context.Context) {
		if first {
			if c.Play(ctx, "queue-hold"); ctx.Err() != nil {
				return
			}
		}
		for ctx.Err() == nil {
			next, stop := ls.within(ctx, every, nil)
			announcePlace(next, c, ls.queue.position(w))
			c.Hold(next)
			stop(nil)
		}
	}), nil
}

// maxSpokenPlace is the highest place in the queue said as a number.
const maxSpokenPlace = 20

// announcePlace tells the caller their place in the queue: "Du är först i kön",
// "Du är nummer tre i kön", or that many are ahead.
func announcePlace(ctx context.Context, c Call, place int) {
	switch {
	case place <= 1:
		c.Play(ctx, "queue-first")
	case place <= maxSpokenPlace:
		for _, p := range []string{"queue-place", sayNumber(place), "queue-in-line"} {
			if c.Play(ctx, p); ctx.Err() != nil {
				return
			}
		}
	default:
		c.Play(ctx, "queue-many")
	}
}

// round rings the agents taken for w, with ringback to the caller, until one
// answers or none is left to try.
func (ls *Lines) round(ctx context.Context, l *Line, c Call, w *waiter, agents []roster.Agent) (roster.Agent, Call, error) {
	defer ls.queue.set(w, func(w *waiter) { w.dialing = false })
	ringback := start(ctx, func(ctx context.Context) { c.Ring(ctx) })
	defer ringback.stop() // the ringback writes to the caller's media: it must stop before the bridge does
	if l.ringsAll() {
		return ls.ringAll(ctx, l, c, agents)
	}
	return ls.huntAgents(ctx, l, c, w, agents[0])
}

func (ls *Lines) gaveUp(rec *Record) error {
	rec.Outcome = OutcomeAbandonedQueue
	rec.Wait = ls.clock.Now().Sub(rec.Start).Seconds()
	return nil
}

// background is something a caller hears (ringback, hold music) while the flow
// does something else.
type background struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func start(ctx context.Context, f func(ctx context.Context)) *background {
	ctx, cancel := context.WithCancel(ctx)
	b := &background{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(b.done)
		f(ctx)
	}()
	return b
}

// stop ends it and waits until it no longer writes to the caller; nil is a no-op.
func (b *background) stop() {
	if b == nil {
		return
	}
	b.cancel()
	<-b.done
}

// errNobodyAnswered means agents were rung and none answered.
var errNobodyAnswered = errors.New("no agent answered")

// huntAgents rings first, then the next free agent, longest idle first, each for
// the line's ring timeout, until one answers.
func (ls *Lines) huntAgents(ctx context.Context, l *Line, c Call, w *waiter, first roster.Agent) (roster.Agent, Call, error) {
	var tried []string
	for a := first; ; {
		tried = append(tried, a.ID)
		ringCtx, stop := ls.ringTimeout(ctx, l)
		leg, err := ls.dialOne(ringCtx, l, c, a)
		stop(nil)
		if err == nil {
			ls.answered(a.ID)
			return a, leg, nil
		}
		ls.unanswered(ctx, l, a.ID, err)
		if ctx.Err() != nil {
			return roster.Agent{}, nil, errNobodyAnswered
		}
		next := ls.take(w, tried, false)
		if len(next) == 0 {
			return roster.Agent{}, nil, errNobodyAnswered
		}
		a = next[0]
	}
}

// errAnsweredElsewhere cancels the other phones when one agent has answered.
var errAnsweredElsewhere = errors.New("answered by another agent")

// ringAll rings every free agent at once for the ring timeout; the first to
// answer gets the call and the other phones stop ringing at once.
func (ls *Lines) ringAll(ctx context.Context, l *Line, c Call, agents []roster.Agent) (roster.Agent, Call, error) {
	ringCtx, stop := ls.ringTimeout(ctx, l)
	type result struct {
		agent roster.Agent
		leg   Call
		err   error
	}
	results := make(chan result, len(agents))
	for _, a := range agents {
		go func() {
			leg, err := ls.dialOne(ringCtx, l, c, a)
			results <- result{a, leg, err}
		}()
	}
	settle := func(r result) { // a phone that lost the race, or missed the call
		if r.err == nil { // answered just too late
			r.leg.Hangup(context.WithoutCancel(ctx))
			ls.setActivity(r.agent.ID, Available)
			return
		}
		ls.unanswered(ctx, l, r.agent.ID, r.err)
	}
	for n := range agents {
		r := <-results
		if r.err != nil {
			settle(r)
			continue
		}
		ls.answered(r.agent.ID)
		stop(errAnsweredElsewhere)
		go func() { // the others' CANCELs finish in the background
			for range len(agents) - n - 1 {
				settle(<-results)
			}
		}()
		return r.agent, r.leg, nil
	}
	stop(nil)
	return roster.Agent{}, nil, errNobodyAnswered
}

// ringTimeout is ctx that ends after the line's ring timeout on the line's clock
// (cause ErrNoAnswer); stop ends it sooner with its own cause.
func (ls *Lines) ringTimeout(ctx context.Context, l *Line) (context.Context, func(cause error)) {
	return ls.within(ctx, time.Duration(l.Config.Calls.RingTimeout), ErrNoAnswer)
}

// within is ctx that also ends after d on the line's clock, with cause (nil:
// context.Canceled); d <= 0 sets no end. stop ends it sooner with its own cause.
func (ls *Lines) within(ctx context.Context, d time.Duration, cause error) (context.Context, func(cause error)) {
	ctx, cancel := context.WithCancelCause(ctx)
	var t clock.Timer
	if d > 0 {
		t = ls.clock.AfterFunc(d, func() { cancel(cause) })
	}
	return ctx, func(cause error) {
		if t != nil {
			t.Stop()
		}
		cancel(cause)
	}
}

// unanswered puts an agent whose phone did not take the call back to available,
// counting a miss unless the caller gave up or another agent answered first.
func (ls *Lines) unanswered(ctx context.Context, l *Line, agentID string, err error) {
	// A phone that cannot even be called is a miss too: else its agent stays
	// "available" while callers wait on nobody.
	miss := errors.Is(err, ErrNoAnswer) || errors.Is(err, ErrBusy) || errors.Is(err, ErrDeclined) || errors.Is(err, ErrUnreachable)
	if ctx.Err() == nil && miss {
		ls.missed(l, agentID, err) // 480, 486, 603, the ring timeout, no route
		return
	}
	ls.setActivity(agentID, Available)
}

// targetOf is where an agent's phone is.
func targetOf(a roster.Agent) Target { return Target{Agent: a.ID, Phone: a.Phone, SIPURI: a.SIPURI} }

// dialOne calls one agent with the line's caller ID; ctx (see ringTimeout) bounds
// the ringing, and its ending with ErrNoAnswer is reported as that.
func (ls *Lines) dialOne(ctx context.Context, l *Line, c Call, a roster.Agent) (Call, error) {
	leg, err := c.Dial(ctx, targetOf(a),
		dialOptions(l, time.Duration(l.Config.Calls.RingTimeout)))
	if err != nil {
		if cause := context.Cause(ctx); errors.Is(cause, ErrNoAnswer) || errors.Is(cause, errAnsweredElsewhere) {
			err = cause
		}
	}
	return leg, err
}
