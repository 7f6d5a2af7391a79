package line

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/peerline/peerline/internal/clock"
	"github.com/peerline/peerline/internal/randid"
	"github.com/peerline/peerline/roster"
)

// callbackRing is how long a callback rings the caller's phone.
const callbackRing = 30 * time.Second

// errMenuDone ends the agent menu without goodbye: a callback's wrap-up has
// thanked the agent already.
var errMenuDone = errors.New("agent's call ended by a callback")

// callbacks keeps each agent's last caller's number in memory for the caller's
// line's callback_window, for the agent menu's key 4. It is never stored,
// logged or said: the agent only gets the call.
type callbacks struct {
	mu   sync.Mutex
	last map[string]*callback // agent id ->
}

type callback struct {
	line   string
	number string
	until  time.Time
	forget clock.Timer
}

// remember keeps number as agentID's last caller on line l for the line's
// callback window, replacing the one before. A call the agent ended with the
// safety key is the last caller but is not offered: nobody should be asked to
// ring an abuser back, nor get an earlier caller instead.
func (ls *Lines) remember(l *Line, agentID, number string, rec *Record) {
	window := time.Duration(l.Config.CallbackWindow)
	if agentID == "" || rec.Outcome != OutcomeAnswered {
		return
	}
	cs := &ls.callbacks
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if old := cs.last[agentID]; old != nil {
		old.forget.Stop()
		old.number = ""
		delete(cs.last, agentID)
	}
	if window <= 0 || number == "" || rec.Flagged {
		return
	}
	if cs.last == nil {
		cs.last = map[string]*callback{}
	}
	cb := &callback{line: l.Config.ID, number: number, until: ls.clock.Now().Add(window)}
	cs.last[agentID] = cb
	cb.forget = ls.clock.AfterFunc(window, func() { ls.forget(agentID, cb) })
}

// forget drops agentID's callback cb, unless a newer call replaced it.
func (ls *Lines) forget(agentID string, cb *callback) {
	cs := &ls.callbacks
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.last[agentID] == cb {
		cb.number = ""
		delete(cs.last, agentID)
	}
}

// lastCaller is agentID's caller to call back, while the window lasts.
func (ls *Lines) lastCaller(agentID string) (callback, bool) {
	cs := &ls.callbacks
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cb := cs.last[agentID]
	if cb == nil || !ls.clock.Now().Before(cb.until) {
		return callback{}, false
	}
	return *cb, true
}

// callBack calls agent a's last caller through the caller's line, showing the
// line's number, and bridges them to the agent's own call c under the same
// limit, keys and wrap-up as the first call. The agent hears ringback, never the
// number. An unanswered callback is recorded and the agent is back in the menu;
// an answered one ends the agent's call after the wrap-up (errMenuDone).
func (ls *Lines) callBack(ctx context.Context, c Call, a roster.Agent) ([]string, error) {
	cb, ok := ls.lastCaller(a.ID)
	if !ok {
		return []string{"callback-none"}, nil
	}
	l, err := ls.Get(cb.line)
	if err != nil {
		return []string{"callback-none"}, nil // the line left the config
	}
	if err := c.Play(ctx, "callback-calling"); err != nil {
		return nil, err
	}
	rec := Record{ID: callbackID(), Line: l.Config.ID, Start: ls.clock.Now().UTC(), Agent: a.ID, Callback: true}
	ls.beginAsync(&rec)
	ls.setActivity(a.ID, Busy) // no caller is offered to a logged-in agent meanwhile
	leg, err := ls.ringBack(ctx, l, c, cb.number)
	rec.Wait = ls.clock.Now().Sub(rec.Start).Seconds()
	if err != nil {
		ls.setActivity(a.ID, Available)
		if ctx.Err() != nil {
			return nil, errors.Join(ctx.Err(), ls.discard(&rec)) // the agent hung up while it rang
		}
		rec.Outcome = OutcomeNotReached
		return []string{"callback-no-answer"}, ls.finish(&rec)
	}
	defer leg.Hangup(context.WithoutCancel(ctx))
	err = ls.talk(ctx, l, leg, c, &rec)
	ls.remember(l, a.ID, cb.number, &rec) // the window starts again from this call's end
	ls.cooldown(l, a.ID)
	if err := errors.Join(err, ls.finish(&rec)); err != nil {
		return nil, err
	}
	return nil, errMenuDone
}

// ringBack dials number through the trunk with line l's caller ID while the
// agent's call c hears ringback, for callbackRing at most.
func (ls *Lines) ringBack(ctx context.Context, l *Line, c Call, number string) (Call, error) {
	ringback := start(ctx, func(ctx context.Context) { c.Ring(ctx) })
	defer ringback.stop()
	ringCtx, stop := ls.within(ctx, callbackRing, ErrNoAnswer)
	defer stop(nil)
	return c.Dial(ringCtx, Target{Phone: number}, dialOptions(l, callbackRing))
}

// finish stamps the record's end and saves it.

// callbackID names a callback's record; it has no caller's Call-ID of its own.
func callbackID() string {
	return "callback-" + randid.Hex(8)
}
