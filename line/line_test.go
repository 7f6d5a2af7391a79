package line_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/audit"
	"github.com/peerline/peerline/internal/clock/clocktest"
	"github.com/peerline/peerline/internal/input"
	"github.com/peerline/peerline/internal/storage"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/line/hours"
	bolt "go.etcd.io/bbolt"
)

var stockholm = mustZone("Europe/Stockholm")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", s, stockholm)
	if err != nil {
		panic(err)
	}
	return t
}

func openLines(t *testing.T, dir string, clk *clocktest.Fake) (*line.Lines, *bolt.DB) {
	t.Helper()
	db, err := storage.Open(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audit.Open(db); err != nil {
		t.Fatal(err)
	}
	ls, err := line.New(db, clk, config.Default().Lines, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ls, db
}

var office = audit.WithActor(context.Background(), audit.Actor{Kind: "token", Name: "kansliet", Remote: "127.0.0.1"})

func TestOverrideWithoutUntilEndsAtLocalMidnight(t *testing.T) {
	for _, day := range []string{"2026-11-28", "2026-10-25", "2026-03-29"} { // a Saturday, both DST Sundays
		clk := clocktest.New(at(day + " 20:00:00"))
		ls, db := openLines(t, t.TempDir(), clk)
		s, err := ls.SetOverride(office, "peer", hours.Open, "Extra kväll", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		midnight := at(day+" 00:00:00").AddDate(0, 0, 1)
		if s.State != hours.Open || s.Reason != hours.ReasonOffice || !s.Override.Until.Equal(midnight) {
			t.Errorf("%s: %+v, want open until %v", day, s, midnight)
		}
		clk.Set(midnight.Add(-time.Second))
		if s, _ := ls.Status("peer"); s.State != hours.Open {
			t.Errorf("%s 23:59:59: %s", day, s.State)
		}
		clk.Set(midnight)
		if s, _ := ls.Status("peer"); s.State != hours.Closed || s.Override != nil {
			t.Errorf("%s midnight: %+v, want the calendar back", day, s)
		}
		db.Close()
	}
}

func TestOverrideLifecycleSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	clk := clocktest.New(at("2026-11-23 13:00:00"))
	ls, db := openLines(t, dir, clk)
	until := at("2026-11-23 15:00:00")
	s, err := ls.SetOverride(office, "peer", hours.Closed, "Personalmöte", until)
	if err != nil || s.State != hours.Closed || s.Reason != hours.ReasonOffice || s.Override.By != "kansliet" {
		t.Fatalf("close: %+v %v", s, err)
	}
	db.Close()

	ls, db = openLines(t, dir, clk)
	defer db.Close()
	if s, _ := ls.Status("peer"); s.Reason != hours.ReasonOffice || s.Override.Reason != "Personalmöte" {
		t.Fatalf("after restart: %+v", s)
	}
	if s, err := ls.ClearOverride(office, "peer"); err != nil || s.State != hours.Open || s.Reason != hours.ReasonHours {
		t.Fatalf("clear: %+v %v", s, err)
	}
	if _, err := ls.ClearOverride(office, "peer"); err != nil {
		t.Fatalf("clearing nothing: %v", err)
	}
	entries, _ := auditLog(t, db).List(0, 10)
	if len(entries) != 2 || entries[0].Action != "line.override.delete" || entries[1].Action != "line.close" ||
		entries[1].Actor.Name != "kansliet" || entries[1].Detail["reason"] != "Personalmöte" {
		t.Errorf("audit = %+v", entries)
	}
}

func TestOverrideInputErrors(t *testing.T) {
	clk := clocktest.New(at("2026-11-23 13:00:00"))
	ls, db := openLines(t, t.TempDir(), clk)
	defer db.Close()
	tests := []struct {
		state  hours.State
		reason string
		until  time.Time
		field  string
	}{
		{hours.Closed, "", time.Time{}, "reason"},
		{hours.Closed, "x", at("2026-11-23 12:00:00"), "until"},
		{hours.Open, "", at("2026-11-23 13:00:00"), "until"},
		{hours.Closed, "x", at("2028-01-01 00:00:00"), "until"},
		{hours.Closed, string(make([]rune, 201)), time.Time{}, "reason"},
	}
	for _, tt := range tests {
		_, err := ls.SetOverride(office, "peer", tt.state, tt.reason, tt.until)
		if e, ok := input.As(err); !ok || e.Field != tt.field {
			t.Errorf("%s %q %v: %v, want an error on %s", tt.state, tt.reason, tt.until, err, tt.field)
		}
	}
	if _, err := ls.SetOverride(office, "nope", hours.Closed, "x", time.Time{}); !errors.Is(err, line.ErrUnknownLine) {
		t.Errorf("unknown line: %v", err)
	}
	if entries, _ := auditLog(t, db).List(0, 10); len(entries) != 0 {
		t.Errorf("refused changes were audited: %+v", entries)
	}
}

func auditLog(t *testing.T, db *bolt.DB) *audit.Log {
	t.Helper()
	l, err := audit.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
