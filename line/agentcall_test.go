package line_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/audit"
	"github.com/peerline/peerline/internal/clock/clocktest"
	"github.com/peerline/peerline/internal/event"
	"github.com/peerline/peerline/line/hours"
	"github.com/peerline/peerline/line/linetest"
	"github.com/peerline/peerline/roster"
)

// The example roster's phones (deploy/examples/roster.yaml).
const (
	klaraPhone   = "+46701740605"
	jimPhone     = "+46701740606"
	agnetaPhone  = "+46701740607"
	michellPhone = "+46701740608"
	strangerPIN  = "000000"
)

// pins gives each agent of the example roster a PIN: klara 275931, jim 275932, ...
func (w *world) pins() {
	w.t.Helper()
	for i, id := range []string{"klara", "jim", "agneta", "michell"} {
		if err := w.roster.SetPIN(office, id, "27593"+string(rune('1'+i))); err != nil {
			w.t.Fatal(err)
		}
	}
}

// dial runs a call from number with keys pressed ahead, to its end: the fake
// clock moves a second every millisecond so that menus time out. It returns the
// prompts heard and whether peerline hung up.
func (w *world) dial(from, keys string) ([]string, bool) {
	w.t.Helper()
	return w.run(w.phone(from, keys))
}

// phone is a call from number with keys pressed ahead, on the world's clock.
func (w *world) phone(from, keys string) *linetest.Call {
	c := linetest.NewCall("c-"+from, from)
	c.Clock = w.clock
	c.PlayTime = 5 * time.Millisecond
	c.Press(keys)
	return c
}

// run runs call c to its end as dial does.
func (w *world) run(c *linetest.Call) ([]string, bool) {
	w.t.Helper()
	from := c.From
	done := make(chan error, 1)
	go func() { done <- w.lines.Handle(context.Background(), "peer", c) }()
	var j jumper
	for range 20000 {
		select {
		case err := <-done:
			if err != nil {
				w.t.Errorf("call from %s: %v", from, err)
			}
			_, played, hungUp := c.Result()
			return played, hungUp
		case <-time.After(time.Millisecond):
			j.step(w.clock)
		}
	}
	w.t.Fatalf("the call from %s did not end", from)
	return nil, false
}

// jumper moves a fake clock for code running to its end: to the next
// deadline once the timers have stood still for a few polls (the code has set
// what it waits for), at most a second at a time, so that what a test does in
// real time still comes before a limit of minutes.
type jumper struct {
	last  time.Time
	n     int
	still int
}

func (j *jumper) step(c *clocktest.Fake) {
	at, n, ok := c.Next()
	if !ok || !at.Equal(j.last) || n != j.n {
		j.last, j.n, j.still = at, n, 0
		return
	}
	if j.still++; j.still < 3 {
		return
	}
	j.still = 0
	if limit := c.Now().Add(time.Second); at.After(limit) {
		at = limit
	}
	c.Set(at)
}

// heard reports whether want were played in this order (others in between).
func heard(played []string, want ...string) bool {
	i := 0
	for _, p := range played {
		if i < len(want) && p == want[i] {
			i++
		}
	}
	return i == len(want)
}

func count(played []string, prompt string) int {
	n := 0
	for _, p := range played {
		if p == prompt {
			n++
		}
	}
	return n
}

func (w *world) auditActions(n int) []audit.Entry {
	w.t.Helper()
	log, _ := audit.Open(w.db)
	entries, err := log.List(0, n)
	if err != nil {
		w.t.Fatal(err)
	}
	return entries
}

func TestAgentLogsInAndOutByPhone(t *testing.T) {
	w := newWorld(t, "2026-05-19 13:00:00", config.Default().Lines) // Tuesday, open
	w.pins()
	// The agent key during the announcement, '#' for the number calling, the PIN.
	played, hungUp := w.dial(klaraPhone, "*#275931#1")
	if !heard(played, "no-agents", "agent-number", "agent-pin", "agent-logged-in", "agent-menu", "goodbye") || !hungUp {
		t.Fatalf("log in: %v (hung up %v)", played, hungUp)
	}
	p, ok := w.lines.AgentPresence("klara")
	if !ok || !slices.Equal(p.Lines, []string{"peer"}) {
		t.Fatalf("not logged in: %+v", p)
	}
	e := w.auditActions(1)[0]
	if e.Action != "agent.login" || e.Actor.Kind != "agent" || e.Actor.Name != "klara" {
		t.Errorf("audit: %+v", e)
	}
	played, _ = w.dial(klaraPhone, "*#275931#1")
	if !heard(played, "agent-logged-out") {
		t.Errorf("log out: %v", played)
	}
	if _, ok := w.lines.AgentPresence("klara"); ok {
		t.Error("still logged in")
	}
	if e := w.auditActions(1)[0]; e.Action != "agent.logout" || e.Actor.Name != "klara" {
		t.Errorf("audit: %+v", e)
	}
	if recs, _ := w.lines.Records("peer", date("2026-05-19"), date("2026-05-19")); len(recs) != 0 {
		t.Errorf("an agent's own calls are no caller's calls: %+v", recs)
	}
}

