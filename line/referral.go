package line

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/peerline/peerline/config"
)

// A referral hands the caller on to another service with a key the agent
// presses during the call (lines[].referrals):
//
//   - tell: the caller hears the number (or the referral's own prompt, "Om det
//     är akut, lägg på och ring 112"); the call goes on. 112 is never dialled.
//   - blind: the caller hears the prompt and is connected to the service; the
//     agent goes straight to the form.
//   - warm: the caller hears the prompt while the agent keeps talking to them;
//     the service is dialled, and while it rings the agent hears a whisper.
//     When it answers, all three hear each other; the agent introduces the
//     caller and leaves with # (or the end key, or by hanging up), and the
//     caller stays with the service for as long as they talk. If the service
//     does not answer or is busy, the agent hears it and the call goes on. A
//     PBX that cannot hold three parties gets a blind hand-over instead.
//
// The line's call limit is the agent's: it stops when the agent leaves. The
// referred part is the caller's call with the service, not limited by the line.

// EndedReferred is how a call ended whose caller the agent left with a service.
const EndedReferred = "referred"

// Referred is what a call's record says of a referral.
type Referred struct {
	Key      string  `json:"key"`
	Name     string  `json:"name"`
	Mode     string  `json:"mode"`
	Answered bool    `json:"answered"`          // the service answered (a tell referral dials nobody)
	Seconds  float64 `json:"seconds,omitempty"` // the caller's talk with the service
}

// referring is a referral under way in a call.
type referring struct {
	ref     config.Referral
	rec     *Referred
	result  chan dialed // the dial's outcome, once; nil once taken
	cancel  context.CancelFunc
	service Call // the service's leg, once it answered
	started time.Time
}

type dialed struct {
	leg Call
	err error
}

// referralTarget names a service for the drivers' logs; its number goes
// through the trunk like an agent's phone.
func referralTarget(r config.Referral) Target {
	return Target{Agent: "referral:" + r.Key, Phone: r.Number}
}

// dialService starts ringing the referral's service from c's call, with the
// line's number as caller id (the caller's only when the referral says
// show_caller); the ringing ends at calls.ring_timeout.
func (ls *Lines) dialService(ctx context.Context, l *Line, c Call, r config.Referral) *referring {
	x := &referring{ref: r, rec: &Referred{Key: r.Key, Name: r.Name, Mode: r.ModeOrDefault()}, result: make(chan dialed, 1)}
	ctx, stop := ls.within(ctx, time.Duration(l.Config.Calls.RingTimeout), ErrNoAnswer)
	x.cancel = func() { stop(context.Canceled) }
	o := DialOptions{CallerID: l.Config.ShownNumber(), CallerName: l.Config.Name, RingTimeout: time.Duration(l.Config.Calls.RingTimeout)}
	if r.ShowCaller {
		o.CallerID = c.Caller() // a privacy choice the office made in the config
	}
	go func() {
		leg, err := c.Dial(ctx, referralTarget(r), o)
		if err == nil && ctx.Err() != nil { // answered just as the ringing was given up
			leg.Hangup(context.WithoutCancel(ctx))
			leg, err = nil, context.Cause(ctx)
		}
		if err != nil && errors.Is(context.Cause(ctx), ErrNoAnswer) {
			err = fmt.Errorf("%w: %w", ErrNoAnswer, err)
		}
		stop(nil)
		x.result <- dialed{leg, err}
	}()
	return x
}

// wait takes the dial's outcome (blocking until it comes or ctx ends).
func (x *referring) wait(ctx context.Context) error {
	if x.result == nil {
		if x.service == nil {
			return ErrNoAnswer
		}
		return nil
	}
	select {
	case d := <-x.result:
		return x.took(d)
	case <-ctx.Done():
		x.cancel()
		return x.took(<-x.result)
	}
}

// took notes the dial's outcome.
func (x *referring) took(d dialed) error {
	x.result = nil
	if d.err != nil {
		return d.err
	}
	x.service, x.rec.Answered = d.leg, true
	return nil
}

// stop gives up a referral that still rings and hangs up its service's leg.
func (x *referring) stop(ctx context.Context) {
	if x == nil {
		return
	}
	if x.result != nil {
		x.cancel()
		x.took(<-x.result)
	}
	if x.service != nil {
		x.service.Hangup(context.WithoutCancel(ctx))
	}
}

// What the caller and the agent hear of a referral.

// recording is the referral's own prompt: the one it names, else one the
// line's folder has by its conventional name (generated with the service's
// name by deploy/prompts/generate.sh --config); "" for none.
func (ls *Lines) recording(l *Line, r config.Referral) string {
	switch {
	case r.Prompt != "":
		return r.Prompt
	case ls.ownPrompt(l, r.PromptName()):
		return r.PromptName()
	}
	return ""
}

// sayReferral is what the caller hears as a warm or blind referral starts:
// the referral's own recording, or "Jag kopplar dig vidare till" the number
// "Stanna kvar i luren".
func (ls *Lines) sayReferral(l *Line, r config.Referral) []string {
	if p := ls.recording(l, r); p != "" {
		return []string{p}
	}
	return append(append([]string{"referral-connecting"}, sayDigits(r.Number)...), "referral-stay")
}

// sayTell is a tell referral: its own recording, or "Du kan ringa" the number,
// "Jag upprepar" the number.
func (ls *Lines) sayTell(l *Line, r config.Referral) []string {
	if p := ls.recording(l, r); p != "" {
		return []string{p}
	}
	return sayDigitsTwice(r)
}

// sayDigitsTwice is the number said twice, for a caller whose referral did not
// answer ("Du kan ringa nummer ... Jag upprepar ...").
func sayDigitsTwice(r config.Referral) []string {
	digits := sayDigits(r.Number)
	return append(append(append([]string{"referral-tell"}, digits...), "referral-again"), digits...)
}

// sayDigits says a number digit by digit ("plus" first for +46...).
func sayDigits(n string) []string {
	var say []string
	for i, c := range n {
		switch {
		case c == '+' && i == 0:
			say = append(say, "plus")
		case c >= '0' && c <= '9':
			say = append(say, "number-"+string(c))
		}
	}
	return say
}
