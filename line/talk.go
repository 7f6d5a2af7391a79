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
// on the line, the wrap-up form runs. connect hangs up the agent's leg. A caller
// the agent referred on stays with the service (handover) while the agent
// fills the form; Handle waits for both.
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
	cv := &conversation{c: c, leg: leg, br: br, start: start}
	rec.Ended = ls.converse(ctx, l, cv, rec)
	cv.br.Stop()
	rec.Talk = ls.clock.Now().Sub(start).Seconds()
	bg := context.WithoutCancel(ctx)
	handedOver := cv.ref != nil && (rec.Ended == EndedReferred || rec.Ended == EndedAgent) && !isDone(c)
	if handedOver {
		done := make(chan struct{})
		rec.handover = done
		go func() {
			defer close(done)
			ls.handover(bg, l, c, cv.ref)
		}()
	} else {
		cv.ref.stop(bg)
	}
	if rec.Ended == EndedLimit {
		rec.LimitHit = true
		ls.closingPhrase(bg, c, leg)
	}
	var ferr error
	if rec.Ended == EndedSafety {
		rec.Flagged = true
		ferr = ls.flag(l, rec)
	}
	var herr error
	if !handedOver {
		herr = c.Hangup(bg)
	}
	herr = errors.Join(ferr, herr)
	switch {
	case len(l.Config.Wrapup.Questions) == 0: // the line has no form
	case rec.Ended == EndedAgent || rec.Ended == EndedStopped:
		rec.Wrapup = &Wrapup{} // not filled: the agent is gone
		fillReferred(l, rec)
	default:
		ls.wrapup(bg, l, leg, rec)
	}
	return herr
}

// conversation is a bridged call: the caller, the agent, what joins them, and
// a referral under way.
type conversation struct {
	c, leg   Call
	br       Bridge
	ref      *referring
	threeWay bool // the caller, the agent and the referral's service hear each other
	start    time.Time
}

// converse waits for the bridged call's end and whispers the limit's warnings to
// the agent; it runs the referral keys. It reports how the call ended.
func (ls *Lines) converse(ctx context.Context, l *Line, cv *conversation, rec *Record) string {
	c, leg := cv.c, cv.leg
	// The limit counts from start, not from now: the clock may have moved while
	// the bridge was noted in the database.
	limit := max(0, time.Duration(l.Config.Calls.Limit)-ls.clock.Now().Sub(cv.start))
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
	// The agent's keys are read here, between the other events, and only
	// while the call lasts: the keys after it are the wrap-up form's.
	keys, seqs := leg.Keys(), keySequences{seqs: l.seqs}
	for {
		var ringing chan dialed
		if cv.ref != nil {
			ringing = cv.ref.result
		}
		select {
		case <-cv.br.Done():
			if ended, goOn := ls.bridgeEnded(ctx, cv); !goOn {
				return ended
			}
		case <-ctx.Done(): // a callback's ctx ends with the agent's own call
			return endedBy(ctx, c, leg)
		case i := <-ticks:
			switch {
			case i >= 0:
				cv.br.Whisper(leg, sayLeft(time.Duration(l.Config.Calls.Warnings[i]))...)
			case cv.threeWay: // the agent's time is up; the caller stays with the service
				rec.LimitHit = true
				return EndedReferred
			default:
				return EndedLimit
			}
		case d := <-ringing:
			if ended := ls.serviceAnswered(ctx, cv, d); ended != "" {
				return ended
			}
		case k := <-keys:
			for _, seq := range seqs.press(k, ls.clock.Now()) {
				if ended := ls.pressed(ctx, l, cv, rec, seq); ended != "" {
					return ended
				}
			}
		}
	}
}