func TestAgentHearsWhenTheLineOpens(t *testing.T) {
	w := newWorld(t, "2026-05-19 10:00:00", config.Default().Lines) // Tuesday, opens 12:45
	w.pins()
	played, _ := w.dial(klaraPhone, "*#275931#1")
	if !heard(played, "status-closed", "agent-opens", "today", "at", "number-12", "number-45", "agent-menu") {
		t.Errorf("before opening: %v", played)
	}
	if _, ok := w.lines.AgentPresence("klara"); ok {
		t.Error("logged in to a closed line")
	}
	w.clock.Set(at("2026-05-22 17:00:00")) // Friday evening: next opening Monday 25 May 12:45
	played, _ = w.dial(klaraPhone, "*#275931#1")
	if !heard(played, "status-closed", "agent-opens", "weekday-1", "date-25", "month-5", "at", "number-12", "number-45") {
		t.Errorf("Friday evening: %v", played)
	}
	w.clock.Set(at("2026-05-25 08:00:00"))
	st, err := w.lines.SetOverride(office, "peer", hours.Open, "kvällsöppet", at("2026-05-25 09:00:00"))
	if err != nil || st.State != hours.Open {
		t.Fatalf("override: %+v %v", st, err)
	}
	played, _ = w.dial(klaraPhone, "*#275931#1")
	if !heard(played, "agent-logged-in") {
		t.Errorf("an office override opens the line to agents too: %v", played)
	}
	w.clock.Set(at("2026-10-23 17:00:00")) // Friday; summer time ends on Sunday
	played, _ = w.dial(jimPhone, "*#275932#1")
	if !heard(played, "agent-opens", "weekday-1", "date-26", "month-10", "at", "number-12", "number-45") {
		t.Errorf("across the change to winter time: %v", played)
	}
}

func TestAgentHearsWhenTheLineOpensAfterAHoliday(t *testing.T) {
	w := newWorld(t, "2026-05-13 17:00:00", config.Default().Lines) // Wednesday before Ascension Day
	w.pins()
	played, _ := w.dial(klaraPhone, "*#275931#1")
	if !heard(played, "agent-opens", "weekday-5", "date-15", "month-5", "at", "number-12", "number-45") {
		t.Errorf("before a holiday: %v", played)
	}
}

func TestWrongPINsHangUpAndLock(t *testing.T) {
	w := newWorld(t, "2026-05-19 13:00:00", config.Default().Lines)
	w.pins()
	played, hungUp := w.dial(klaraPhone, "*#111111##222222##333333#")
	// Keys typed ahead cut "wrong" short, so the next PIN question is not heard.
	if count(played, "agent-wrong") != 3 || !heard(played, "agent-pin", "agent-wrong", "agent-wrong", "agent-wrong", "agent-too-many") || !hungUp {
		t.Fatalf("three wrong PINs: %v (hung up %v)", played, hungUp)
	}
	if slices.Contains(played, "agent-menu") {
		t.Error("the menu after wrong PINs")
	}
	// The fifth wrong PIN locks; the right one after it is refused like a wrong
	// one: the phone never says that an agent is locked.
	played, _ = w.dial(klaraPhone, "*#444444##555555##275931#")
	if count(played, "agent-wrong") != 3 || !heard(played, "agent-too-many") || slices.Contains(played, "agent-menu") {
		t.Fatalf("the fifth wrong PIN in a row: %v", played)
	}
	ev := w.office.WaitFor(t, event.AgentLocked)
	if ev.Data["agent"] != "klara" {
		t.Errorf("agent.locked: %+v", ev)
	}
	// Even the right PIN is refused while locked, and the lock outlives the call.
	played, _ = w.dial(klaraPhone, "*#275931#1")
	if slices.Contains(played, "agent-locked") || slices.Contains(played, "agent-menu") || !heard(played, "agent-wrong") {
		t.Errorf("locked agent: %v", played)
	}
	if _, locked := w.roster.PINStatus("klara"); !errors.Is(locked, roster.ErrLocked) {
		t.Errorf("lock: %v", locked)
	}
}

