// Package elks is 46elks's own voice webhooks as a PBX for peerline: a
// number's voice_start points at peerline, which answers each of 46elks's
// requests with the call's next action (play, ivr, connect, hangup) and its
// next address, and learns the end of a call from whenhangup. An agent's leg
// is the caller's leg's connect; peerline places no calls through 46elks's
// API. What 46elks cannot do that peerline's flows use (keys and one-sided
// prompts during a connected call) is in ELKS.md.
//
// This file reads 46elks's requests: form-encoded posts whose fields are the
// documented ones (receive-call, the actions' results, whenhangup), as far as
// peerline uses them.
package elks

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
)

// ErrInvalid is wrapped by every error about a request's fields.
var ErrInvalid = errors.New("elks: invalid request")

// FieldError says which field of a request was wrong, and how.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return "elks: " + e.Field + ": " + e.Reason }
func (e *FieldError) Unwrap() error { return ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Call is what 46elks posts to voice_start when someone rings one of the
// numbers (direction incoming). peerline places no calls through 46elks's
// API, so an outgoing one is no call of its.
type Call struct {
	ID        string // 46elks's call id: kept in memory only, never stored or logged
	Direction string // incoming or outgoing
	From      string // the caller's number; "" when withheld. In memory only.
	To        string // the number called
}

// Result is what 46elks posts to an action's next address when the action
// has run: success, failed or busy; for ivr, the keys pressed.
type Result struct {
	CallID string
	Result string
}

var (
	callIDPattern = regexp.MustCompile(`^[A-Za-z0-9]{1,64}$`)
	numberPattern = regexp.MustCompile(`^\+[1-9][0-9]{5,14}$`)
	wordPattern   = regexp.MustCompile(`^[a-z]{1,32}$`)
	keysPattern   = regexp.MustCompile(`^[0-9*#]{0,64}$`)
)

// maxForm bounds what a request may carry; 46elks's are a few hundred bytes.
const maxForm = 16 << 10

// ParseCall reads a voice_start request.
func ParseCall(form url.Values) (Call, error) {
	c := Call{ID: form.Get("callid"), Direction: form.Get("direction"), To: form.Get("to")}
	if !callIDPattern.MatchString(c.ID) {
		return Call{}, invalid("callid", "1 to 64 letters and digits")
	}
	if c.Direction != "incoming" && c.Direction != "outgoing" {
		return Call{}, invalid("direction", "incoming or outgoing")
	}
	if !numberPattern.MatchString(c.To) {
		return Call{}, invalid("to", "a number in E.164 form")
	}
	// A withheld number comes in some other form; it is no number to call back.
	if from := form.Get("from"); numberPattern.MatchString(from) {
		c.From = from
	}
	return c, nil
}

// ParseResult reads the request to an action's next address.
func ParseResult(form url.Values) (Result, error) {
	r := Result{CallID: form.Get("callid"), Result: form.Get("result")}
	if !callIDPattern.MatchString(r.CallID) {
		return Result{}, invalid("callid", "1 to 64 letters and digits")
	}
	if !wordPattern.MatchString(r.Result) && !keysPattern.MatchString(r.Result) {
		return Result{}, invalid("result", "a word such as success, or the keys pressed")
	}
	return r, nil
}

// ParseHangup reads a whenhangup request: which call ended (46elks sends
// its id as id; callid is taken too). Its other fields (state, duration,
// legs) peerline has no use for.
func ParseHangup(form url.Values) (string, error) {
	id := form.Get("id")
	if id == "" {
		id = form.Get("callid")
	}
	if !callIDPattern.MatchString(id) {
		return "", invalid("id", "1 to 64 letters and digits")
	}
	return id, nil
}
