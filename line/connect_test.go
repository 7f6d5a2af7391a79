package line_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/peerline/peerline/internal/audit"
	"github.com/peerline/peerline/internal/event"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/line/linetest"
)

func TestLoginNeedsAnOpenLineAndSurvivesRestart(t *testing.T) {
	w := newWorld(t, "2026-05-19 10:00:00", quickLines()) // Tuesday, before 12:45
	var closed *line.ClosedError
	if _, err := w.lines.Login(office, "klara", ""); !errors.As(err, &closed) || closed.Status.NextOpenText != "öppnar i dag 12:45" {
		t.Fatalf("log-in before opening: %v", err)
	}
	w.clock.Set(at("2026-05-19 12:50:00"))
	p, err := w.lines.Login(office, "klara", "")
	if err != nil || p.Activity != line.Available || !p.Since.Equal(at("2026-05-19 12:50:00")) || len(p.Lines) != 1 {
		t.Fatalf("log-in: %+v %v", p, err)
	}
	if _, err := w.lines.Login(office, "nobody", ""); err == nil {
		t.Error("an unknown agent logged in")
	}
	w.clock.Set(at("2026-05-19 13:10:00"))
	w.restart(quickLines())
	got, ok := w.lines.AgentPresence("klara")
	if !ok || got.Activity != line.Available || !got.Since.Equal(at("2026-05-19 12:50:00")) {
		t.Fatalf("after a restart: %+v %v", got, ok)
	}
	if err := w.lines.Logout(office, "klara"); err != nil {
		t.Fatal(err)
	}
	if err := w.lines.Logout(office, "klara"); !errors.Is(err, line.ErrNotLoggedIn) {
		t.Errorf("second log-out: %v", err)
	}
	w.restart(quickLines())
	if ps := w.lines.Presence("peer"); len(ps) != 0 {
		t.Errorf("logged out, yet after a restart: %+v", ps)
	}
	log, _ := audit.Open(w.db)
	entries, _ := log.List(0, 10)
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	if len(actions) < 2 || actions[0] != "agent.logout" || actions[1] != "agent.login" {
		t.Errorf("audit: %v", actions)
	}
	// Paused while peerline was stopped (as agent import can): logged out at start.
	w.lines.Login(office, "klara", "")
	a, _ := w.roster.Agent("klara")
	a.Active = false
	if _, err := w.roster.UpdateAgent(office, a); err != nil {
		t.Fatal(err)
	}
	w.restart(quickLines())
	if _, ok := w.lines.AgentPresence("klara"); ok {
		t.Error("a paused agent is still logged in after a restart")
	}
}

// agentPhone is an agent's leg in the fake: it answers after ring (on the fake
// clock's terms, the test advances it) or refuses with err.
type agentPhone struct {
	ringing chan line.Target
	answer  func(t line.Target) (*linetest.Call, error) // nil: rings until cancelled
	legs    chan *linetest.Call
}

func newAgentPhone(answer func(t line.Target) (*linetest.Call, error)) *agentPhone {
	return &agentPhone{ringing: make(chan line.Target, 8), answer: answer, legs: make(chan *linetest.Call, 8)}
}

