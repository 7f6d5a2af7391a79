package line_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/event"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/line/linetest"
)

// talking starts a call that Klara answers on a leg keyed on the world's clock,
// and waits until the two are bridged (at 13:00).
func talking(t *testing.T, w *world) (*linetest.Call, *linetest.Call, chan error) {
	t.Helper()
	w.lines.Login(office, "klara", "")
	phone := newAgentPhone(func(tg line.Target) (*linetest.Call, error) {
		leg := linetest.NewCall("agent-"+tg.Agent, "")
		leg.Clock = w.clock
		leg.PlayTime = time.Millisecond
		return leg, nil
	})
	c, errc := startCall(w, "c1", phone.dial)
	leg := waitFor(t, phone.legs)
	waitBridged(t, c)
	return c, leg, errc
}

// advanceTo moves the clock to 13:00 + d and gives the flow a moment.
func advanceTo(w *world, d time.Duration) {
	w.clock.Set(at("2026-05-19 13:00:00").Add(d))
	time.Sleep(20 * time.Millisecond)
}

// armed waits (bounded) until the flow has set a timer for 13:00 + d.
func armed(t *testing.T, w *world, d time.Duration) {
	t.Helper()
	w.clock.WaitArmed(t, at("2026-05-19 13:00:00").Add(d))
}

// waitWhispered waits (bounded) until leg has had want whispered, and no more.
func waitWhispered(t *testing.T, leg *linetest.Call, want ...string) {
	t.Helper()
	var got []string
	for range 5000 {
		if got = leg.Whispered(); len(got) >= len(want) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s had %v whispered, want %v", leg.ID(), got, want)
	}
}

func TestLimitWarnsTheAgentAloneAndCuts(t *testing.T) {
	w := newWorld(t, "2026-05-19 13:00:00", config.Default().Lines) // 20m, warnings 3m and 1m
	c, leg, errc := talking(t, w)
	armed(t, w, 17*time.Minute)
	advanceTo(w, 16*time.Minute+59*time.Second)
	if got := leg.Whispered(); len(got) != 0 {
		t.Fatalf("a warning before 17:00: %v", got)
	}
	advanceTo(w, 17*time.Minute) // one deadline a jump
	waitWhispered(t, leg, "number-3", "minutes-left")
	advanceTo(w, 19*time.Minute)
	waitWhispered(t, leg, "number-3", "minutes-left", "one-minute-left")
	if got := c.Whispered(); len(got) != 0 {
		t.Errorf("the caller heard a warning: %v", got)
	}
	advanceTo(w, 20*time.Minute)
	waitPlayed(t, c, "call-limit")
	waitPlayed(t, leg, "wrapup-intro")
	if _, _, hungUp := c.Result(); !hungUp {
		t.Error("the caller's leg is still up after the limit")
	}
	if _, played, _ := leg.Result(); !slices.Contains(played, "call-limit") {
		t.Errorf("the agent did not hear the closing phrase: %v", played)
	}
	if p, _ := w.lines.AgentPresence("klara"); p.Activity != line.WrapUp {
		t.Errorf("klara during the form: %+v", p)
	}
	leg.Press("1#2") // stöd; referred skipped; office contact: nej
	if err := waitFor(t, errc); err != nil {
		t.Fatal(err)
	}
	rec := lastRecord(t, w)
	want := map[string]string{"call_type": "stod", "office_contact": "nej"}
	if rec.Ended != line.EndedLimit || !rec.LimitHit || rec.Talk != 1200 || rec.Wrapup == nil || !rec.Wrapup.Filled ||
		len(rec.Wrapup.Answers) != 2 || rec.Wrapup.Answers["call_type"] != want["call_type"] || rec.Wrapup.Answers["office_contact"] != "nej" {
		t.Errorf("record: %+v %+v", rec, rec.Wrapup)
	}
	if _, played, hungUp := leg.Result(); !hungUp || !slices.Contains(played, "wrapup-done") {
		t.Errorf("agent's leg after the form: hung up %v, %v", hungUp, played)
	}
	armed(t, w, 20*time.Minute+30*time.Second) // the cooldown
	advanceTo(w, 20*time.Minute+29*time.Second)
	if p, _ := w.lines.AgentPresence("klara"); p.Activity != line.WrapUp {
		t.Errorf("klara before the cooldown ends: %+v", p)
	}
	advanceTo(w, 20*time.Minute+31*time.Second)
	if p, _ := w.lines.AgentPresence("klara"); p.Activity != line.Available {
		t.Errorf("klara after the cooldown: %+v", p)
	}
}

