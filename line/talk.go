package line

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/event"
	bolt "go.etcd.io/bbolt"
)

// How a bridged call ended (Record.Ended).
const (
	EndedCaller  = "caller"  // the caller hung up
	EndedAgent   = "agent"   // the agent hung up
	EndedLimit   = "limit"   // calls.limit with hard_stop
	EndedEndKey  = "end_key" // the agent pressed keys.end_call
	EndedSafety  = "safety"  // the agent pressed keys.safety: an incident
	EndedStopped = "stopped" // peerline stopped
)

// keySequenceGap is how long apart the keys of one sequence (** or *9) may be.
const keySequenceGap = 2 * time.Second

// talk bridges the caller to the agent's leg under the line's call limit until
// either hangs up, the limit cuts it, the agent presses the end or safety key,
// or peerline stops; then the caller's leg is hung up and, with the agent still
// on the line, the wrap-up form runs. connect hangs up the agent's leg.
func (ls *Lines) talk(ctx context.Context, l *Line, c, leg Call, rec *Record) error {
	rec.Outcome = OutcomeAnswered
	// The talk starts as the bridge is made: read the clock before, so that
	// whoever sees the legs bridged (a test moving the clock on) is after it.
	start := ls.clock.Now()
	br, err := c.Bridge(ctx, leg)
	if err != nil {
		c.Hangup(context.WithoutCancel(ctx))
		if ctx.Err() != nil {
			rec.Ended = endedBy(ctx, c, leg) // stopped (or the caller hung up) just as the agent answered
			return nil
		}
		rec.Outcome = OutcomeFailed
		return err
	}
	if err := ls.bridged(rec, start); err != nil {
		br.Stop()
		c.Hangup(context.WithoutCancel(ctx))
		return err
	}
	rec.Ended = ls.converse(ctx, l, c, leg, br, start)
	br.Stop()
	rec.Talk = ls.clock.Now().Sub(start).Seconds()
	bg := context.WithoutCancel(ctx)
	if rec.Ended == EndedLimit {
		rec.LimitHit = true
		ls.closingPhrase(bg, c, leg)
	}
	var ferr error
	if rec.Ended == EndedSafety {
		rec.Flagged = true
		ferr = ls.flag(l, rec)
	}
	herr := errors.Join(ferr, c.Hangup(bg))
	switch {
	case len(l.Config.Wrapup.Questions) == 0: // the line has no form
	case rec.Ended == EndedAgent || rec.Ended == EndedStopped:
		rec.Wrapup = &Wrapup{} // not filled: the agent is gone
	default:
		ls.wrapup(bg, l, leg, rec)
	}
	return herr
}

// converse waits for the bridged call's end and whispers the limit's warnings to
// the agent. It reports how the call ended.
func (ls *Lines) converse(ctx context.Context, l *Line, c, leg Call, br Bridge, start time.Time) string {
	// The limit counts from start, not from now: the clock may have moved while
	// the bridge was noted in the database.
	limit := max(0, time.Duration(l.Config.Calls.Limit)-ls.clock.Now().Sub(start))
	ticks := make(chan int, len(l.Config.Calls.Warnings)+1) // a warning's index; -1: the limit
	if l.Config.Calls.Limit > 0 {
		for i, w := range l.Config.Calls.Warnings {
			if d := limit - time.Duration(w); d > 0 {
				t := ls.clock.AfterFunc(d, func() { ticks <- i })
				defer t.Stop()
			}
		}
		if l.Config.Calls.HardStop {
			t := ls.clock.AfterFunc(limit, func() { ticks <- -1 })
			defer t.Stop()
		}
	}
	kctx, stopKeys := context.WithCancel(ctx)
	keys, watched := ls.watchKeys(kctx, l, leg)
	defer func() { stopKeys(); <-watched }() // the wrap-up's keys are the form's
	for {
		select {
		case <-br.Done():
			if errors.Is(context.Cause(ctx), ErrStopped) {
				return EndedStopped // the legs ended because peerline stops
			}
			if isDone(c) {
				return EndedCaller
			}
			return EndedAgent
		case <-ctx.Done(): // a callback's ctx ends with the agent's own call
			return endedBy(ctx, c, leg)
		case i := <-ticks:
			if i < 0 {
				return EndedLimit
			}
			br.Whisper(leg, sayLeft(time.Duration(l.Config.Calls.Warnings[i]))...)
		case ended := <-keys:
			return ended
		}
	}
}

// endedBy says how a call whose ctx ended came to its end: peerline stopping,
// the caller or the agent hanging up.
func endedBy(ctx context.Context, c, leg Call) string {
	switch {
	case errors.Is(context.Cause(ctx), ErrStopped):
		return EndedStopped
	case isDone(c):
		return EndedCaller
	case isDone(leg):
		return EndedAgent
	}
	return EndedStopped
}

