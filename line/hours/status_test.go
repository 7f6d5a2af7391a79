package hours_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/line/hours"
)

var stockholm = mustZone("Europe/Stockholm")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func defaultCalendar() *hours.Calendar {
	return hours.NewCalendar(config.Default().Lines[0].Hours, stockholm)
}

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", s, stockholm)
	if err != nil {
		panic(err)
	}
	return t
}

func TestBoundaries(t *testing.T) {
	c := defaultCalendar()
	tests := []struct {
		at     string
		state  hours.State
		reason hours.Reason
	}{
		{"2026-11-23 00:00:00", hours.Closed, hours.ReasonHours},
		{"2026-11-23 12:44:00", hours.Closed, hours.ReasonHours},
		{"2026-11-23 12:44:59", hours.Closed, hours.ReasonHours},
		{"2026-11-23 12:45:00", hours.Open, hours.ReasonHours},
		{"2026-11-23 15:59:00", hours.Open, hours.ReasonHours},
		{"2026-11-23 15:59:59", hours.Open, hours.ReasonHours},
		{"2026-11-23 16:00:00", hours.Closed, hours.ReasonHours},
		{"2026-11-27 15:00:00", hours.Open, hours.ReasonHours},
		{"2026-11-28 13:00:00", hours.Closed, hours.ReasonWeekend},
		{"2026-11-29 13:00:00", hours.Closed, hours.ReasonWeekend},
	}
	for _, tt := range tests {
		s := hours.Evaluate("peer", at(tt.at), c, nil, false)
		if s.State != tt.state || s.Reason != tt.reason {
			t.Errorf("%s: %s/%s, want %s/%s (%s)", tt.at, s.State, s.Reason, tt.state, tt.reason, s.Text)
		}
	}
}

// countOpen walks a week in real 15-minute steps and counts the open ones.
func countOpen(c *hours.Calendar, from time.Time, days int) (open int, reasons map[hours.Reason]int) {
	reasons = map[hours.Reason]int{}
	end := from.AddDate(0, 0, days)
	for t := from; t.Before(end); t = t.Add(15 * time.Minute) {
		s := hours.Evaluate("peer", t, c, nil, false)
		if s.State == hours.Open {
			open++
		}
		reasons[s.Reason]++
	}
	return open, reasons
}

func TestWholeWeeksAroundDSTAndEaster(t *testing.T) {
	c := defaultCalendar()
	const perDay = 13 // 12:45 to 16:00 in 15-minute steps
	tests := []struct {
		monday  string
		workday int
		why     string
	}{
		{"2026-03-23", 5, "week ending in the spring DST switch (29 March)"},
		{"2026-03-30", 4, "first CEST week, Good Friday 3 April"},
		{"2026-10-19", 5, "week ending in the autumn DST switch (25 October)"},
		{"2026-10-26", 5, "first CET week, All Saints on Saturday"},
		{"2027-03-22", 4, "Good Friday 26 March, Easter Sunday is the DST day"},
		{"2027-03-29", 4, "Easter Monday 29 March"},
		{"2027-10-25", 5, "week ending in the autumn DST switch (31 October)"},
		{"2027-11-01", 5, "All Saints on Saturday 6 November"},
		{"2026-12-21", 2, "Christmas eve, Christmas day: Mon and Tue open, Wed 23 too"},
	}
	tests[len(tests)-1].workday = 3
	for _, tt := range tests {
		open, reasons := countOpen(c, at(tt.monday+" 00:00:00"), 7)
		if open != tt.workday*perDay {
			t.Errorf("week of %s (%s): %d open quarters, want %d; reasons %v", tt.monday, tt.why, open, tt.workday*perDay, reasons)
		}
	}
}

func TestOpeningIsLocalWallClockOnDSTDays(t *testing.T) {
	every := config.Default().Lines[0].Hours
	every.Days = []config.Weekday{0, 1, 2, 3, 4, 5, 6}
	every.Holidays = "none"
	c := hours.NewCalendar(every, stockholm)
	for _, tt := range []struct{ day, openUTC, closeUTC string }{
		{"2026-03-28", "11:45", "15:00"}, // CET
		{"2026-03-29", "10:45", "14:00"}, // CEST from 02:00
		{"2026-10-25", "11:45", "15:00"}, // CET from 03:00
		{"2027-03-28", "10:45", "14:00"},
		{"2027-10-31", "11:45", "15:00"},
	} {
		d, _ := config.ParseDate(tt.day)
		if got := c.OpensAt(d).UTC().Format("15:04"); got != tt.openUTC {
			t.Errorf("%s opens %s UTC, want %s", tt.day, got, tt.openUTC)
		}
		if got := c.ClosesAt(d).UTC().Format("15:04"); got != tt.closeUTC {
			t.Errorf("%s closes %s UTC, want %s", tt.day, got, tt.closeUTC)
		}
	}

	// A night window across the switch hour lasts 2 real hours in spring and 4 in autumn.
	night := every
	night.Open, night.Close = config.TimeOfDay{Hour: 1}, config.TimeOfDay{Hour: 4}
	nc := hours.NewCalendar(night, stockholm)
	for day, quarters := range map[string]int{"2026-03-29": 8, "2026-10-25": 16, "2027-03-28": 8, "2027-10-31": 16} {
		open, _ := countOpen(nc, at(day+" 00:00:00"), 1)
		if open != quarters {
			t.Errorf("%s night window: %d open quarters, want %d", day, open, quarters)
		}
	}
}