func TestLimitWithoutHardStopOnlyWarns(t *testing.T) {
	cfg := config.Default().Lines
	cfg[0].Calls.HardStop = false
	w := newWorld(t, "2026-05-19 13:00:00", cfg)
	c, leg, errc := talking(t, w)
	armed(t, w, 17*time.Minute)
	advanceTo(w, 17*time.Minute) // one deadline a jump
	waitWhispered(t, leg, "number-3", "minutes-left")
	advanceTo(w, 19*time.Minute)
	waitWhispered(t, leg, "number-3", "minutes-left", "one-minute-left")
	advanceTo(w, 45*time.Minute) // past the limit: nothing is due there without hard_stop
	waitWhispered(t, leg, "number-3", "minutes-left", "one-minute-left")
	if _, played, hungUp := c.Result(); hungUp || slices.Contains(played, "call-limit") {
		t.Fatalf("hard_stop: false cut the call: %v", played)
	}
	c.CallerHangsUp()
	waitPlayed(t, leg, "wrapup-intro")
	leg.CallerHangsUp() // the agent leaves the form
	waitFor(t, errc)
	if rec := lastRecord(t, w); rec.Ended != line.EndedCaller || rec.LimitHit || rec.Talk != 2700 || rec.Wrapup == nil || rec.Wrapup.Filled {
		t.Errorf("record: %+v %+v", rec, rec.Wrapup)
	}
}

func TestNoLimit(t *testing.T) {
	cfg := config.Default().Lines
	cfg[0].Calls.Limit = 0
	w := newWorld(t, "2026-05-19 13:00:00", cfg)
	c, leg, errc := talking(t, w)
	advanceTo(w, 2*time.Hour)
	if got := leg.Whispered(); len(got) != 0 {
		t.Errorf("warnings without a limit: %v", got)
	}
	leg.CallerHangsUp()
	waitFor(t, errc)
	if rec := lastRecord(t, w); rec.Ended != line.EndedAgent || rec.Wrapup == nil || rec.Wrapup.Filled {
		t.Errorf("record: %+v", rec)
	}
	if _, _, hungUp := c.Result(); !hungUp {
		t.Error("the caller was not hung up after the agent left")
	}
	// No form was filled, yet the cooldown is wrap-up time: no call is offered.
	if p, _ := w.lines.AgentPresence("klara"); p.Activity != line.WrapUp {
		t.Errorf("klara during the cooldown: %+v", p)
	}
}

func TestEndKeyGoesToWrapUp(t *testing.T) {
	w := newWorld(t, "2026-05-19 13:00:00", config.Default().Lines)
	c, leg, errc := talking(t, w)
	// A lone *, another 5 s later, then 5: nothing happens. Each key must be
	// read before the clock moves on, or two would seem to come at once.
	press := func(k string) {
		leg.Press(k)
		for i := 0; i < 5000 && leg.Unread() > 0; i++ {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond)
	}
	press("*")
	advanceTo(w, 5*time.Second)
	press("*")
	advanceTo(w, 10*time.Second)
	press("5")
	if _, _, hungUp := c.Result(); hungUp {
		t.Fatal("single * presses ended the call")
	}
	leg.Press("**")
	waitPlayed(t, leg, "wrapup-intro")
	if _, played, hungUp := c.Result(); !hungUp || slices.Contains(played, "call-limit") {
		t.Errorf("caller after the end key: hung up %v, %v", hungUp, played)
	}
	leg.Press("312")
	waitFor(t, errc)
	rec := lastRecord(t, w)
	if rec.Ended != line.EndedEndKey || rec.Flagged || !rec.Wrapup.Filled || rec.Wrapup.Answers["call_type"] != "kris" {
		t.Errorf("record: %+v %+v", rec, rec.Wrapup)
	}
}