func isDone(c Call) bool {
	select {
	case <-c.Done():
		return true
	default:
		return false
	}
}

// sayLeft is the warning for left time: "tre minuter kvar", "En minut kvar", or
// for less, "Samtalet avslutas snart".
func sayLeft(left time.Duration) []string {
	switch m := int(left / time.Minute); {
	case left%time.Minute != 0 || m == 0:
		return []string{"call-warning"}
	case m == 1:
		return []string{"one-minute-left"}
	default:
		return []string{sayNumber(m), "minutes-left"}
	}
}

// watchKeys reports EndedEndKey or EndedSafety when the agent presses the end or
// the safety key sequence; other keys (a single *) do nothing to the call.
func (ls *Lines) watchKeys(ctx context.Context, l *Line, leg Call) (<-chan string, <-chan struct{}) {
	out := make(chan string, 1)
	done := make(chan struct{})
	end, safety := l.Config.Keys.EndCall, l.Config.Keys.Safety
	go func() {
		defer close(done)
		var typed []byte
		var last time.Time
		for {
			k, err := leg.Collect(ctx, CollectOptions{Max: 1, FirstKey: 24 * time.Hour})
			if ctx.Err() != nil || (err != nil && !errors.Is(err, ErrNoInput)) {
				return
			}
			if k == "" {
				continue
			}
			now := ls.clock.Now()
			if now.Sub(last) > keySequenceGap {
				typed = typed[:0]
			}
			last = now
			typed = append(typed, k[0])
			switch s := string(typed); {
			case safety != "" && strings.HasSuffix(s, safety):
				out <- EndedSafety
				return
			case end != "" && strings.HasSuffix(s, end):
				out <- EndedEndKey
				return
			}
		}
	}()
	return out, done
}

// closingPhrase plays the call limit's closing phrase to both sides at once.
func (ls *Lines) closingPhrase(ctx context.Context, c, leg Call) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Play(ctx, "call-limit")
	}()
	leg.Play(ctx, "call-limit")
	<-done
}

// flag tells the office at once about a call the agent ended with the safety key.
func (ls *Lines) flag(l *Line, rec *Record) error {
	now := ls.clock.Now()
	return ls.db.Update(func(tx *bolt.Tx) error {
		return ls.emit(tx, now, l.Config.ID, event.Flag{Call: rec.ID, Agent: rec.Agent, Start: rec.Start, TalkSeconds: rec.Talk})
	})
}

// Wrapup is the agent's form after a call.
type Wrapup struct {
	Answers map[string]string `json:"answers,omitempty"` // question id -> the answer's meaning
	Filled  bool              `json:"filled"`            // every question was answered or skipped with #
}

// wrapupKeyWait is how long each question waits for its key after its prompt.
const wrapupKeyWait = 15 * time.Second

// wrapup asks the agent the line's questions (a key each, # skips) within
// wrapup.timeout and thanks them; connect then hangs up their leg.
func (ls *Lines) wrapup(ctx context.Context, l *Line, leg Call, rec *Record) {
	ls.setActivity(rec.Agent, WrapUp)
	w := &Wrapup{Answers: map[string]string{}}
	rec.Wrapup = w
	ctx, stop := ls.within(ctx, time.Duration(l.Config.Wrapup.Timeout), nil)
	defer stop(nil)
	ctx, cancelLeg := withCaller(ctx, leg)
	defer cancelLeg()
	w.Filled = true
	for i, q := range l.Config.Wrapup.Questions {
		prompts := []string{q.Prompt}
		if i == 0 {
			prompts = append([]string{"wrapup-intro"}, prompts...)
		}
		k, err := leg.Collect(ctx, CollectOptions{Prompts: prompts, Accept: answerKeys(q) + "#", Max: 1, FirstKey: wrapupKeyWait})
		if err != nil && !errors.Is(err, ErrNoInput) || ctx.Err() != nil {
			w.Filled = false
			break
		}
		if k == "" {
			w.Filled = false
			continue
		}
		if k != "#" {
			w.Answers[q.ID] = q.Answers[k]
		}
	}
	if ctx.Err() == nil {
		leg.Play(ctx, "wrapup-done")
	}
}

func answerKeys(q config.Question) string {
	var b strings.Builder
	for k := range q.Answers {
		b.WriteString(k)
	}
	return b.String()
}

// cooldown makes the agent free after wrapup.cooldown, in wrap-up until then
// (also when there was no form to fill).
func (ls *Lines) cooldown(l *Line, agentID string) {
	d := time.Duration(l.Config.Wrapup.Cooldown)
	if d <= 0 {
		ls.setActivity(agentID, Available)
		return
	}
	ls.setActivity(agentID, WrapUp)
	ls.clock.AfterFunc(d, func() { ls.setActivity(agentID, Available) })
}