// TestNothingTellsWhoIsAPeerSupporter: an agent's own phone calling without the
// agent key is a caller like any other, and an unknown number, a wrong PIN and a
// locked agent's right PIN sound the same.
func TestNothingTellsWhoIsAPeerSupporter(t *testing.T) {
	w := newWorld(t, "2026-05-19 13:00:00", config.Default().Lines) // open, nobody logged in
	w.pins()
	stranger, _ := w.dial("+46705550000", "")
	klara, _ := w.dial(klaraPhone, "")
	if !slices.Equal(stranger, klara) {
		t.Errorf("a stranger heard %v, an agent's phone %v", stranger, klara)
	}
	if recs, _ := w.lines.Records("peer", date("2026-05-19"), date("2026-05-19")); len(recs) != 2 {
		t.Errorf("both are callers' calls: %+v", recs)
	}
	tries := func(number, pin string) string { return strings.Repeat(number+"#"+pin+"#", 3) }
	unknown, _ := w.dial("+46705550000", "*"+tries("0709999999", "123456"))
	wrong, _ := w.dial(jimPhone, "*"+tries("", "123456"))
	w.dial(klaraPhone, "*"+tries("", "111111")) // three wrong ...
	w.dial(klaraPhone, "*"+tries("", "222222")) // ... and two more lock her
	if _, locked := w.roster.PINStatus("klara"); !errors.Is(locked, roster.ErrLocked) {
		t.Fatalf("klara is not locked: %v", locked)
	}
	locked, _ := w.dial(klaraPhone, "*"+tries("", "275931"))
	if !slices.Equal(unknown, wrong) || !slices.Equal(wrong, locked) {
		t.Errorf("unknown number %v\nwrong PIN %v\nlocked %v", unknown, wrong, locked)
	}
}

func TestAgentKeyFromAnUnknownPhone(t *testing.T) {
	w := newWorld(t, "2026-05-19 13:00:00", config.Default().Lines) // open, nobody logged in
	w.pins()
	// A wrong number and a wrong PIN sound the same.
	played, _ := w.dial("+46705550000", "*0709999999#275931#0701740605#999999#0701740605#275931#1")
	if !heard(played, "no-agents", "agent-number", "agent-pin", "agent-wrong", "agent-pin", "agent-wrong",
		"agent-pin", "agent-logged-in") || count(played, "agent-wrong") != 2 {
		t.Fatalf("the * path: %v", played)
	}
	if _, ok := w.lines.AgentPresence("klara"); !ok {
		t.Error("not logged in")
	}
	if recs, _ := w.lines.Records("peer", date("2026-05-19"), date("2026-05-19")); len(recs) != 0 {
		t.Errorf("records: %+v", recs)
	}
	// Now a caller gets the greeting; an agent's * there works the same.
	played, _ = w.dial("+46705550001", "*0701740605#275931#0")
	if !heard(played, "greeting", "agent-number", "agent-pin", "status-open", "status-agents", "number-1", "status-queue", "number-0") {
		t.Errorf("the * path from the greeting, status: %v", played)
	}
	if recs, _ := w.lines.Records("peer", date("2026-05-19"), date("2026-05-19")); len(recs) != 0 {
		t.Errorf("records: %+v", recs)
	}
	// Other keys in the greeting do nothing.
	c := linetest.NewCall("caller", "+46705550002")
	c.Press("5")
	done := make(chan error, 1)
	go func() { done <- w.lines.Handle(context.Background(), "peer", c) }()
	time.Sleep(20 * time.Millisecond)
	c.CallerHangsUp()
	<-done
	if _, played, _ := c.Result(); slices.Contains(played, "agent-number") {
		t.Errorf("5 in the greeting: %v", played)
	}
}