func TestEverySwedishHoliday(t *testing.T) {
	c := defaultCalendar()
	holidays := map[string]string{
		"2026-01-01": "Nyårsdagen", "2026-01-06": "Trettondedag jul", "2026-04-03": "Långfredagen",
		"2026-04-05": "Påskdagen", "2026-04-06": "Annandag påsk", "2026-05-01": "Första Maj",
		"2026-05-14": "Kristi himmelsfärds dag", "2026-05-24": "Pingstdagen", "2026-06-06": "Sveriges nationaldag",
		"2026-06-19": "Midsommarafton", "2026-06-20": "Midsommardagen", "2026-10-31": "Alla helgons dag",
		"2026-12-24": "Julafton", "2026-12-25": "Juldagen", "2026-12-26": "Annandag jul", "2026-12-31": "Nyårsafton",
		"2027-01-01": "Nyårsdagen", "2027-01-06": "Trettondedag jul", "2027-03-26": "Långfredagen",
		"2027-03-28": "Påskdagen", "2027-03-29": "Annandag påsk", "2027-05-01": "Första Maj",
		"2027-05-06": "Kristi himmelsfärds dag", "2027-05-16": "Pingstdagen", "2027-06-06": "Sveriges nationaldag",
		"2027-06-25": "Midsommarafton", "2027-06-26": "Midsommardagen", "2027-11-06": "Alla helgons dag",
		"2027-12-24": "Julafton", "2027-12-25": "Juldagen", "2027-12-26": "Annandag jul", "2027-12-31": "Nyårsafton",
	}
	for day, name := range holidays {
		s := hours.Evaluate("peer", at(day+" 13:00:00"), c, nil, false)
		if s.State != hours.Closed || s.Reason != hours.ReasonHoliday || s.Holiday != name {
			t.Errorf("%s: %s/%s %q, want closed/holiday %q", day, s.State, s.Reason, s.Holiday, name)
		}
	}
	// Every other weekday of both years is open at 13:00: the list above is the whole list.
	for d := at("2026-01-01 13:00:00"); d.Year() < 2028; d = d.AddDate(0, 0, 1) {
		if _, isHoliday := holidays[d.Format(time.DateOnly)]; isHoliday || d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
			continue
		}
		if s := hours.Evaluate("peer", d, c, nil, false); s.State != hours.Open {
			t.Errorf("%s (%s) is %s/%s, want open", d.Format(time.DateOnly), d.Weekday(), s.State, s.Reason)
		}
	}
	none := config.Default().Lines[0].Hours
	none.Holidays = "none"
	if s := hours.Evaluate("peer", at("2026-12-24 13:00:00"), hours.NewCalendar(none, stockholm), nil, false); s.State != hours.Open {
		t.Errorf("holidays: none still closes on Christmas eve: %+v", s)
	}
}

func TestClosedDatesAndOtherDays(t *testing.T) {
	h := config.Default().Lines[0].Hours
	h.ClosedDates = []config.Date{{Year: 2026, Month: 11, Day: 25}}
	h.Days = []config.Weekday{1, 2, 3, 4} // no Fridays
	c := hours.NewCalendar(h, stockholm)
	s := hours.Evaluate("peer", at("2026-11-25 13:00:00"), c, nil, false)
	if s.Reason != hours.ReasonClosedDate || s.NextOpenText != "öppnar i morgon 12:45" {
		t.Errorf("closed date: %+v", s)
	}
	s = hours.Evaluate("peer", at("2026-11-27 13:00:00"), c, nil, false)
	if s.Reason != hours.ReasonHours || s.Text != "Stängt: linjen har inte öppet på fredagar, öppnar måndag 12:45" {
		t.Errorf("Friday: %+v", s)
	}
}

