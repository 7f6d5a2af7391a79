package roster_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/audit"
	"github.com/peerline/peerline/internal/clock/clocktest"
	"github.com/peerline/peerline/internal/event"
	"github.com/peerline/peerline/internal/input"
	"github.com/peerline/peerline/internal/storage"
	"github.com/peerline/peerline/roster"
	bolt "go.etcd.io/bbolt"
)

// events records what the roster emits.
type events struct{ got []string }

func (e *events) Emit(_ *bolt.Tx, _ time.Time, _ string, d event.Data) error {
	b, _ := json.Marshal(d)
	e.got = append(e.got, d.Type()+" "+string(b))
	return nil
}

type fixture struct {
	store *roster.Store
	db    *bolt.DB
	clock *clocktest.Fake
	ev    *events
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := storage.Open(t.TempDir(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := audit.Open(db); err != nil {
		t.Fatal(err)
	}
	clk := clocktest.New(time.Date(2026, 5, 19, 8, 0, 0, 0, time.UTC))
	ev := &events{}
	s, err := roster.NewStore(db, clk, config.Default().Lines[0].PIN, []string{"peer", "kvall"}, ev)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{store: s, db: db, clock: clk, ev: ev}
}

var ctx = audit.WithActor(context.Background(), audit.Actor{Kind: "token", Name: "kansliet"})

func (f *fixture) importExample(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile("../deploy/examples/roster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file, err := roster.ParseImport(b)
	if err != nil {
		t.Fatal(err)
	}
	if added, _, err := f.store.Import(ctx, file); err != nil || added != 4 {
		t.Fatalf("import: %d %v", added, err)
	}
}

func TestNormalizePhone(t *testing.T) {
	for in, want := range map[string]string{
		"070-123 45 67":       "+46701234567",
		"+46 70 123 45 67":    "+46701234567",
		"+46 (0)70-123 45 67": "+46701234567",
		"0046701234567":       "+46701234567",
		"08-123 456 78":       "+46812345678",
		"+47 912 34 567":      "+4791234567",
	} {
		if got, err := roster.NormalizePhone(in); err != nil || got != want {
			t.Errorf("%q -> %q %v, want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "abc", "701234567", "+46 70 12", "+0701234567", "070-123 45 67 ext 5", "+1234567890123456"} {
		if got, err := roster.NormalizePhone(bad); !errors.Is(err, roster.ErrBadPhone) {
			t.Errorf("%q -> %q %v, want ErrBadPhone", bad, got, err)
		}
	}
}

func TestPINPolicy(t *testing.T) {
	p := config.Default().Lines[0].PIN
	for _, pin := range []string{"12345", "123456789", "12a456", "111111", "123456", "654321", "890123", "121212", "012345", "234567", "123456"} {
		if err := roster.CheckPINPolicy(pin, "+46701234567", p); err == nil {
			t.Errorf("%s accepted", pin)
		}
	}
	for _, pin := range []string{"701234", "0701234", "4670123"} { // parts of the agent's own number
		if e, ok := input.As(roster.CheckPINPolicy(pin, "+46701234567", p)); !ok || !strings.Contains(e.Msg, "phone") {
			t.Errorf("%s from the phone number accepted or wrongly refused: %v", pin, e)
		}
	}
	for _, pin := range []string{"862491", "40517329", "135792"} {
		if err := roster.CheckPINPolicy(pin, "+46701234567", p); err != nil {
			t.Errorf("%s refused: %v", pin, err)
		}
	}
}

func TestLockoutLadder(t *testing.T) {
	f := newFixture(t)
	f.importExample(t)
	if err := f.store.SetPIN(ctx, "klara", "862491"); err != nil {
		t.Fatal(err)
	}
	fail5 := func() error {
		t.Helper()
		var err error
		for i := range 5 {
			err = f.store.CheckPIN(ctx, "klara", "000000")
			if i < 4 && !errors.Is(err, roster.ErrWrongPIN) {
				t.Fatalf("failure %d: %v", i+1, err)
			}
		}
		return err
	}
	var le *roster.LockedError
	for i, want := range []time.Duration{15 * time.Minute, 30 * time.Minute} {
		start := f.clock.Now()
		if err := fail5(); !errors.As(err, &le) || !le.New || le.Held || !le.Until.Equal(start.Add(want)) {
			t.Fatalf("lockout %d: %v, want %s", i+1, err, want)
		}
		// While locked even the right PIN is refused, and nothing is counted.
		if err := f.store.CheckPIN(ctx, "klara", "862491"); !errors.As(err, &le) || le.New {
			t.Fatalf("right PIN while locked: %v", err)
		}
		f.clock.Advance(want - time.Second)
		if err := f.store.CheckPIN(ctx, "klara", "000000"); !errors.Is(err, roster.ErrLocked) {
			t.Fatalf("a second before the end: %v", err)
		}
		f.clock.Advance(time.Second)
	}
	if err := fail5(); !errors.As(err, &le) || !le.Held {
		t.Fatalf("third lockout: %v, want held for the office", err)
	}
	f.clock.Advance(24 * time.Hour)
	if err := f.store.CheckPIN(ctx, "klara", "862491"); !errors.As(err, &le) || !le.Held {
		t.Fatalf("held lockout ended by itself: %v", err)
	}
	if set, locked := f.store.PINStatus("klara"); !set || locked == nil {
		t.Errorf("status: set %v locked %v", set, locked)
	}
	if err := f.store.Unlock(ctx, "klara"); err != nil {
		t.Fatal(err)
	}
	if err := f.store.CheckPIN(ctx, "klara", "862491"); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	// Success resets the ladder: the next lockout is 15 minutes again.
	if err := fail5(); !errors.As(err, &le) || le.Until.Sub(f.clock.Now()) != 15*time.Minute {
		t.Fatalf("after a success: %v", err)
	}
	if len(f.ev.got) != 4 || !strings.HasPrefix(f.ev.got[0], "agent.locked ") || !strings.Contains(f.ev.got[2], `"held":true`) ||
		strings.Contains(strings.Join(f.ev.got, " "), "+46") {
		t.Errorf("events: %v", f.ev.got)
	}
	// An unknown agent gets the same answer as a wrong PIN.
	if err := f.store.CheckPIN(ctx, "nobody", "862491"); !errors.Is(err, roster.ErrWrongPIN) {
		t.Errorf("unknown agent: %v", err)
	}
}

func TestLockoutSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	clk := clocktest.New(time.Date(2026, 5, 19, 8, 0, 0, 0, time.UTC))
	open := func() (*roster.Store, *bolt.DB) {
		db, err := storage.Open(dir, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		audit.Open(db)
		s, err := roster.NewStore(db, clk, config.Default().Lines[0].PIN, []string{"peer"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s, db
	}
	s, db := open()
	s.AddAgent(ctx, roster.Agent{ID: "jim", Name: "Jim", Phone: "070-174 06 06", Active: true})
	s.SetPIN(ctx, "jim", "862491")
	for range 3 {
		s.CheckPIN(ctx, "jim", "000000")
	}
	db.Close()
	s, db = open()
	defer db.Close()
	s.CheckPIN(ctx, "jim", "000000")
	if err := s.CheckPIN(ctx, "jim", "000000"); !errors.Is(err, roster.ErrLocked) {
		t.Fatalf("failures were not kept across the restart: %v", err)
	}
}

func TestExampleRosterDays(t *testing.T) {
	f := newFixture(t)
	f.importExample(t)
	day := func(date string) roster.Day {
		d, _ := config.ParseDate(date)
		var out roster.Day
		if err := f.store.View(func(tx *bolt.Tx) (err error) { out, err = roster.In(tx).Day("peer", d); return err }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	for date, want := range map[string][]string{
		"2026-05-18": {"agneta"},           // Monday
		"2026-05-19": {"klara", "michell"}, // Tuesday
		"2026-05-20": {"klara"},            // Wednesday
		"2026-05-21": {"jim", "michell"},   // Thursday
		"2026-06-18": {"jim", "michell"},   // last day of the period
		"2026-06-19": {},                   // after it
		"2026-05-11": {},                   // before it
	} {
		got := day(date).Expected
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: expected %v, want %v", date, got, want)
		}
	}
	wed, _ := config.ParseDate("2026-05-20")
	err := f.db.Update(func(tx *bolt.Tx) error {
		return roster.In(tx).PutException(roster.Exception{Line: "peer", Agent: "klara", Date: wed, Kind: roster.Sick})
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := day("2026-05-20"); len(d.Expected) != 0 || !slices.Equal(d.Sick, []string{"klara"}) {
		t.Errorf("Klara sick: %+v", d)
	}
	var free []roster.Agent
	f.store.View(func(tx *bolt.Tx) (err error) { free, err = roster.In(tx).FreeOn("peer", day("2026-05-20")); return err })
	if len(free) != 3 || slices.ContainsFunc(free, func(a roster.Agent) bool { return a.ID == "klara" }) {
		t.Errorf("free colleagues: %+v", free)
	}
	// Bad exceptions are refused with the field named.
	tests := []struct {
		e     roster.Exception
		field string
	}{
		{roster.Exception{Line: "peer", Agent: "jim", Date: wed, Kind: roster.Sick}, "date"},    // not expected
		{roster.Exception{Line: "peer", Agent: "klara", Date: wed, Kind: roster.Cover}, "date"}, // sick that day
		{roster.Exception{Line: "peer", Agent: "nobody", Date: wed, Kind: roster.Cover}, "agent"},
		{roster.Exception{Line: "kvall", Agent: "jim", Date: wed, Kind: roster.Cover}, "agent"}, // other line
	}
	for _, tt := range tests {
		err := f.db.Update(func(tx *bolt.Tx) error { return roster.In(tx).PutException(tt.e) })
		if e, ok := input.As(err); !ok || e.Field != tt.field {
			t.Errorf("%+v: %v, want an error on %s", tt.e, err, tt.field)
		}
	}
}

func TestAgentsCRUD(t *testing.T) {
	f := newFixture(t)
	a, err := f.store.AddAgent(ctx, roster.Agent{ID: "klara", Name: "Klara", Phone: "070-174 06 05", Active: true})
	if err != nil || a.Phone != "+46701740605" || !slices.Equal(a.Lines, []string{"peer"}) {
		t.Fatalf("add: %+v %v", a, err)
	}
	bad := []struct {
		a     roster.Agent
		field string
	}{
		{roster.Agent{ID: "klara", Name: "K", Phone: "070-174 06 09"}, "id"},
		{roster.Agent{ID: "k2", Name: "K", Phone: "+46 70 174 06 05"}, "phone"},
		{roster.Agent{ID: "k3", Name: "K", Phone: "12345"}, "phone"},
		{roster.Agent{ID: "K 4", Name: "K", Phone: "070-174 06 09"}, "id"},
		{roster.Agent{ID: "k5", Name: " ", Phone: "070-174 06 09"}, "name"},
		{roster.Agent{ID: "k6", Name: "K", Phone: "070-174 06 09", Lines: []string{"nope"}}, "lines"},
		{roster.Agent{ID: "k7", Name: "K", Phone: "070-174 06 09", SIPURI: "http://x"}, "sip_uri"},
	}
	for _, tt := range bad {
		_, err := f.store.AddAgent(ctx, tt.a)
		if e, ok := input.As(err); !ok || e.Field != tt.field {
			t.Errorf("%+v: %v, want an error on %s", tt.a, err, tt.field)
		}
		if err != nil && strings.Contains(err.Error(), "0701740609") {
			t.Errorf("error shows the number: %v", err)
		}
	}
	if got, ok := f.store.AgentByPhone("+46 70 174 06 05"); !ok || got.ID != "klara" {
		t.Errorf("by phone: %+v %v", got, ok)
	}
	a.Active = false
	if _, err := f.store.UpdateAgent(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := f.store.DeleteAgent(ctx, "klara"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Agent("klara"); !errors.Is(err, roster.ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
	if err := f.store.SetPIN(ctx, "klara", "862491"); !errors.Is(err, roster.ErrNotFound) {
		t.Errorf("PIN for a deleted agent: %v", err)
	}
}
