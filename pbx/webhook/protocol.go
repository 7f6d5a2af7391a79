// Package webhook lets a hosted PBX drive peerline's lines over HTTP: the PBX
// posts a new call and the result of each action, peerline answers with the
// call's next action. Each leg is a line.Call, so the flows in package line run
// unchanged. The protocol is described in pbx/webhook/PROTOCOL.md.
package webhook

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/peerline/peerline/internal/input"
)

// NewCall is what a PBX posts for a call coming in.
type NewCall struct {
	CallID string `json:"call_id"`
	From   string `json:"from"` // the caller's number: kept in memory only
	To     string `json:"to"`   // the number called: one of a line's numbers
}

// Result is what a PBX posts when an action has run (or, for the actions that
// go on until the next one, has started).
type Result struct {
	Seq    int    `json:"seq"`
	Result string `json:"result"`          // done, interrupted, started, ringing, failed
	Cause  string `json:"cause,omitempty"` // why it failed
}

// Event is what a PBX posts about a leg at any time: a key, a dialled leg
// answered or failed, a leg hung up.
type Event struct {
	Event string `json:"event"`           // dtmf, answered, failed, hangup
	Digit string `json:"digit,omitempty"` // dtmf: 0-9, *, #, A-D
	Cause string `json:"cause,omitempty"` // failed: busy, declined, no_answer, unreachable
}

// Action is peerline's answer: what the leg does next.
type Action struct {
	Seq     int      `json:"seq"`
	Action  string   `json:"action"`
	Prompts []string `json:"prompts,omitempty"`  // play, hold: WAV URLs in turn (hold loops them)
	BargeIn bool     `json:"barge_in,omitempty"` // play: a key stops the playing
	Leg     string   `json:"leg,omitempty"`      // dial: the new leg's call_id; bridge: the other leg
	Legs    []string `json:"legs,omitempty"`     // conference: the other legs
	Target  *Target  `json:"target,omitempty"`   // dial
	// dial: the number and name the callee sees, how long to ring (seconds),
	// the call limit and the time left at each warning (seconds).
	CallerID    string `json:"caller_id,omitempty"`
	CallerName  string `json:"caller_name,omitempty"`
	RingTimeout int    `json:"ring_timeout,omitempty"`
	TimeLimit   int    `json:"time_limit,omitempty"`
	Warnings    []int  `json:"warnings,omitempty"`
}

// Target is where a dial goes: a phone number (E.164) or a SIP URI.
type Target struct {
	Phone  string `json:"phone,omitempty"`
	SIPURI string `json:"sip_uri,omitempty"`
}

// The actions.
const (
	ActAnswer   = "answer"   // answer the call (connect the caller); result done
	ActPlay     = "play"     // play prompts; result done, or interrupted by a key with barge_in
	ActRingback = "ringback" // ringback tone until the next action; result started
	ActHold     = "hold"     // loop prompts (hold music) until the next action; result started
	ActDial     = "dial"     // start a new leg; result started, the new leg's own results follow
	ActBridge   = "bridge"   // connect this leg with leg until the next action; result started
	ActUnbridge = "unbridge" // end the bridge, both legs stay; result started
	// ActConference joins this leg and legs in one conversation where each
	// hears all the others (a warm referral); result started, or failed with
	// cause "unsupported" from a PBX that cannot (peerline then hands over
	// blind). unbridge ends it.
	ActConference = "conference"
	ActWait       = "wait"   // nothing new: go on and post started to ask again
	ActHangup     = "hangup" // hang up; no result
)

// The results.
const (
	ResDone        = "done"
	ResInterrupted = "interrupted"
	ResStarted     = "started"
	ResRinging     = "ringing" // a dialled leg's seq 0: it rings
	ResFailed      = "failed"
)

// CauseUnsupported is a failed result's cause for an action the PBX cannot
// carry out (a conference).
const CauseUnsupported = "unsupported"

var (
	callIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$`)
	numberPattern = regexp.MustCompile(`^\+?[A-Za-z0-9._-]{1,64}$`)
	results       = []string{ResDone, ResInterrupted, ResStarted, ResRinging, ResFailed}
	events        = []string{"dtmf", "answered", "failed", "hangup"}
	causes        = []string{"busy", "declined", "no_answer", "unreachable"}
)

// maxBody bounds a PBX's request.
const maxBody = 16 << 10

// decode reads one JSON object into v: unknown fields, wrong types, trailing
// data and malformed JSON are input errors naming the field (or "body").
func decode(r io.Reader, v any) error {
	b, err := io.ReadAll(io.LimitReader(r, maxBody+1))
	if err != nil {
		return input.Errorf("body", "%v", err)
	}
	if len(b) > maxBody {
		return input.Errorf("body", "larger than %d bytes", maxBody)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return input.Errorf("body", "empty: a JSON object is needed")
	case errors.As(err, &se):
		return input.Errorf("body", "malformed JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return input.Errorf(cmp.Or(te.Field, "body"), "must be %s, not %s", te.Type.Kind(), te.Value)
	case err != nil && strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return input.Errorf(cmp.Or(name, "body"), "unknown field %q", name)
	case err != nil:
		return input.Errorf("body", "%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return input.Errorf("body", "one JSON object only")
	}
	return nil
}

// DecodeNewCall reads and checks a new call.
func DecodeNewCall(r io.Reader) (NewCall, error) { return decodeChecked(r, NewCall.check) }

// DecodeResult reads and checks an action's result.
func DecodeResult(r io.Reader) (Result, error) { return decodeChecked(r, Result.check) }

// DecodeEvent reads and checks an event.
func DecodeEvent(r io.Reader) (Event, error) { return decodeChecked(r, Event.check) }

func decodeChecked[T any](r io.Reader, check func(T) error) (T, error) {
	var v T
	if err := decode(r, &v); err != nil {
		return v, err
	}
	return v, check(v)
}

func (c NewCall) check() error {
	switch {
	case !callIDPattern.MatchString(c.CallID):
		return input.Errorf("call_id", "1 to 128 of letters, digits and . _ : @ -")
	case !numberPattern.MatchString(c.To):
		return input.Errorf("to", "a number or name of the line, like +46812345678")
	case c.From != "" && !numberPattern.MatchString(c.From):
		return input.Errorf("from", "a number like +46701234567, or empty when withheld")
	}
	return nil
}

func (res Result) check() error {
	switch {
	case res.Seq < 0:
		return input.Errorf("seq", "must not be negative")
	case !slices.Contains(results, res.Result):
		return input.Errorf("result", "%q is not one of %s", res.Result, strings.Join(results, ", "))
	case len(res.Cause) > maxCause:
		return input.Errorf("cause", "at most %d characters", maxCause)
	}
	return nil
}

func (e Event) check() error {
	switch {
	case !slices.Contains(events, e.Event):
		return input.Errorf("event", "%q is not one of %s", e.Event, strings.Join(events, ", "))
	case e.Event == "dtmf" && (len(e.Digit) != 1 || !strings.Contains("0123456789*#ABCD", e.Digit)):
		return input.Errorf("digit", "one of 0-9, *, #, A-D")
	case e.Event == "failed" && !slices.Contains(causes, e.Cause):
		return input.Errorf("cause", "%q is not one of %s", e.Cause, strings.Join(causes, ", "))
	case len(e.Cause) > maxCause:
		return input.Errorf("cause", "at most %d characters", maxCause)
	}
	return nil
}

// maxCause bounds a cause's text.
const maxCause = 64