func TestSickByPhone(t *testing.T) {
	w := newWorld(t, "2026-05-19 09:00:00", config.Default().Lines) // Tuesday: Klara and Michell
	w.pins()
	played, _ := w.dial(michellPhone, "*#275934#2")
	if !heard(played, "agent-sick", "agent-sick-covered", "agent-menu") {
		t.Errorf("one of two sick: %v", played)
	}
	played, _ = w.dial(klaraPhone, "*#275931#2")
	if !heard(played, "agent-sick", "agent-sick-uncovered") {
		t.Errorf("both sick: %v", played)
	}
	w.office.WaitFor(t, event.DayUncovered)
	days, _ := w.lines.Roster("peer", date("2026-05-19"), date("2026-05-19"))
	if !days[0].Uncovered || !slices.Equal(days[0].Sick, []string{"klara", "michell"}) {
		t.Errorf("roster: %+v", days[0])
	}
	e := w.auditActions(1)[0]
	if e.Action != "roster.sick" || e.Actor.Kind != "agent" || e.Actor.Name != "klara" {
		t.Errorf("audit: %+v", e)
	}
	played, _ = w.dial(jimPhone, "*#275932#2") // Jim works Thursdays and Fridays
	if !heard(played, "agent-not-expected") {
		t.Errorf("not expected today: %v", played)
	}
	played, _ = w.dial(klaraPhone, "*#275931#2")
	if !heard(played, "agent-sick") || slices.Contains(played, "agent-sick-uncovered") {
		t.Errorf("sick twice: %v", played)
	}
}

func TestSickAgentIsLoggedOut(t *testing.T) {
	w := newWorld(t, "2026-05-19 13:00:00", config.Default().Lines)
	w.pins()
	w.dial(michellPhone, "*#275934#1")
	played, _ := w.dial(michellPhone, "*#275934#2")
	if !heard(played, "agent-sick", "agent-sick-covered", "agent-logged-out") {
		t.Errorf("%v", played)
	}
	if _, ok := w.lines.AgentPresence("michell"); ok {
		t.Error("a sick agent is still logged in")
	}
}

func TestCoverByPhone(t *testing.T) {
	w := newWorld(t, "2026-05-18 09:00:00", config.Default().Lines) // Monday
	w.pins()
	if _, err := w.lines.ReportSick(office, "peer", "klara", date("2026-05-20")); err != nil { // Wednesday: Klara alone
		t.Fatal(err)
	}
	played, _ := w.dial(agnetaPhone, "*#275933#3")
	if !heard(played, "agent-cover", "weekday-3", "date-20", "month-5", "agent-menu") {
		t.Errorf("cover: %v", played)
	}
	days, _ := w.lines.Roster("peer", date("2026-05-20"), date("2026-05-20"))
	if days[0].Uncovered || !slices.Equal(days[0].Cover, []string{"agneta"}) {
		t.Errorf("roster: %+v", days[0])
	}
	if e := w.auditActions(1)[0]; e.Action != "roster.cover" || e.Actor.Name != "agneta" {
		t.Errorf("audit: %+v", e)
	}
	if ev := w.office.WaitFor(t, event.CoverTaken); ev.Data["agent"] != "agneta" || ev.Data["date"] != "2026-05-20" {
		t.Errorf("cover.taken: %+v", ev)
	}
	played, _ = w.dial(agnetaPhone, "*#275933#3")
	if !heard(played, "agent-cover-none") {
		t.Errorf("nothing left: %v", played)
	}
}

func TestLoginCoversADayClosedForNoCover(t *testing.T) {
	w := newWorld(t, "2026-05-20 09:00:00", config.Default().Lines) // Wednesday: Klara alone
	w.pins()
	if _, err := w.lines.ReportSick(office, "peer", "klara", date("2026-05-20")); err != nil {
		t.Fatal(err)
	}
	w.expect("2026-05-20 12:50:00", hours.Closed, hours.ReasonNoCover)
	played, _ := w.dial(jimPhone, "*#275932#1")
	if !heard(played, "agent-logged-in") {
		t.Fatalf("jim: %v", played)
	}
	w.expect("2026-05-20 12:51:00", hours.Open, hours.ReasonHours)
	days, _ := w.lines.Roster("peer", date("2026-05-20"), date("2026-05-20"))
	if !slices.Equal(days[0].Cover, []string{"jim"}) {
		t.Errorf("roster: %+v", days[0])
	}
}

func TestAgentMenuAnswersEveryKey(t *testing.T) {
	w := newWorld(t, "2026-05-19 13:00:00", config.Default().Lines)
	w.pins()
	played, hungUp := w.dial(klaraPhone, "*#275931#9")
	if !heard(played, "agent-invalid", "agent-menu", "agent-menu", "goodbye") || !hungUp {
		t.Errorf("%v", played)
	}
}
