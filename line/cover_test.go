package line_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/audit"
	"github.com/peerline/peerline/internal/clock/clocktest"
	"github.com/peerline/peerline/internal/event"
	"github.com/peerline/peerline/internal/event/eventtest"
	"github.com/peerline/peerline/internal/storage"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/line/hours"
	"github.com/peerline/peerline/roster"
	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"
)

// world is one peerline process with the example roster, the real outbox and a
// local webhook receiver.
type world struct {
	t      testing.TB
	dir    string
	clock  *clocktest.Fake
	db     *bolt.DB
	lines  *line.Lines
	roster *roster.Store
	office *eventtest.Receiver
	stop   func()
}

func newWorld(t testing.TB, start string, cfg []config.Line) *world {
	w := &world{t: t, dir: t.TempDir(), clock: clocktest.New(at(start)), office: eventtest.New(t)}
	w.open(cfg)
	w.importRoster(t)
	return w
}

// open starts (or restarts) the process on the world's database.
func (w *world) open(cfg []config.Line) {
	t := w.t
	db, err := storage.Open(w.dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audit.Open(db); err != nil {
		t.Fatal(err)
	}
	hooks := []config.Webhook{w.office.Hook}
	em, err := event.NewEmitter(db, hooks)
	if err != nil {
		t.Fatal(err)
	}
	sender := event.NewSender(db, w.clock, em, hooks, zerolog.Nop())
	ids := []string{}
	for _, l := range cfg {
		ids = append(ids, l.ID)
	}
	w.roster, err = roster.NewStore(db, w.clock, cfg[0].PIN, ids, em)
	if err != nil {
		t.Fatal(err)
	}
	w.lines, err = line.New(db, w.clock, cfg, em, w.roster)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sender.Run(ctx); close(done) }()
	if err := w.lines.CheckCover(); err != nil { // what serve does at start-up
		t.Fatal(err)
	}
	if err := w.lines.RunCoverJob(ctx, func(err error) { t.Error(err) }); err != nil {
		t.Fatal(err)
	}
	w.lines.RunClosingTime(ctx, func(err error) { t.Error(err) })
	w.db = db
	w.stop = func() { cancel(); <-done; db.Close() }
	t.Cleanup(func() {
		if w.stop != nil {
			w.stop()
			w.stop = nil
		}
	})
}

func (w *world) restart(cfg []config.Line) {
	w.stop()
	w.stop = nil
	w.open(cfg)
}

func (w *world) importRoster(t testing.TB) {
	b, err := os.ReadFile("../deploy/examples/roster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f, err := roster.ParseImport(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.roster.Import(office, f); err != nil {
		t.Fatal(err)
	}
}

