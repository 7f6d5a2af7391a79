package line

import (
	"context"
	"errors"
	"time"

	"github.com/peerline/peerline/clock"
	"github.com/peerline/peerline/roster"
)

// connect is the caller's flow on an open line with agents logged in: greeting,
// ringback while a free agent's phone rings, then the bridge until either side
// hangs up. The caller is answered only when an agent has answered, so a caller
// who gives up while it rings cancels the agent's leg too.
func (ls *Lines) connect(ctx context.Context, l *Line, c Call, rec *Record) error {
	ctx, cancel := withCaller(ctx, c)
	defer cancel()
	if err := c.Play(ctx, "greeting"); err != nil && !errors.Is(err, ErrNoPrompt) {
		if ctx.Err() != nil {
			return ls.gaveUp(rec)
		}
		return err
	}
	ringing, stopRing := ring(ctx, c)
	agent, leg, err := ls.dialAgent(ctx, l, c)
	stopRing()
	<-ringing // the ringback writes to the caller's media: it must stop before the bridge does
	rec.Wait = ls.clock.Now().Sub(rec.Start).Seconds()
	if err == nil {
		rec.Agent = agent.ID
		defer ls.setActivity(agent.ID, Available) // wrap-up comes with the call timer
		defer leg.Hangup(context.WithoutCancel(ctx))
	}
	switch {
	case ctx.Err() != nil:
		return ls.gaveUp(rec)
	case err != nil:
		rec.Outcome = OutcomeNoAgents
		if errors.Is(err, errNobodyAnswered) {
			rec.Outcome = OutcomeAgentNoAnswer
		}
		return ls.tell(ctx, c, rec, "no-agents")
	}
	if err := c.Answer(ctx); err != nil {
		if ctx.Err() != nil {
			return ls.gaveUp(rec)
		}
		rec.Outcome = OutcomeFailed
		return err
	}
	return ls.talk(ctx, c, leg, rec)
}

// talk bridges the caller to the agent's leg until either hangs up (the bridge
// ends with either leg) or peerline stops; connect hangs up the agent's leg.
func (ls *Lines) talk(ctx context.Context, c, leg Call, rec *Record) error {
	rec.Outcome = OutcomeAnswered
	br, err := c.Bridge(ctx, leg)
	if err != nil {
		c.Hangup(context.WithoutCancel(ctx))
		if ctx.Err() != nil {
			return nil // stopped (or the caller hung up) just as the agent answered
		}
		rec.Outcome = OutcomeFailed
		return err
	}
	start := ls.clock.Now()
	select {
	case <-br.Done():
	case <-ctx.Done():
	}
	br.Stop()
	rec.Talk = ls.clock.Now().Sub(start).Seconds()
	return c.Hangup(context.WithoutCancel(ctx))
}

func (ls *Lines) gaveUp(rec *Record) error {
	rec.Outcome = OutcomeAbandonedQueue
	rec.Wait = ls.clock.Now().Sub(rec.Start).Seconds()
	return nil
}

// ring plays ringback to the caller until stop is called; the channel closes when
// it has stopped.
func ring(ctx context.Context, c Call) (<-chan struct{}, context.CancelFunc) {
	ctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Ring(ctx)
	}()
	return done, stop
}

// errNobodyAnswered means agents were rung and none answered.
var errNobodyAnswered = errors.New("no agent answered")

// dialAgent rings the line's free agents by its strategy until one answers.
func (ls *Lines) dialAgent(ctx context.Context, l *Line, c Call) (roster.Agent, Call, error) {
	if l.Config.Calls.Strategy == "ring-all" {
		return ls.ringAll(ctx, l, c)
	}
	return ls.huntAgents(ctx, l, c)
}

// huntAgents rings the free agents one after the other, longest idle first, each
// for the line's ring timeout.
func (ls *Lines) huntAgents(ctx context.Context, l *Line, c Call) (roster.Agent, Call, error) {
	var tried []string
	for ctx.Err() == nil {
		a, ok := ls.claim(l.Config.ID, tried)
		if !ok {
			break
		}
		tried = append(tried, a.ID)
		ringCtx, stop := ls.ringTimeout(ctx, l)
		leg, err := ls.dialOne(ringCtx, l, c, a)
		stop(nil)
		if err == nil {
			ls.answered(a.ID)
			return a, leg, nil
		}
		ls.unanswered(ctx, l, a.ID, err)
	}
	if len(tried) > 0 {
		return roster.Agent{}, nil, errNobodyAnswered
	}
	return roster.Agent{}, nil, errNoFreeAgent
}

// errAnsweredElsewhere cancels the other phones when one agent has answered.
var errAnsweredElsewhere = errors.New("answered by another agent")

// ringAll rings every free agent at once for the ring timeout; the first to
// answer gets the call and the other phones stop ringing at once.
func (ls *Lines) ringAll(ctx context.Context, l *Line, c Call) (roster.Agent, Call, error) {
	var agents []roster.Agent
	var ids []string
	for {
		a, ok := ls.claim(l.Config.ID, ids)
		if !ok {
			break
		}
		agents, ids = append(agents, a), append(ids, a.ID)
	}
	if len(agents) == 0 {
		return roster.Agent{}, nil, errNoFreeAgent
	}
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
	ctx, cancel := context.WithCancelCause(ctx)
	var t clock.Timer
	if d := time.Duration(l.Config.Calls.RingTimeout); d > 0 {
		t = ls.clock.AfterFunc(d, func() { cancel(ErrNoAnswer) })
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
	miss := errors.Is(err, ErrNoAnswer) || errors.Is(err, ErrBusy) || errors.Is(err, ErrDeclined)
	if ctx.Err() == nil && miss {
		ls.missed(l, agentID) // 480, 486, 603 or the ring timeout
		return
	}
	ls.setActivity(agentID, Available)
}

// errNoFreeAgent means every logged-in agent is busy (the queue is the next step).
var errNoFreeAgent = errors.New("no free agent")

// dialOne calls one agent with the line's caller ID; ctx (see ringTimeout) bounds
// the ringing, and its ending with ErrNoAnswer is reported as that.
func (ls *Lines) dialOne(ctx context.Context, l *Line, c Call, a roster.Agent) (Call, error) {
	leg, err := c.Dial(ctx, Target{Agent: a.ID, Phone: a.Phone, SIPURI: a.SIPURI},
		DialOptions{CallerID: l.Config.ShownNumber(), CallerName: l.Config.Name})
	if err != nil {
		if cause := context.Cause(ctx); errors.Is(cause, ErrNoAnswer) || errors.Is(cause, errAnsweredElsewhere) {
			err = cause
		}
	}
	return leg, err
}