// bridgeEnded says how the call ended when its bridge did, or that it goes on:
// a service that leaves the three-way part leaves the caller with the agent.
func (ls *Lines) bridgeEnded(ctx context.Context, cv *conversation) (string, bool) {
	c, leg := cv.c, cv.leg
	switch {
	case errors.Is(context.Cause(ctx), ErrStopped):
		return EndedStopped, false // the legs ended because peerline stops
	case isDone(c):
		return EndedCaller, false
	case cv.threeWay && !isDone(leg):
		cv.ref.rec.Seconds = ls.clock.Now().Sub(cv.ref.started).Seconds()
		cv.ref, cv.threeWay = nil, false
		br, err := c.Bridge(ctx, leg)
		if err != nil {
			return endedBy(ctx, c, leg), false
		}
		cv.br = br
		br.Whisper(leg, "referral-ended")
		return "", true
	}
	return EndedAgent, false // with a referral under way, the caller stays for the service
}

// serviceAnswered starts the three-way part once the service answered, or
// tells the agent it did not; "" goes on.
func (ls *Lines) serviceAnswered(ctx context.Context, cv *conversation, d dialed) string {
	err := cv.ref.took(d)
	switch {
	case isDone(cv.c):
		return EndedCaller
	case isDone(cv.leg): // the agent hung up as it answered: the caller goes on alone
		return EndedAgent
	}
	if err != nil {
		cv.br.Whisper(cv.leg, "referral-no-answer")
		cv.ref = nil
		return ""
	}
	cv.ref.started = ls.clock.Now()
	cv.br.Stop()
	conf, err := cv.c.Conference(ctx, cv.leg, cv.ref.service)
	switch {
	case errors.Is(err, ErrNoConference):
		return EndedReferred // a blind hand-over instead: the agent leaves
	case err != nil:
		cv.ref.stop(ctx)
		cv.ref = nil
		br, berr := cv.c.Bridge(ctx, cv.leg)
		if berr != nil {
			return endedBy(ctx, cv.c, cv.leg)
		}
		cv.br = br
		br.Whisper(cv.leg, "referral-no-answer")
		return ""
	}
	cv.br, cv.threeWay = conf, true
	return ""
}

// pressed acts on a key sequence the agent typed; "" goes on.
func (ls *Lines) pressed(ctx context.Context, l *Line, cv *conversation, rec *Record, seq keySeq) string {
	switch {
	case seq.ended == EndedSafety:
		return EndedSafety
	case cv.threeWay && (seq.ended == EndedEndKey || seq == leave):
		return EndedReferred // the agent leaves the caller with the service
	case seq.ended == EndedEndKey:
		return EndedEndKey
	case seq.referral != nil:
		r := *seq.referral
		switch {
		case cv.ref != nil: // one at a time
			cv.br.Whisper(cv.leg, "referral-busy")
		case rec.Callback && r.ModeOrDefault() != config.ReferTell:
			// The callee's leg was dialled by the agent's own call, which
			// goes back to the menu: there is nobody to hand the callee to.
			cv.br.Whisper(cv.leg, "referral-not-here")
		case r.ModeOrDefault() == config.ReferTell:
			rec.Referral = &Referred{Key: r.Key, Name: r.Name, Mode: config.ReferTell}
			cv.br.Whisper(cv.c, ls.sayTell(l, r)...)
		default:
			// The service is dialled on a context of its own: a caller handed
			// over outlives the agent's part of the call.
			cv.ref = ls.dialService(context.WithoutCancel(ctx), l, cv.c, r)
			rec.Referral = cv.ref.rec
			if r.ModeOrDefault() == config.ReferBlind {
				return EndedReferred
			}
			cv.br.Whisper(cv.c, ls.sayReferral(l, r)...)
			cv.br.Whisper(cv.leg, "referral-ringing")
		}
	}
	return ""
}

