// Package webhook lets a hosted PBX drive peerline's lines over HTTP: the PBX
// posts a new call and the result of each action, peerline answers with the
// call's next action. Each leg is a line.Call, so the flows in package line run
// unchanged. The protocol is described in docs/pbx-webhooks.md.
package webhook

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
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
	ActWait     = "wait"     // nothing new: go on and post started to ask again
	ActHangup   = "hangup"   // hang up; no result
)

// The results.
const (
	ResDone        = "done"
	ResInterrupted = "interrupted"
	ResStarted     = "started"
	ResRinging     = "ringing" // a dialled leg's seq 0: it rings
	ResFailed      = "failed"
)

var (
	callIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$`)
	numberPattern = regexp.MustCompile(`^\+?[A-Za-z0-9._-]{1,64}$`)
	results       = []string{ResDone, ResInterrupted, ResStarted, ResRinging, ResFailed}
	events        = []string{"dtmf", "answered", "failed", "hangup"}
	causes        = []string{"busy", "declined", "no_answer", "unreachable"}
)

// FieldError is a request the PBX must fix: it names the field.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// maxBody bounds a PBX's request.
const maxBody = 16 << 10

// decode reads one JSON object into v: unknown fields, wrong types, trailing
// data and malformed JSON are errors naming the field (or "body").
func decode(r io.Reader, v any) error {
	b, err := io.ReadAll(io.LimitReader(r, maxBody+1))
	if err != nil {
		return fieldErr("body", "%v", err)
	}
	if len(b) > maxBody {
		return fieldErr("body", "larger than %d bytes", maxBody)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return fieldErr("body", "empty: a JSON object is needed")
	case errors.As(err, &se):
		return fieldErr("body", "malformed JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return fieldErr(cmp.Or(te.Field, "body"), "must be %s, not %s", te.Type.Kind(), te.Value)
	case err != nil && strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fieldErr(cmp.Or(name, "body"), "unknown field %q", name)
	case err != nil:
		return fieldErr("body", "%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return fieldErr("body", "one JSON object only")
	}
	return nil
}

// DecodeNewCall reads and checks a new call.
func DecodeNewCall(r io.Reader) (NewCall, error) {
	var c NewCall
	if err := decode(r, &c); err != nil {
		return c, err
	}
	switch {
	case !callIDPattern.MatchString(c.CallID):
		return c, fieldErr("call_id", "1 to 128 of letters, digits and . _ : @ -")
	case !numberPattern.MatchString(c.To):
		return c, fieldErr("to", "a number or name of the line, like +46812345678")
	case c.From != "" && !numberPattern.MatchString(c.From):
		return c, fieldErr("from", "a number like +46701234567, or empty when withheld")
	}
	return c, nil
}

// DecodeResult reads and checks an action's result.
func DecodeResult(r io.Reader) (Result, error) {
	var res Result
	if err := decode(r, &res); err != nil {
		return res, err
	}
	switch {
	case res.Seq < 0:
		return res, fieldErr("seq", "must not be negative")
	case !slices.Contains(results, res.Result):
		return res, fieldErr("result", "%q is not one of %s", res.Result, strings.Join(results, ", "))
	case res.Cause != "" && len(res.Cause) > 64:
		return res, fieldErr("cause", "at most 64 characters")
	}
	return res, nil
}

// DecodeEvent reads and checks an event.
func DecodeEvent(r io.Reader) (Event, error) {
	var e Event
	if err := decode(r, &e); err != nil {
		return e, err
	}
	switch {
	case !slices.Contains(events, e.Event):
		return e, fieldErr("event", "%q is not one of %s", e.Event, strings.Join(events, ", "))
	case e.Event == "dtmf" && (len(e.Digit) != 1 || !strings.Contains("0123456789*#ABCD", e.Digit)):
		return e, fieldErr("digit", "one of 0-9, *, #, A-D")
	case e.Event == "failed" && !slices.Contains(causes, e.Cause):
		return e, fieldErr("cause", "%q is not one of %s", e.Cause, strings.Join(causes, ", "))
	case len(e.Cause) > 64:
		return e, fieldErr("cause", "at most 64 characters")
	}
	return e, nil
}
