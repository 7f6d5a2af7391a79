package elks

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Action is peerline's answer to a 46elks request: exactly one of play, ivr,
// connect and hangup, with the address 46elks posts the result to (next) and,
// on a call's first action, where it reports the end (whenhangup).
type Action struct {
	Play string `json:"play,omitempty"` // a sound's URL

	IVR     string `json:"ivr,omitempty"`     // a sound's URL, then the keys
	Digits  int    `json:"digits,omitempty"`  // ivr: at most this many keys; # ends them sooner
	Timeout int    `json:"timeout,omitempty"` // ivr: seconds to wait for a key (1-30); connect: to ring
	Repeat  int    `json:"repeat,omitempty"`  // ivr: how often the sound is played while nothing is pressed

	Connect  string `json:"connect,omitempty"`  // the number to ring and connect
	CallerID string `json:"callerid,omitempty"` // connect: the number shown (the line's, never the caller's)

	Hangup string `json:"hangup,omitempty"` // busy, reject or 404 (only reject after the first action)

	Next       string `json:"next,omitempty"`
	WhenHangup string `json:"whenhangup,omitempty"`
}

// Validate checks an action against 46elks's documented schema, so that a
// mistake of ours fails in a test rather than on a caller's call.
func (a Action) Validate() error {
	kinds := 0
	for _, set := range []bool{a.Play != "", a.IVR != "", a.Connect != "", a.Hangup != ""} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return errors.New("elks action: exactly one of play, ivr, connect and hangup")
	}
	for name, u := range map[string]string{"play": a.Play, "ivr": a.IVR, "next": a.Next, "whenhangup": a.WhenHangup} {
		if u != "" && !absoluteURL(u) {
			return fmt.Errorf("elks action: %s is not an absolute http(s) URL", name)
		}
	}
	switch {
	case a.Hangup != "":
		if a.Hangup != "busy" && a.Hangup != "reject" && a.Hangup != "404" {
			return errors.New("elks action: hangup is busy, reject or 404")
		}
		if a.Next != "" {
			return errors.New("elks action: hangup takes no next")
		}
	case a.IVR != "":
		if a.Digits < 1 || a.Timeout < 1 || a.Timeout > 30 || a.Repeat < 1 {
			return errors.New("elks action: ivr needs digits ≥ 1, a timeout of 1-30 s and repeat ≥ 1")
		}
	case a.Connect != "":
		for _, n := range strings.Split(a.Connect, ",") {
			if !numberPattern.MatchString(n) {
				return errors.New("elks action: connect takes numbers in E.164 form")
			}
		}
		if a.CallerID != "" && !numberPattern.MatchString(a.CallerID) {
			return errors.New("elks action: callerid is a number in E.164 form")
		}
	}
	if a.IVR == "" && (a.Digits != 0 || a.Repeat != 0) {
		return errors.New("elks action: digits and repeat belong to ivr")
	}
	if a.Connect == "" && a.CallerID != "" {
		return errors.New("elks action: callerid belongs to connect")
	}
	if a.Timeout != 0 && a.IVR == "" && a.Connect == "" {
		return errors.New("elks action: timeout belongs to ivr and connect")
	}
	return nil
}

// MarshalJSON writes a valid action; an invalid one is an error.
func (a Action) MarshalJSON() ([]byte, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	type plain Action
	return json.Marshal(plain(a))
}

func absoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