// handover keeps a referred caller until the service answers and then
// connects them for as long as they talk; a service that does not answer is
// said, with its number, and the call ends. The line's limit is not the
// service's: nothing here is timed.
func (ls *Lines) handover(ctx context.Context, l *Line, c Call, x *referring) {
	ctx, cancel := withCaller(ctx, c)
	defer cancel()
	defer c.Hangup(context.WithoutCancel(ctx))
	if x.service == nil {
		if x.rec.Mode == config.ReferBlind {
			playAll(ctx, c, ls.sayReferral(l, x.ref))
		}
		rctx, stopRing := context.WithCancel(ctx)
		go c.Ring(rctx)
		err := x.wait(ctx)
		stopRing()
		if err != nil {
			if ctx.Err() == nil {
				playAll(ctx, c, append([]string{"referral-failed"}, sayDigitsTwice(x.ref)...))
			}
			return
		}
	}
	defer x.service.Hangup(context.WithoutCancel(ctx))
	if x.started.IsZero() {
		x.started = ls.clock.Now()
	}
	br, err := c.Bridge(ctx, x.service)
	if err != nil {
		return
	}
	select {
	case <-br.Done():
	case <-ctx.Done():
	}
	br.Stop()
	x.rec.Seconds = ls.clock.Now().Sub(x.started).Seconds()
}

// fillReferred answers the form's referral question by itself when the agent
// referred the caller on.
func fillReferred(l *Line, rec *Record) {
	if rec.Referral == nil || rec.Wrapup == nil {
		return
	}
	for _, q := range l.Config.Wrapup.Questions {
		if q.Referral != "" {
			if rec.Wrapup.Answers == nil {
				rec.Wrapup.Answers = map[string]string{}
			}
			rec.Wrapup.Answers[q.ID] = q.Referral
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

// keySeq is one of the agent's key sequences in a call and what it does:
// ends the call (EndedEndKey, EndedSafety) or asks for a referral.
type keySeq struct {
	keys     string
	ended    string
	referral *config.Referral
}

// leave is # in a three-way part: the agent leaves the caller with the service.
var leave = keySeq{keys: "#"}

// agentSequences are the agent's key sequences on line lc.
func agentSequences(lc config.Line) []keySeq {
	var seqs []keySeq
	if k := lc.Keys.EndCall; k != "" {
		seqs = append(seqs, keySeq{keys: k, ended: EndedEndKey})
	}
	if k := lc.Keys.Safety; k != "" {
		seqs = append(seqs, keySeq{keys: k, ended: EndedSafety})
	}
	for i := range lc.Referrals {
		seqs = append(seqs, keySeq{keys: lc.Referrals[i].Key, referral: &lc.Referrals[i]})
	}
	return seqs
}

// keySequences finds the line's sequences in the agent's keys in a call, and
// leave at each #. Other keys (a single *) do nothing to the call.
type keySequences struct {
	seqs  []keySeq  // the line's
	typed []byte    // the keys of the sequence under way
	last  time.Time // when the last key came
	done  []keySeq  // press's answer, reused
}

// press takes key k, pressed at now, and returns the sequences it completes,
// in order: # is leave at once, and it or any key may also end one of the
// line's. The answer is valid until the next press.
func (ks *keySequences) press(k byte, now time.Time) []keySeq {
	ks.done = ks.done[:0]
	if now.Sub(ks.last) > keySequenceGap {
		ks.typed = ks.typed[:0]
	}
	ks.last = now
	ks.typed = append(ks.typed, k)
	if k == leave.keys[0] {
		ks.done = append(ks.done, leave)
	}
	for _, seq := range ks.seqs {
		if strings.HasSuffix(string(ks.typed), seq.keys) {
			ks.typed = ks.typed[:0] // a sequence is used once
			ks.done = append(ks.done, seq)
			break
		}
	}
	return ks.done
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
	fillReferred(l, rec) // not asked: the agent used a referral key
	asked := 0
	for _, q := range l.Config.Wrapup.Questions {
		if _, ok := w.Answers[q.ID]; ok {
			continue
		}
		prompts := []string{q.Prompt}
		if asked == 0 {
			prompts = append([]string{"wrapup-intro"}, prompts...)
		}
		asked++
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