func (w *world) status() hours.Status {
	w.t.Helper()
	s, err := w.lines.Status("peer")
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

func (w *world) expect(when string, state hours.State, reason hours.Reason) {
	w.t.Helper()
	w.clock.Set(at(when))
	if s := w.status(); s.State != state || s.Reason != reason {
		w.t.Errorf("%s: %s/%s, want %s/%s (%s)", when, s.State, s.Reason, state, reason, s.Text)
	}
}

func date(s string) config.Date {
	d, err := config.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestOneOfTwoSickStaysOpen(t *testing.T) {
	w := newWorld(t, "2026-05-19 08:00:00", config.Default().Lines) // Tuesday: Klara and Michell
	rd, err := w.lines.ReportSick(office, "peer", "klara", date("2026-05-19"))
	if err != nil || rd.Uncovered || !slices.Equal(rd.Expected, []string{"michell"}) {
		t.Fatalf("sick: %+v %v", rd, err)
	}
	w.expect("2026-05-19 11:00:00", hours.Closed, hours.ReasonHours)
	w.expect("2026-05-19 13:00:00", hours.Open, hours.ReasonHours)
	if got := w.office.Types(); slices.Contains(got, event.DayUncovered) || slices.Contains(got, event.LineClosed) {
		t.Errorf("events for a covered day: %v", got)
	}
}

func TestOnlyAgentSickClosesAtElevenSharp(t *testing.T) {
	w := newWorld(t, "2026-05-20 08:00:00", config.Default().Lines) // Wednesday: Klara alone
	rd, err := w.lines.ReportSick(office, "peer", "klara", date("2026-05-20"))
	if err != nil || !rd.Uncovered {
		t.Fatalf("sick: %+v %v", rd, err)
	}
	unc := w.office.WaitFor(t, event.DayUncovered)
	free, _ := unc.Data["free"].([]any)
	if unc.Data["date"] != "2026-05-20" || len(free) != 3 {
		t.Errorf("day.uncovered = %+v", unc)
	}
	w.expect("2026-05-20 10:59:59", hours.Closed, hours.ReasonHours)
	if slices.Contains(w.office.Types(), event.LineClosed) {
		t.Fatal("closed before 11:00")
	}
	w.clock.Set(at("2026-05-20 11:00:00"))
	closed := w.office.WaitFor(t, event.LineClosed)
	if closed.Data["reason"] != string(hours.ReasonNoCover) || !closed.Time.Equal(at("2026-05-20 11:00:00")) || closed.Line != "peer" {
		t.Errorf("line.closed = %+v", closed)
	}
	w.expect("2026-05-20 11:00:00", hours.Closed, hours.ReasonNoCover)
	w.expect("2026-05-20 13:00:00", hours.Closed, hours.ReasonNoCover)
	w.expect("2026-05-21 13:00:00", hours.Open, hours.ReasonHours) // the next day is its own
	for _, body := range w.office.Bodies() {
		// Not "070": an event id is random hex and may hold it.
		if strings.Contains(body, "+46") || strings.Contains(body, "701740") {
			t.Errorf("an event carries a phone number: %s", body)
		}
	}
	if w.office.Bad() != 0 {
		t.Errorf("%d deliveries with a bad signature", w.office.Bad())
	}
}

func TestCoverBeforeTheDeadlineKeepsTheLineOpen(t *testing.T) {
	w := newWorld(t, "2026-05-20 08:00:00", config.Default().Lines)
	w.lines.ReportSick(office, "peer", "klara", date("2026-05-20"))
	w.clock.Set(at("2026-05-20 10:30:00"))
	rd, err := w.lines.TakeCover(office, "peer", "jim", date("2026-05-20"))
	if err != nil || rd.Uncovered || !slices.Equal(rd.Cover, []string{"jim"}) {
		t.Fatalf("cover: %+v %v", rd, err)
	}
	taken := w.office.WaitFor(t, event.CoverTaken)
	if taken.Data["name"] != "Jim" || taken.Data["day_covered"] != true {
		t.Errorf("cover.taken = %+v", taken)
	}
	w.expect("2026-05-20 11:00:00", hours.Closed, hours.ReasonHours)
	w.expect("2026-05-20 13:00:00", hours.Open, hours.ReasonHours)
	if slices.Contains(w.office.Types(), event.LineClosed) {
		t.Error("line.closed for a covered day")
	}
}

func TestCoverAfterTheClosureReopens(t *testing.T) {
	w := newWorld(t, "2026-05-20 08:00:00", config.Default().Lines)
	w.lines.ReportSick(office, "peer", "klara", date("2026-05-20"))
	w.expect("2026-05-20 11:00:00", hours.Closed, hours.ReasonNoCover)
	w.clock.Set(at("2026-05-20 11:30:00"))
	if rd, err := w.lines.TakeCover(office, "peer", "agneta", date("2026-05-20")); err != nil || rd.Closed {
		t.Fatalf("cover after the closure: %+v %v, want the day open again", rd, err)
	}
	opened := w.office.WaitFor(t, event.LineOpened)
	if opened.Data["reason"] != string(hours.ReasonHours) || !strings.Contains(opened.Data["text"].(string), "öppnar i dag 12:45") {
		t.Errorf("line.opened = %+v", opened)
	}
	w.expect("2026-05-20 13:00:00", hours.Open, hours.ReasonHours)
}

func TestSickAfterTheDeadlineClosesAtOnce(t *testing.T) {
	w := newWorld(t, "2026-05-20 08:00:00", config.Default().Lines)
	w.expect("2026-05-20 13:10:00", hours.Open, hours.ReasonHours)
	rd, err := w.lines.ReportSick(office, "peer", "klara", date("2026-05-20"))
	if err != nil || !rd.Uncovered || !rd.Closed {
		t.Fatalf("late sick report: %+v %v, want the day uncovered and closed", rd, err)
	}
	if s := w.status(); s.Reason != hours.ReasonNoCover {
		t.Errorf("after a late sick report: %+v", s)
	}
	w.office.WaitFor(t, event.LineClosed)
	// The office can still open the line.
	if s, err := w.lines.SetOverride(office, "peer", hours.Open, "Anna tar linjen", time.Time{}); err != nil || s.State != hours.Open {
		t.Errorf("office override over no cover: %+v %v", s, err)
	}
}

func TestStartedAtNoonOnAnUncoveredDayClosesAtStart(t *testing.T) {
	w := newWorld(t, "2026-05-20 08:00:00", config.Default().Lines)
	w.lines.ReportSick(office, "peer", "klara", date("2026-05-20"))
	w.stop() // peerline is down over the deadline
	w.stop = nil
	w.clock.Set(at("2026-05-20 12:00:00"))
	w.open(config.Default().Lines)
	if s := w.status(); s.Reason != hours.ReasonNoCover {
		t.Errorf("after start at 12:00: %+v", s)
	}
	w.office.WaitFor(t, event.LineClosed)
}

func TestNoClosureOnDaysTheLineIsClosedAnyway(t *testing.T) {
	w := newWorld(t, "2026-05-22 08:00:00", config.Default().Lines) // Friday; then the weekend
	for _, when := range []string{"2026-05-23 11:00:00", "2026-05-24 11:00:00", "2026-06-06 11:00:00"} {
		w.clock.Set(at(when))
	}
	w.expect("2026-06-08 13:00:00", hours.Open, hours.ReasonHours) // Monday, Agneta
	var got []string
	for _, typ := range w.office.Types() {
		if typ != event.DaySummary { // each service day's figures, at its closing time
			got = append(got, typ)
		}
	}
	if len(got) != 0 {
		t.Errorf("events on closed days: %v", got)
	}
}

func TestALineWithoutScheduleNeverClosesForCover(t *testing.T) {
	w := &world{t: t, dir: t.TempDir(), clock: clocktest.New(at("2026-05-20 08:00:00")), office: eventtest.New(t)}
	w.open(config.Default().Lines) // no roster imported
	w.expect("2026-05-20 11:00:00", hours.Closed, hours.ReasonHours)
	w.expect("2026-05-20 13:00:00", hours.Open, hours.ReasonHours)
}

func TestDeadlineOnDSTDays(t *testing.T) {
	cfg := config.Default().Lines
	cfg[0].Hours.Days = []config.Weekday{0, 1, 2, 3, 4, 5, 6}
	cfg[0].Hours.Holidays = "none"
	for _, day := range []string{"2026-03-29", "2026-10-25", "2027-03-28", "2027-10-31"} {
		t.Run(day, func(t *testing.T) {
			w := newWorld(t, day+" 00:30:00", cfg)
			err := w.roster.SetSchedule(office, "peer", []roster.Shift{{Agent: "klara", Days: []config.Weekday{0}}})
			if err != nil {
				t.Fatal(err)
			}
			w.lines.ReportSick(office, "peer", "klara", date(day))
			w.expect(day+" 10:59:59", hours.Closed, hours.ReasonHours)
			w.clock.Set(at(day + " 11:00:00"))
			closed := w.office.WaitFor(t, event.LineClosed)
			if !closed.Time.Equal(at(day + " 11:00:00")) {
				t.Errorf("closed at %v, want 11:00 local", closed.Time.In(stockholm))
			}
			w.expect(day+" 13:00:00", hours.Closed, hours.ReasonNoCover)
		})
	}
}

func TestRosterQueryAndRemovingASickReport(t *testing.T) {
	w := newWorld(t, "2026-05-20 08:00:00", config.Default().Lines)
	w.lines.ReportSick(office, "peer", "klara", date("2026-05-20"))
	w.expect("2026-05-20 11:00:00", hours.Closed, hours.ReasonNoCover)
	days, err := w.lines.Roster("peer", date("2026-05-18"), date("2026-05-24"))
	if err != nil || len(days) != 7 {
		t.Fatalf("roster: %d %v", len(days), err)
	}
	if !days[2].Uncovered || !days[2].Closed || days[1].Uncovered || days[5].Service || days[5].Reason != hours.ReasonWeekend {
		t.Errorf("roster days: %+v", days)
	}
	if _, err := w.lines.RemoveException(office, "peer", "klara", date("2026-05-20"), roster.Sick); err != nil {
		t.Fatal(err)
	}
	w.expect("2026-05-20 13:00:00", hours.Open, hours.ReasonHours)
	if _, err := w.lines.Roster("peer", date("2026-05-20"), date("2026-05-19")); err == nil {
		t.Error("to before from accepted")
	}
}
