// Package elks is 46elks's own voice webhooks as a PBX for peerline: a
// number's voice_start points at peerline, which answers each of 46elks's
// requests with the call's next action (play, ivr, connect, hangup) and its
// next address, and learns the end of a call from whenhangup. Outbound legs go
// through 46elks's make-call API. What 46elks cannot do that peerline's flows
// use (keys and one-sided prompts during a connected call) is in ELKS.md.
//
// This file reads 46elks's requests: form-encoded posts whose fields are the
// documented ones (receive-call, the actions' results, whenhangup).
package elks

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
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

// Call is what 46elks posts to voice_start: a call coming in to one of the
// numbers, or (direction outgoing, result newoutgoing) a call placed through
// the make-call API that was answered.
type Call struct {
	ID        string    // 46elks's call id: kept in memory only, never stored or logged
	Direction string    // incoming or outgoing
	From      string    // the caller's number; "" when withheld. In memory only.
	To        string    // the number called
	Created   time.Time // zero when not sent
}

// Result is what 46elks posts to an action's next address when the action
// has run: success, failed or busy; for ivr, the keys pressed.
type Result struct {
	CallID string
	Result string
}

// Hangup is what 46elks posts to whenhangup when a call has ended.
type Hangup struct {
	ID        string
	Direction string
	State     string // success, failed, busy, ...
	Duration  int    // seconds
	Start     time.Time
	Created   time.Time
	Legs      []Leg // the calls a connect made
}

// Leg is one call a connect made: how long it lasted and how it went.
type Leg struct {
	Duration int    `json:"duration"`
	State    string `json:"state"`
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
	created, err := parseTime(form.Get("created"))
	if err != nil {
		return Call{}, invalid("created", "a time such as 2018-07-13T13:57:23.741000")
	}
	c.Created = created
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

// ParseHangup reads a whenhangup request.
func ParseHangup(form url.Values) (Hangup, error) {
	h := Hangup{ID: form.Get("id"), Direction: form.Get("direction"), State: form.Get("state")}
	if h.ID == "" {
		h.ID = form.Get("callid")
	}
	if !callIDPattern.MatchString(h.ID) {
		return Hangup{}, invalid("id", "1 to 64 letters and digits")
	}
	if h.State != "" && !wordPattern.MatchString(h.State) {
		return Hangup{}, invalid("state", "a word such as success")
	}
	if d := form.Get("duration"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 || n > 7*24*3600 {
			return Hangup{}, invalid("duration", "whole seconds")
		}
		h.Duration = n
	}
	var err error
	if h.Start, err = parseTime(form.Get("start")); err != nil {
		return Hangup{}, invalid("start", "a time such as 2018-07-13T13:57:23.741000")
	}
	if h.Created, err = parseTime(form.Get("created")); err != nil {
		return Hangup{}, invalid("created", "a time such as 2018-07-13T13:57:23.741000")
	}
	if legs := form.Get("legs"); legs != "" {
		if err := json.Unmarshal([]byte(legs), &h.Legs); err != nil {
			return Hangup{}, invalid("legs", "a JSON list of legs")
		}
		for _, l := range h.Legs {
			if l.Duration < 0 || (l.State != "" && !wordPattern.MatchString(l.State)) {
				return Hangup{}, invalid("legs", "a leg's duration or state")
			}
		}
	}
	return h, nil
}

// parseTime reads 46elks's times: UTC without a zone, to the microsecond.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999", "2006-01-02 15:04:05.999999", time.RFC3339Nano} {
		if t, err := time.ParseInLocation(layout, strings.TrimSpace(s), time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("not a time")
}