func TestSafetyKeyFlagsTheCallAtOnce(t *testing.T) {
	w := newWorld(t, "2026-05-19 13:00:00", config.Default().Lines)
	c, leg, errc := talking(t, w)
	advanceTo(w, 4*time.Minute)
	leg.Press("*9")
	ev := w.office.WaitFor(t, event.CallFlagged)
	if ev.Data["agent"] != "klara" || ev.Line != "peer" {
		t.Errorf("call.flagged: %+v", ev)
	}
	for _, b := range w.office.Bodies() {
		if strings.Contains(b, strings.TrimPrefix(callerNumber, "+")) {
			t.Errorf("a webhook carries the caller's number: %s", b)
		}
	}
	if _, _, hungUp := c.Result(); !hungUp {
		t.Error("the caller's leg is still up")
	}
	waitPlayed(t, leg, "wrapup-intro")
	leg.Press("###")
	waitFor(t, errc)
	if rec := lastRecord(t, w); rec.Ended != line.EndedSafety || !rec.Flagged || rec.Talk != 240 || !rec.Wrapup.Filled || len(rec.Wrapup.Answers) != 0 {
		t.Errorf("record: %+v %+v", rec, rec.Wrapup)
	}
}

func TestWrapUpTimesOut(t *testing.T) {
	w := newWorld(t, "2026-05-19 13:00:00", config.Default().Lines) // wrapup.timeout 60s
	c, leg, errc := talking(t, w)
	c.CallerHangsUp()
	waitPlayed(t, leg, "wrapup-intro")
	leg.Press("2")
	waitPlayed(t, leg, "wrapup-referred") // the first answer is in
	advanceTo(w, 61*time.Second)
	waitFor(t, errc)
	rec := lastRecord(t, w)
	if rec.Ended != line.EndedCaller || rec.Wrapup.Filled || rec.Wrapup.Answers["call_type"] != "information" {
		t.Errorf("record: %+v %+v", rec, rec.Wrapup)
	}
	if _, _, hungUp := leg.Result(); !hungUp {
		t.Error("the agent's leg is still up after wrapup.timeout")
	}
}

// TestStoppingAsTheAgentAnswers: peerline stopping between the agent's answer
// and the bridge (SIGTERM ends the legs) leaves a record that says so.
func TestStoppingAsTheAgentAnswers(t *testing.T) {
	w := newWorld(t, "2026-05-19 13:00:00", config.Default().Lines)
	w.lines.Login(office, "klara", "")
	ctx, stop := context.WithCancelCause(context.Background())
	c := linetest.NewCall("c1", callerNumber)
	var agent *linetest.Call
	c.Answerer = func(context.Context, line.Target, line.DialOptions) (*linetest.Call, error) {
		agent = linetest.NewCall("agent-klara", "")
		return agent, nil
	}
	c.OnAnswer = func() { // the caller is answered as the agent is: then SIGTERM
		stop(line.ErrStopped)
		agent.CallerHangsUp() // the drivers end every leg as peerline stops
	}
	if err := w.lines.Handle(ctx, "peer", c); err != nil {
		t.Fatal(err)
	}
	if rec := lastRecord(t, w); rec.Outcome != line.OutcomeAnswered || rec.Ended != line.EndedStopped || rec.Talk != 0 {
		t.Errorf("record: %+v", rec)
	}
}