func TestNextOpenText(t *testing.T) {
	c := defaultCalendar()
	tests := []struct{ at, want string }{
		{"2026-11-23 10:00:00", "öppnar i dag 12:45"},
		{"2026-11-23 16:00:00", "öppnar i morgon 12:45"},
		{"2026-11-27 16:30:00", "öppnar måndag 12:45"},
		{"2026-11-28 09:00:00", "öppnar måndag 12:45"},
		{"2026-12-23 16:30:00", "öppnar måndag 12:45"}, // over Christmas
		{"2026-12-30 17:00:00", "öppnar måndag 12:45"}, // over New Year, into 2027
		{"2026-06-18 16:00:00", "öppnar måndag 12:45"}, // over midsummer
	}
	for _, tt := range tests {
		s := hours.Evaluate("peer", at(tt.at), c, nil, false)
		if s.NextOpenText != tt.want {
			t.Errorf("%s: %q, want %q", tt.at, s.NextOpenText, tt.want)
		}
	}
	if got := hours.NextOpenText(at("2026-11-23 13:00:00"), at("2026-12-14 12:45:00")); got != "öppnar 14 december 12:45" {
		t.Errorf("far: %q", got)
	}
	if got := hours.NextOpenText(at("2026-12-10 13:00:00"), at("2027-01-07 12:45:00")); got != "öppnar 7 januari 2027 12:45" {
		t.Errorf("next year: %q", got)
	}
}

func TestOverridePrecedence(t *testing.T) {
	c := defaultCalendar()
	now := at("2026-11-23 13:00:00")
	closedOv := &hours.Override{State: hours.Closed, Reason: "Personalmöte", Until: at("2026-11-23 14:30:00")}
	s := hours.Evaluate("peer", now, c, closedOv, false)
	if s.State != hours.Closed || s.Reason != hours.ReasonOffice || s.Text != "Stängt av kansliet: Personalmöte, öppnar i dag 14:30" {
		t.Errorf("closed override: %+v", s)
	}
	if s := hours.Evaluate("peer", at("2026-11-23 14:30:00"), c, closedOv, false); s.State != hours.Open || s.Override != nil {
		t.Errorf("after until: %+v", s)
	}
	// A closure until after hours points at the next day's opening.
	late := &hours.Override{State: hours.Closed, Reason: "Sjukdom", Until: at("2026-11-24 00:00:00")}
	if s := hours.Evaluate("peer", now, c, late, false); *s.NextOpen != at("2026-11-24 12:45:00") {
		t.Errorf("next open after a day's closure: %v", s.NextOpen)
	}

	// No cover closes an open day; the office's opening beats it.
	if s := hours.Evaluate("peer", now, c, nil, true); s.State != hours.Closed || s.Reason != hours.ReasonNoCover || *s.NextOpen != at("2026-11-24 12:45:00") {
		t.Errorf("no cover: %+v", s)
	}
	openOv := &hours.Override{State: hours.Open, Reason: "Extra kväll", Until: at("2026-11-23 20:00:00")}
	s = hours.Evaluate("peer", now, c, openOv, true)
	if s.State != hours.Open || s.Reason != hours.ReasonOffice || *s.ClosesAt != at("2026-11-23 20:00:00") ||
		s.Text != "Öppet av kansliet (Extra kväll) till 20:00" {
		t.Errorf("open override over no cover: %+v", s)
	}
	// Opened with no reason for the rest of the day: said plainly.
	rest := &hours.Override{State: hours.Open, Reason: hours.DefaultOpenReason, Until: at("2026-11-24 00:00:00")}
	if s := hours.Evaluate("peer", at("2026-11-23 18:00:00"), c, rest, false); s.Text != "Öppet av kansliet till midnatt" {
		t.Errorf("an opening with no reason to the end of the day says %q", s.Text)
	}
	// Opened early: the opening runs on into the calendar's hours.
	early := &hours.Override{State: hours.Open, Reason: "Tidig start", Until: at("2026-11-23 13:00:00")}
	if s := hours.Evaluate("peer", at("2026-11-23 12:00:00"), c, early, false); *s.ClosesAt != at("2026-11-23 16:00:00") {
		t.Errorf("early opening closes at %v, want 16:00", s.ClosesAt)
	}
}

func ExampleEvaluate() {
	c := hours.NewCalendar(config.Default().Lines[0].Hours, stockholm)
	for _, t := range []string{"2026-11-27 13:00:00", "2026-11-27 16:10:00", "2026-12-24 13:00:00"} {
		s := hours.Evaluate("peer", at(t), c, nil, false)
		fmt.Printf("%s %s/%s: %s\n", t, s.State, s.Reason, s.Text)
	}
	// Output:
	// 2026-11-27 13:00:00 open/hours: Öppet till 16:00
	// 2026-11-27 16:10:00 closed/hours: Stängt: öppettiden är 12:45–16:00, öppnar måndag 12:45
	// 2026-12-24 13:00:00 closed/holiday: Stängt: Julafton, öppnar måndag 12:45
}
