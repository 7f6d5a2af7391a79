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
// form the trunk sent.
func New(c config.Log, w io.Writer, public func(number string) bool) (zerolog.Logger, error) {
	level, err := zerolog.ParseLevel(c.Level)
	if err != nil {
		return zerolog.Nop(), fmt.Errorf("logging: %w", err)
	}
	out := io.Writer(&maskWriter{w: w, public: public})
	if c.Format == "console" {
		out = zerolog.ConsoleWriter{Out: out, TimeFormat: "15:04:05.000", NoColor: true}
	}
	return zerolog.New(out).Level(level).With().Timestamp().Logger(), nil
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
