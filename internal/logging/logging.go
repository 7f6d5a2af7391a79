// Package logging builds peerline's zerolog logger. Every line it writes goes through
// a filter that masks phone numbers, so a number that reaches a log by any path (a
// SIP message logged by sipgo, an error text) is never written in full.
package logging

import (
	"fmt"
	"io"

	"github.com/peerline/peerline/config"
	"github.com/rs/zerolog"
)

// TimeFormat has milliseconds but no long digit runs that the mask would hide.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// New returns a logger writing to w in the configured level and format. A
// number public reports true for (a line's own number, in any form) is written
// in full: it is on the line's posters, and the operator needs to see which
// form the trunk sent. Each event is written before the call that logs it
// returns; peerline itself logs through NewQueued.
func New(c config.Log, w io.Writer, public func(number string) bool) (zerolog.Logger, error) {
	level, err := zerolog.ParseLevel(c.Level)
	if err != nil {
		return zerolog.Nop(), fmt.Errorf("logging: %w", err)
	}
	return logger(output(c, w, public), level), nil
}

// NewQueued is New with the events written by a goroutine of the Queue's
// own: logging costs a call a copy, not a write, and a log output that stops
// reading stops no call. Close the Queue to write the last events.
func NewQueued(c config.Log, w io.Writer, public func(number string) bool) (zerolog.Logger, *Queue, error) {
	level, err := zerolog.ParseLevel(c.Level)
	if err != nil {
		return zerolog.Nop(), nil, fmt.Errorf("logging: %w", err)
	}
	q := newQueue(w, func(w io.Writer) io.Writer { return output(c, w, public) })
	return logger(q, level), q, nil
}

// output masks what it is given and lays it out in the configured format.
func output(c config.Log, w io.Writer, public func(number string) bool) io.Writer {
	out := io.Writer(&maskWriter{w: w, public: public})
	if c.Format == "console" {
		out = zerolog.ConsoleWriter{Out: out, TimeFormat: "15:04:05.000", NoColor: true}
	}
	return out
}

func logger(w io.Writer, level zerolog.Level) zerolog.Logger {
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}

func init() { zerolog.TimeFieldFormat = TimeFormat }

// With is l with key=value in each of its events. zerolog's own With gives
// every logger it makes a 500-byte buffer for its fields, and each call's
// two legs have a logger of their own: a kilobyte of every call's memory. A
// hook adds the field as each event is written instead, after the event's
// own fields; the console format sorts them anyway.
func With(l zerolog.Logger, key, value string) zerolog.Logger {
	return l.Hook(field{key, value})
}

type field struct{ key, value string }

func (f field) Run(e *zerolog.Event, _ zerolog.Level, _ string) { e.Str(f.key, f.value) }
