package line

import (
	"context"
	"errors"
	"time"

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
		prompt := "no-agents"
		rec.Outcome = OutcomeNoAgents
		if errors.Is(err, errNobodyAnswered) {
			rec.Outcome = OutcomeAgentNoAnswer
		}
		return ls.tell(ctx, c, rec, prompt)
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

// talk bridges the caller to the agent's leg until either hangs up.
func (ls *Lines) talk(ctx context.Context, c, leg Call, rec *Record) error {
	rec.Outcome = OutcomeAnswered
	br, err := c.Bridge(ctx, leg)
	if err != nil {
		leg.Hangup(context.WithoutCancel(ctx))
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
	case <-leg.Done():
	case <-ctx.Done(): // the caller hung up, or peerline is stopping
	}
	br.Stop()
	rec.Talk = ls.clock.Now().Sub(start).Seconds()
	leg.Hangup(context.WithoutCancel(ctx))
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

// dialAgent rings the free agents of the line one after the other, longest idle
// first, each for the line's ring timeout, until one answers.
func (ls *Lines) dialAgent(ctx context.Context, l *Line, c Call) (roster.Agent, Call, error) {
	var tried []string
	for ctx.Err() == nil {
		a, ok := ls.claim(l.Config.ID, tried)
		if !ok {
			break
		}
		tried = append(tried, a.ID)
		leg, err := ls.dialOne(ctx, l, c, a)
		switch {
		case err == nil:
			ls.answered(a.ID)
			return a, leg, nil
		case ctx.Err() == nil && (errors.Is(err, ErrNoAnswer) || errors.Is(err, ErrBusy) || errors.Is(err, ErrDeclined)):
			ls.missed(l, a.ID) // 480, 486, 603 or the ring timeout; not a caller giving up
		default:
			ls.setActivity(a.ID, Available)
		}
	}
	if len(tried) > 0 {
		return roster.Agent{}, nil, errNobodyAnswered
	}
	return roster.Agent{}, nil, errNoFreeAgent
}

// errNoFreeAgent means every logged-in agent is busy (the queue is the next step).
var errNoFreeAgent = errors.New("no free agent")

// dialOne rings one agent for at most the line's ring timeout, on the line's clock.
func (ls *Lines) dialOne(ctx context.Context, l *Line, c Call, a roster.Agent) (Call, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if d := time.Duration(l.Config.Calls.RingTimeout); d > 0 {
		t := ls.clock.AfterFunc(d, func() { cancel(ErrNoAnswer) })
		defer t.Stop()
	}
	callerID := l.Config.CallerID
	if callerID == "" && len(l.Config.Numbers) > 0 {
		callerID = l.Config.Numbers[0]
	}
	leg, err := c.Dial(ctx, Target{Agent: a.ID, Phone: a.Phone, SIPURI: a.SIPURI},
		DialOptions{CallerID: callerID, CallerName: l.Config.Name})
	if err != nil && errors.Is(context.Cause(ctx), ErrNoAnswer) {
		err = ErrNoAnswer
	}
	return leg, err
}
