package hours

import (
	"fmt"
	"time"

	"github.com/peerline/peerline/config"
)

// State is open or closed.
type State string

const (
	Open   State = "open"
	Closed State = "closed"
)

// Reason is the machine reason for a state.
type Reason string

const (
	ReasonHours      Reason = "hours"
	ReasonWeekend    Reason = "weekend"
	ReasonHoliday    Reason = "holiday"
	ReasonClosedDate Reason = "closed_date"
	ReasonNoCover    Reason = "no_cover"
	ReasonOffice     Reason = "office"
)

// Override is the office's decision to open or close a line until a given instant.
type Override struct {
	State  State     `json:"state"`
	Reason string    `json:"reason"`
	Until  time.Time `json:"until"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// ActiveAt reports whether the override is in force at t.
func (o *Override) ActiveAt(t time.Time) bool { return o != nil && t.Before(o.Until) }

// Status is a line's state at an instant, with the why in words for people.
type Status struct {
	Line         string     `json:"line"`
	State        State      `json:"state"`
	Reason       Reason     `json:"reason"`
	Text         string     `json:"text"`              // Swedish, for the office and agents
	Holiday      string     `json:"holiday,omitempty"` // the holiday's Swedish name
	ClosesAt     *time.Time `json:"closes_at,omitempty"`
	NextOpen     *time.Time `json:"next_open,omitempty"`
	NextOpenText string     `json:"next_open_text,omitempty"` // "öppnar måndag 12:45"
	Override     *Override  `json:"override"`
}

// Evaluate computes a line's status at now. It is a pure function of its inputs, in
// SPEC 1.1's order: the office's override, then the day's no-cover closure, then the
// calendar.
func Evaluate(id string, now time.Time, c *Calendar, ov *Override, noCover bool) Status {
	now = now.In(c.Location())
	s := Status{Line: id}
	if ov.ActiveAt(now) {
		local := *ov
		local.Until, local.At = ov.Until.In(c.Location()), ov.At.In(c.Location())
		s.Override = &local
		s.Reason = ReasonOffice
		if ov.State == Open {
			s.State = Open
			s.ClosesAt = ptr(closesAfterOverride(c, local.Until))
			s.Text = openedText(ov.Reason, *s.ClosesAt)
			return s
		}
		return closed(s, c, now, fmt.Sprintf("Stängt av kansliet: %s", ov.Reason), c.NextOpen(local.Until))
	}
	if noCover {
		s.Reason = ReasonNoCover
		tomorrow := c.Date(now).AddDays(1).In(c.Location())
		return closed(s, c, now, "Stängt i dag: ingen agent har kunnat ta dagen", c.NextOpen(tomorrow))
	}
	open, reason, holiday := c.At(now)
	s.Reason, s.Holiday = reason, holiday
	if open {
		s.State = Open
		s.ClosesAt = ptr(c.ClosesAt(c.Date(now)))
		s.Text = "Öppet till " + clockText(*s.ClosesAt)
		return s
	}
	return closed(s, c, now, closedText(c, now, reason, holiday), c.NextOpen(now))
}

// DefaultOpenReason is the reason of an opening the office gave none for.
const DefaultOpenReason = "öppnad av kansliet"

// openedText says that the office opened the line, why (unless it gave no
// reason) and until when: "Öppet av kansliet till midnatt".
func openedText(reason string, until time.Time) string {
	t := "Öppet av kansliet"
	if reason != "" && reason != DefaultOpenReason {
		t += " (" + reason + ")"
	}
	if until.Hour() == 0 && until.Minute() == 0 {
		return t + " till midnatt"
	}
	return t + " till " + clockText(until)
}

// closesAfterOverride is when an open override's opening ends: at until, or later
// when the calendar is open then too.
func closesAfterOverride(c *Calendar, until time.Time) time.Time {
	if open, _, _ := c.At(until); open {
		return c.ClosesAt(c.Date(until))
	}
	return until
}

func closed(s Status, c *Calendar, now time.Time, text string, next time.Time) Status {
	s.State = Closed
	s.Text = text
	if !next.IsZero() {
		next = next.In(c.Location())
		s.NextOpen = ptr(next)
		s.NextOpenText = NextOpenText(now, next)
		s.Text += ", " + s.NextOpenText
	}
	return s
}

func closedText(c *Calendar, now time.Time, reason Reason, holiday string) string {
	switch reason {
	case ReasonHoliday:
		return "Stängt: " + holiday
	case ReasonClosedDate:
		return "Stängt i dag enligt kalendern"
	case ReasonWeekend:
		return "Stängt i helgen"
	}
	d := c.Date(now)
	if ok, _, _ := c.ServiceDay(d); !ok {
		return "Stängt: linjen har inte öppet på " + weekdaysSV[d.Weekday()] + "ar"
	}
	return fmt.Sprintf("Stängt: öppettiden är %s–%s", clockText(c.OpensAt(d)), clockText(c.ClosesAt(d)))
}

var (
	weekdaysSV = [...]string{"söndag", "måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag"}
	monthsSV   = [...]string{"", "januari", "februari", "mars", "april", "maj", "juni", "juli",
		"augusti", "september", "oktober", "november", "december"}
)

// NextOpenText says in Swedish when next opens, seen from now (both in the line's zone):
// "öppnar i dag 12:45", "öppnar i morgon 12:45", "öppnar måndag 12:45", "öppnar 7 januari 12:45".
func NextOpenText(now, next time.Time) string {
	today, day := config.DateOf(now), config.DateOf(next)
	var when string
	switch {
	case day == today:
		when = "i dag"
	case day == today.AddDays(1):
		when = "i morgon"
	case next.Sub(now) < 6*24*time.Hour:
		when = weekdaysSV[next.Weekday()]
	case day.Year == today.Year:
		when = fmt.Sprintf("%d %s", day.Day, monthsSV[day.Month])
	default:
		when = fmt.Sprintf("%d %s %d", day.Day, monthsSV[day.Month], day.Year)
	}
	return "öppnar " + when + " " + clockText(next)
}

func clockText(t time.Time) string { return t.Format("15:04") }

// DateText is t's day in Swedish: "torsdag 26 november".
func DateText(t time.Time) string {
	return fmt.Sprintf("%s %d %s", weekdaysSV[t.Weekday()], t.Day(), monthsSV[t.Month()])
}

func ptr[T any](v T) *T { return &v }
