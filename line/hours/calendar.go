// Package hours is when a line is open: its regular calendar (service days, the
// daily window in the line's time zone, Swedish holidays, closed dates), the
// office's override, and the status they give at an instant, with the why in
// Swedish words. It is pure: no storage, no clock of its own, no telephony.
package hours

import (
	"time"

	"github.com/peerline/peerline/config"
	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/se"
)

// Calendar is a line's regular opening: service days, the daily window in the line's
// time zone, holidays and extra closed dates. It knows nothing of overrides.
type Calendar struct {
	loc         *time.Location
	days        [7]bool
	open, close config.TimeOfDay
	holidays    *cal.Calendar // nil: no holidays
	closed      map[config.Date]bool
}

// NewCalendar builds the calendar of hours in loc.
func NewCalendar(h config.Hours, loc *time.Location) *Calendar {
	c := &Calendar{loc: loc, open: h.Open, close: h.Close, closed: map[config.Date]bool{}}
	for _, d := range h.Days {
		c.days[d] = true
	}
	if h.Holidays == "SE" {
		c.holidays = &cal.Calendar{}
		c.holidays.AddHoliday(swedishHolidays...)
	}
	for _, d := range h.ClosedDates {
		c.closed[d] = true
	}
	return c
}

// swedishHolidays are the library's national holidays plus the two it leaves out
// because they always fall on a Sunday, so that the status still names them.
var swedishHolidays = append([]*cal.Holiday{se.Paskdagen, se.Pingstdagen}, se.Holidays...)

// Location is the line's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// Date is the local date of t.
func (c *Calendar) Date(t time.Time) config.Date { return config.DateOf(t.In(c.loc)) }

// ServiceDay reports whether the line opens on d; if not, why (and the holiday's name).
func (c *Calendar) ServiceDay(d config.Date) (bool, Reason, string) {
	if c.closed[d] {
		return false, ReasonClosedDate, ""
	}
	if c.holidays != nil {
		// The holiday library compares dates; noon UTC keeps d on its own day.
		if actual, _, h := c.holidays.IsHoliday(time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC)); actual {
			return false, ReasonHoliday, h.Name
		}
	}
	if !c.days[d.Weekday()] {
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
			return false, ReasonWeekend, ""
		}
		return false, ReasonHours, ""
	}
	return true, ReasonHours, ""
}

// OpensAt and ClosesAt are the instants the window starts and ends on d. On a DST
// day they are still the wall-clock times; Go resolves a time in a gap forwards.
func (c *Calendar) OpensAt(d config.Date) time.Time { return c.at(d, c.open) }

func (c *Calendar) ClosesAt(d config.Date) time.Time { return c.at(d, c.close) }

func (c *Calendar) at(d config.Date, t config.TimeOfDay) time.Time {
	return time.Date(d.Year, d.Month, d.Day, t.Hour, t.Minute, 0, 0, c.loc)
}

// At is the calendar's answer for t: open, or closed with a reason.
func (c *Calendar) At(t time.Time) (open bool, reason Reason, holiday string) {
	d := c.Date(t)
	ok, reason, holiday := c.ServiceDay(d)
	if !ok {
		return false, reason, holiday
	}
	return !t.Before(c.OpensAt(d)) && t.Before(c.ClosesAt(d)), ReasonHours, ""
}

// searchDays bounds the search for the next opening; a calendar closed for longer has none.
const searchDays = 400

// NextOpen is the first instant at or after t when the calendar is open; zero if none.
func (c *Calendar) NextOpen(t time.Time) time.Time {
	d := c.Date(t)
	for range searchDays {
		if ok, _, _ := c.ServiceDay(d); ok {
			if t.Before(c.OpensAt(d)) {
				return c.OpensAt(d)
			}
			if t.Before(c.ClosesAt(d)) {
				return t
			}
		}
		d = d.AddDays(1)
	}
	return time.Time{}
}