func (a *agentPhone) dial(ctx context.Context, t line.Target, _ line.DialOptions) (*linetest.Call, error) {
	a.ringing <- t
	if a.answer != nil {
		if leg, err := a.answer(t); leg != nil || err != nil {
			if leg != nil {
				a.legs <- leg
			}
			return leg, err
		}
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

func answers(t line.Target) (*linetest.Call, error) {
	return linetest.NewCall("agent-"+t.Agent, ""), nil
}

// startCall runs a call from callerNumber through the flow in the background,
// with dial answering for the agents; the channel gets Handle's error.
func startCall(w *world, id string, dial func(context.Context, line.Target, line.DialOptions) (*linetest.Call, error)) (*linetest.Call, chan error) {
	c := linetest.NewCall(id, callerNumber)
	c.Answerer = dial
	errc := make(chan error, 1)
	go func() { errc <- w.lines.Handle(context.Background(), "peer", c) }()
	return c, errc
}

func waitFor[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("timed out")
	}
	var zero T
	return zero
}

// waitBridged waits (bounded) until the flow has bridged c.
func waitBridged(t *testing.T, c *linetest.Call) {
	t.Helper()
	for range 5000 {
		if _, _, _, bridged := c.Connection(); bridged {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("the call was not bridged")
}

func lastRecord(t *testing.T, w *world) line.Record {
	t.Helper()
	recs, err := w.lines.Records("peer", date("2026-05-01"), date("2026-06-30"))
	if err != nil || len(recs) == 0 {
		t.Fatalf("records: %v %v", recs, err)
	}
	return recs[len(recs)-1]
}

func TestCallerIsBridgedToTheFreeAgent(t *testing.T) {
	w := newWorld(t, "2026-05-19 13:00:00", quickLines())
	w.lines.Login(office, "klara", "")
	phone := newAgentPhone(answers)
	c, errc := startCall(w, "c1", phone.dial)
	target := waitFor(t, phone.ringing)
	leg := waitFor(t, phone.legs)
	if target.Agent != "klara" || target.Phone != "+46701740605" {
		t.Errorf("dialled %+v", target)
	}
	waitBridged(t, c)
	if p, _ := w.lines.AgentPresence("klara"); p.Activity != line.Busy {
		t.Errorf("klara in the call: %+v", p)
	}
	w.clock.Advance(7 * time.Minute)
	leg.CallerHangsUp() // the agent hangs up
	if err := waitFor(t, errc); err != nil {
		t.Fatal(err)
	}
	answered, played, hungUp := c.Result()
	rang, _, opts, bridged := c.Connection()
	if !answered || !hungUp || !rang || !bridged || len(played) != 1 || played[0] != "greeting" {
		t.Errorf("caller: answered %v, hung up %v, rang %v, bridged %v, played %v", answered, hungUp, rang, bridged, played)
	}
	if opts[0].CallerID != "peer" || opts[0].CallerName != "Peer Support-linjen" {
		t.Errorf("the agent's phone shows %+v, want the line", opts[0])
	}
	rec := lastRecord(t, w)
	if rec.Outcome != line.OutcomeAnswered || rec.Agent != "klara" || rec.Talk != 420 {
		t.Errorf("record: %+v", rec)
	}
	if p, _ := w.lines.AgentPresence("klara"); p.Activity != line.Available || !p.Since.Equal(at("2026-05-19 13:07:00")) {
		t.Errorf("after the call: %+v", p)
	}
}

func TestRingTimeoutTriesTheNextAgent(t *testing.T) {
	w := newWorld(t, "2026-05-19 13:00:00", quickLines())
	w.lines.Login(office, "klara", "")
	w.clock.Advance(time.Minute)
	w.lines.Login(office, "michell", "")
	phone := newAgentPhone(func(t line.Target) (*linetest.Call, error) {
		if t.Agent == "michell" {
			return answers(t)
		}
		return nil, nil // klara's phone rings on
	})
	c, errc := startCall(w, "c2", phone.dial)
	if first := waitFor(t, phone.ringing); first.Agent != "klara" {
		t.Fatalf("rang %s first; klara has been idle longest", first.Agent)
	}
	w.clock.Advance(20 * time.Second) // ring_timeout
	if next := waitFor(t, phone.ringing); next.Agent != "michell" {
		t.Fatalf("then rang %s", next.Agent)
	}
	waitBridged(t, c)
	c.CallerHangsUp()
	waitFor(t, errc)
	if rec := lastRecord(t, w); rec.Outcome != line.OutcomeAnswered || rec.Agent != "michell" || rec.Wait != 20 {
		t.Errorf("record: %+v", rec)
	}
}

func TestCallerGivingUpWhileItRingsCancelsTheAgent(t *testing.T) {
	w := newWorld(t, "2026-05-19 13:00:00", quickLines())
	w.lines.Login(office, "klara", "")
	phone := newAgentPhone(nil)
	c, errc := startCall(w, "c3", phone.dial)
	waitFor(t, phone.ringing)
	w.clock.Advance(8 * time.Second)
	c.CallerHangsUp()
	waitFor(t, errc)
	rec := lastRecord(t, w)
	if rec.Outcome != line.OutcomeAbandonedQueue || rec.Wait != 8 || rec.Agent != "" {
		t.Errorf("record: %+v", rec)
	}
	if answered, _, _ := c.Result(); answered {
		t.Error("a caller who gave up was answered")
	}
	if p, _ := w.lines.AgentPresence("klara"); p.Activity != line.Available {
		t.Errorf("klara after the cancelled call: %+v", p)
	}
}

func TestNoAgentAnswersThenTheCallerIsTold(t *testing.T) {
	w := newWorld(t, "2026-05-19 13:00:00", quickLines()) // max_missed: 3
	w.lines.Login(office, "klara", "")
	c, errc := startCall(w, "c4", newAgentPhone(func(line.Target) (*linetest.Call, error) { return nil, line.ErrBusy }).dial)
	// Refused, held, rung again after the pause: the third miss logs klara out,
	// and with nobody left the caller is told.
	if err := runUntilDone(t, w, errc); err != nil {
		t.Fatal(err)
	}
	answered, played, hungUp := c.Result()
	if _, dialled, _, _ := c.Connection(); len(dialled) != 3 {
		t.Errorf("klara was rung %d times, want 3 (max_missed)", len(dialled))
	}
	if !answered || !hungUp || played[1] != "queue-hold" || played[len(played)-1] != "no-agents" {
		t.Errorf("caller: answered %v, hung up %v, played %v", answered, hungUp, played)
	}
	if rec := lastRecord(t, w); rec.Outcome != line.OutcomeAgentNoAnswer || rec.Wait < 10 || rec.Wait > 15 {
		t.Errorf("record: %+v, want agent_no_answer after two pauses of 5 s", rec)
	}
	if _, ok := w.lines.AgentPresence("klara"); ok {
		t.Error("klara missed three calls in a row and is still logged in")
	}
}

// runUntilDone moves the fake clock until the call's flow ends (bounded; see
// jumper), and returns Handle's error.
func runUntilDone(t *testing.T, w *world, errc <-chan error) error {
	t.Helper()
	var j jumper
	for range 5000 {
		select {
		case err := <-errc:
			return err
		case <-time.After(2 * time.Millisecond):
			j.step(w.clock)
		}
	}
	t.Fatal("the call did not end")
	return nil
}

func TestMissedCallsInARowLogTheAgentOut(t *testing.T) {
	w := newWorld(t, "2026-05-19 13:00:00", quickLines()) // max_missed: 3
	w.lines.Login(office, "klara", "")
	// Klara refuses twice, then answers: an answer ends the run of misses.
	refusals := 2
	var c *linetest.Call
	c, errc := startCall(w, "m1", func(ctx context.Context, tg line.Target, o line.DialOptions) (*linetest.Call, error) {
		if refusals > 0 {
			refusals--
			return nil, line.ErrBusy
		}
		go func() { waitBridged(t, c); c.CallerHangsUp() }()
		return answers(tg)
	})
	if err := runUntilDone(t, w, errc); err != nil {
		t.Fatal(err)
	}
	if p, ok := w.lines.AgentPresence("klara"); !ok || p.Missed != 0 {
		t.Fatalf("after miss, miss, answer: %+v %v", p, ok)
	}
	if rec := lastRecord(t, w); rec.Outcome != line.OutcomeAnswered {
		t.Errorf("record: %+v", rec)
	}
	_, errc = startCall(w, "m2", newAgentPhone(func(line.Target) (*linetest.Call, error) { return nil, line.ErrDeclined }).dial)
	runUntilDone(t, w, errc)
	if _, ok := w.lines.AgentPresence("klara"); ok {
		t.Fatal("three misses in a row, still logged in")
	}
	ev := w.office.WaitFor(t, event.AgentAutoLoggedOut)
	if ev.Data["agent"] != "klara" || ev.Data["missed"] != float64(3) {
		t.Errorf("event: %+v", ev)
	}
	w.clock.Advance(time.Second) // records are in order of their start
	_, errc = startCall(w, "after", nil)
	waitFor(t, errc)
	if rec := lastRecord(t, w); rec.ID != "after" || rec.Outcome != line.OutcomeNoAgents {
		t.Errorf("a call after the log-out: %+v", rec)
	}
}

// ringAllWorld is a Tuesday afternoon on a ring-all line with klara and michell
// logged in.
func ringAllWorld(t *testing.T) *world {
	cfg := quickLines()
	cfg[0].Calls.Strategy = "ring-all"
	w := newWorld(t, "2026-05-19 13:00:00", cfg)
	w.lines.Login(office, "klara", "")
	w.lines.Login(office, "michell", "")
	return w
}

func TestRingAllFirstAnswerWinsAndTheOthersStop(t *testing.T) {
	w := ringAllWorld(t)
	stopped := make(chan string, 2)
	c, errc := startCall(w, "r1", func(ctx context.Context, tg line.Target, _ line.DialOptions) (*linetest.Call, error) {
		if tg.Agent == "michell" {
			time.Sleep(50 * time.Millisecond) // both phones ring first
			return answers(tg)
		}
		<-ctx.Done() // klara's phone rings until told to stop
		stopped <- tg.Agent
		return nil, ctx.Err()
	})
	if got := waitFor(t, stopped); got != "klara" {
		t.Fatalf("stopped %s", got)
	}
	waitBridged(t, c)
	if _, dialled, _, _ := c.Connection(); len(dialled) != 2 {
		t.Errorf("rang %v, want both at once", dialled)
	}
	c.CallerHangsUp()
	waitFor(t, errc)
	if rec := lastRecord(t, w); rec.Outcome != line.OutcomeAnswered || rec.Agent != "michell" {
		t.Errorf("record: %+v", rec)
	}
	if p, _ := w.lines.AgentPresence("klara"); p.Activity != line.Available || p.Missed != 0 {
		t.Errorf("klara, whose phone stopped ringing: %+v", p)
	}
}

func TestRingAllNobodyAnswersCountsAMissEach(t *testing.T) {
	w := ringAllWorld(t)
	phone := newAgentPhone(nil) // both ring on
	c, errc := startCall(w, "r2", phone.dial)
	waitFor(t, phone.ringing)
	waitFor(t, phone.ringing)
	w.clock.Advance(20 * time.Second)
	waitQueued(t, w, 1) // on hold until the next round
	for _, id := range []string{"klara", "michell"} {
		if p, _ := w.lines.AgentPresence(id); p.Missed != 1 || p.Activity != line.Available {
			t.Errorf("%s: %+v", id, p)
		}
	}
	c.CallerHangsUp()
	waitFor(t, errc)
	if rec := lastRecord(t, w); rec.Outcome != line.OutcomeAbandonedQueue || rec.Wait != 20 {
		t.Errorf("record: %+v", rec)
	}
}
