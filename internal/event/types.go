package event

import (
	"encoding/json"
	"fmt"
	"time"
)

// Types of events, as receivers see them in "type" and filter them in
// webhooks[].events.
const (
	LineOpened         = "line.opened"
	LineClosed         = "line.closed"
	DayUncovered       = "day.uncovered"
	CoverTaken         = "cover.taken"
	AgentLocked        = "agent.locked"
	CallFlagged        = "call.flagged"
	AgentAutoLoggedOut = "agent.auto_logged_out"
	DaySummary         = "line.day_summary"
)

// Data is what an event says: one struct per type, so receivers, and the
// templates of notifications, depend on named fields that the compiler checks.
// None has a field for a phone number.
type Data interface {
	Type() string
}

// LineChange is line.opened or line.closed: the line's status after the change.
type LineChange struct {
	Closed   bool       `json:"-"` // which of the two
	Reason   string     `json:"reason"`
	Text     string     `json:"text"`
	NextOpen *time.Time `json:"next_open,omitempty"`
}

func (d LineChange) Type() string {
	if d.Closed {
		return LineClosed
	}
	return LineOpened
}

// Uncovered is day.uncovered: a service day with too few agents expected.
type Uncovered struct {
	Date     string      `json:"date"` // YYYY-MM-DD
	Expected []string    `json:"expected"`
	Sick     []string    `json:"sick"`
	Free     []Colleague `json:"free"`     // who might cover
	Deadline string      `json:"deadline"` // the day closes at this time without cover
}

func (Uncovered) Type() string { return DayUncovered }

// Colleague names an agent: id and name, never the phone.
type Colleague struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Cover is cover.taken: an agent took a day.
type Cover struct {
	Date       string `json:"date"`
	Agent      string `json:"agent"`
	Name       string `json:"name"`
	DayCovered bool   `json:"day_covered"` // the day has enough agents now
}

func (Cover) Type() string { return CoverTaken }

// Lockout is agent.locked: too many wrong PINs.
type Lockout struct {
	Agent   string     `json:"agent"`
	Name    string     `json:"name,omitempty"`
	Lockout int        `json:"lockout"`         // the how-manieth in a row
	Held    bool       `json:"held"`            // until the office lifts it
	Until   *time.Time `json:"until,omitempty"` // when it ends by itself
}

func (Lockout) Type() string { return AgentLocked }

// Flag is call.flagged: the agent ended a call with the safety key.
type Flag struct {
	Call        string    `json:"call"` // the record's id
	Agent       string    `json:"agent"`
	Start       time.Time `json:"start"`
	TalkSeconds float64   `json:"talk_seconds"`
}

func (Flag) Type() string { return CallFlagged }

// AutoLogout is agent.auto_logged_out: the agent missed too many calls in a row.
type AutoLogout struct {
	Agent  string `json:"agent"`
	Missed int    `json:"missed"`
}

func (AutoLogout) Type() string { return AgentAutoLoggedOut }

// Summary is line.day_summary: the day's figures once the line has closed
// for the day (a service day, once per date).
type Summary struct {
	Date      string                    `json:"date"`
	Calls     int                       `json:"calls"`
	Answered  int                       `json:"answered"`
	Missed    int                       `json:"missed"`
	Closed    int                       `json:"closed"`
	Flagged   int                       `json:"flagged"`
	LimitHits int                       `json:"limit_hits"`
	Callbacks int                       `json:"callbacks"`
	TalkMean  float64                   `json:"talk_mean_seconds"`
	Wrapup    map[string]map[string]int `json:"wrapup"`
}

func (Summary) Type() string { return DaySummary }

// Payload decodes e's data into the struct of its type.
func (e Event) Payload() (Data, error) {
	var d Data
	switch e.Type {
	case LineOpened, LineClosed:
		d = &LineChange{Closed: e.Type == LineClosed}
	case DayUncovered:
		d = &Uncovered{}
	case CoverTaken:
		d = &Cover{}
	case AgentLocked:
		d = &Lockout{}
	case CallFlagged:
		d = &Flag{}
	case AgentAutoLoggedOut:
		d = &AutoLogout{}
	case DaySummary:
		d = &Summary{}
	default:
		return nil, fmt.Errorf("event %s: unknown type %q", e.ID, e.Type)
	}
	if len(e.Data) > 0 {
		if err := json.Unmarshal(e.Data, d); err != nil {
			return nil, fmt.Errorf("event %s: %w", e.ID, err)
		}
	}
	return d, nil
}
