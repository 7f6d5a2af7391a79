package line_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/clock/clocktest"
	"github.com/peerline/peerline/internal/input"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/line/hours"
	"github.com/peerline/peerline/line/linetest"
)

const callerNumber = "+46701234567"

func TestCallerFlowsByStatus(t *testing.T) {
	dir := t.TempDir()
	clk := clocktest.New(at("2026-11-28 13:00:00")) // Saturday
	ls, db := openLines(t, dir, clk)
	call := func(id string) (*linetest.Call, line.Record) {
		t.Helper()
		c := linetest.NewCall(id, callerNumber)
		if err := ls.Handle(context.Background(), "peer", c); err != nil {
			t.Fatal(err)
		}
		recs, _ := ls.Records("peer", date("2026-11-01"), date("2026-12-31"))
		return c, recs[len(recs)-1]
	}
	tests := []struct {
		at, prompt string
		outcome    line.Outcome
		reason     hours.Reason
		setup      func()
	}{
		{"2026-11-28 13:00:00", closedHours, line.OutcomeClosed, hours.ReasonWeekend, nil},
		{"2026-11-30 10:00:00", closedHours, line.OutcomeClosed, hours.ReasonHours, nil},
		{"2026-12-01 13:00:00", "no-agents", line.OutcomeNoAgents, "", nil},
		{"2026-12-02 13:00:00", "closed-today", line.OutcomeClosed, hours.ReasonOffice, func() {
			ls.SetOverride(office, "peer", hours.Closed, "Personalmöte", time.Time{})
		}},
		{"2026-12-24 13:00:00", "closed-thanks closed-holiday-today " + hoursSaid, line.OutcomeClosed, hours.ReasonHoliday, nil},
	}
	for i, tt := range tests {
		clk.Set(at(tt.at))
		if tt.setup != nil {
			tt.setup()
		}
		c, rec := call(string(rune('a' + i)))
		answered, played, hungUp := c.Result()
		if !answered || strings.Join(played, " ") != tt.prompt || !hungUp {
			t.Errorf("%s: answered %v, played %v, hung up %v; want %s", tt.at, answered, played, hungUp, tt.prompt)
		}
		if rec.Outcome != tt.outcome || rec.Reason != tt.reason || !rec.Start.Equal(at(tt.at)) {
			t.Errorf("%s: record %+v", tt.at, rec)
		}
	}
	db.Close()
	raw, err := os.ReadFile(filepath.Join(dir, "peerline.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, form := range []string{callerNumber, "701234567"} {
		if bytes.Contains(raw, []byte(form)) {
			t.Errorf("the database file holds the caller's number (%s)", form)
		}
	}
}

// The default hours (weekdays 12:45-16:00) as the closed announcements say them.
const (
	hoursSaid   = "closed-here days-weekdays between number-12 number-45 and number-16"
	closedHours = "closed-thanks " + hoursSaid + " closed-welcome"
)

// TestClosedAnnouncementsSayTheConfiguredHours: the days and times come from
// the config; a line with its own recording plays that instead.
func TestClosedAnnouncementsSayTheConfiguredHours(t *testing.T) {
	tests := []struct {
		days        []config.Weekday
		open, close string
		want        string
	}{
		{[]config.Weekday{1, 2, 3, 4, 5}, "13:00", "16:00", "days-weekdays between number-13 and number-16"},
		{[]config.Weekday{0, 1, 2, 3, 4, 5, 6}, "09:05", "21:30", "days-all between number-9 number-0 number-5 and number-21 number-30"},
		{[]config.Weekday{4, 1, 2, 3}, "18:00", "22:00", "weekday-1 to weekday-4 between number-18 and number-22"},
		{[]config.Weekday{1, 3, 5}, "13:00", "16:00", "weekdays-1 weekdays-3 and weekdays-5 between number-13 and number-16"},
		{[]config.Weekday{6, 0}, "10:00", "14:00", "weekdays-6 and weekdays-7 between number-10 and number-14"},
		{[]config.Weekday{2}, "19:00", "21:00", "weekdays-2 between number-19 and number-21"},
	}
	for _, tt := range tests {
		lines := config.Default().Lines
		lines[0].Hours.Days = tt.days
		lines[0].Hours.Open, lines[0].Hours.Close = timeOfDay(t, tt.open), timeOfDay(t, tt.close)
		w := newWorld(t, "2026-11-29 23:30:00", lines) // a Sunday night: closed on every line above
		c := linetest.NewCall("c", callerNumber)
		if err := w.lines.Handle(context.Background(), "peer", c); err != nil {
			t.Fatal(err)
		}
		_, played, _ := c.Result()
		if want := "closed-thanks closed-here " + tt.want + " closed-welcome"; strings.Join(played, " ") != want {
			t.Errorf("%v %s-%s:\n got %s\nwant %s", tt.days, tt.open, tt.close, strings.Join(played, " "), want)
		}
	}
	w := newWorld(t, "2026-11-29 23:30:00", config.Default().Lines)
	w.lines.SetOwnPrompts(func(line, name string) bool { return line == "peer" && name == "closed-hours" })
	c := linetest.NewCall("c", callerNumber)
	w.lines.Handle(context.Background(), "peer", c)
	if _, played, _ := c.Result(); strings.Join(played, " ") != "closed-hours" {
		t.Errorf("the office's own recording: %v", played)
	}
}

func timeOfDay(t *testing.T, s string) config.TimeOfDay {
	var tod config.TimeOfDay
	if _, err := fmt.Sscanf(s, "%d:%d", &tod.Hour, &tod.Minute); err != nil {
		t.Fatal(err)
	}
	return tod
}

func TestCallerHangsUpDuringTheAnnouncement(t *testing.T) {
	clk := clocktest.New(at("2026-11-28 13:00:00"))
	ls, db := openLines(t, t.TempDir(), clk)
	defer db.Close()
	c := linetest.NewCall("x", callerNumber)
	c.PlayTime = time.Minute
	go func() { time.Sleep(20 * time.Millisecond); c.CallerHangsUp() }()
	if err := ls.Handle(context.Background(), "peer", c); err != nil {
		t.Fatal(err)
	}
	recs, _ := ls.Records("peer", date("2026-11-28"), date("2026-11-28"))
	if len(recs) != 1 || recs[0].Outcome != line.OutcomeClosed {
		t.Errorf("records: %+v", recs)
	}
	if _, err := ls.Records("peer", date("2026-11-28"), date("2026-11-01")); err == nil {
		t.Error("to before from accepted")
	}
	if recs, _ := ls.Records("peer", date("2026-11-29"), date("2026-11-30")); len(recs) != 0 {
		t.Errorf("a later range found %+v", recs)
	}
}

func TestQueriesAreBoundedInDays(t *testing.T) {
	w := newWorld(t, "2026-05-19 13:00:00", config.Default().Lines)
	from := date("2026-01-01")
	if _, err := w.lines.Records("peer", from, from.AddDays(365)); err != nil {
		t.Errorf("366 days of records: %v", err)
	}
	if _, err := w.lines.Records("peer", from, from.AddDays(366)); err == nil {
		t.Error("367 days of records were served")
	}
	if _, err := w.lines.Roster("peer", from, from.AddDays(91)); err != nil {
		t.Errorf("92 days of roster: %v", err)
	}
	for _, q := range []func() error{
		func() error { _, err := w.lines.Roster("peer", from, from.AddDays(92)); return err },
		func() error { _, err := w.lines.Records("peer", from, from.AddDays(-1)); return err },
	} {
		var ie *input.Error
		if err := q(); !errors.As(err, &ie) || ie.Field != "to" {
			t.Errorf("want an input error on to, got %v", err)
		}
	}
}
