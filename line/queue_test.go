package line_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/audit"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/line/hours"
	"github.com/peerline/peerline/line/linetest"
)

// waitQueued waits (bounded) until n callers are on hold on the line.
func waitQueued(t *testing.T, w *world, n int) []line.Queued {
	t.Helper()
	for range 5000 {
		if q := w.lines.Queue("peer"); len(q) == n {
			return q
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("queue: %+v, want %d callers", w.lines.Queue("peer"), n)
	return nil
}

// waitPlayed waits (bounded) until the prompts want have been played to c one
// after the other, and returns everything played so far.
func waitPlayed(t *testing.T, c *linetest.Call, want ...string) []string {
	t.Helper()
	var played []string
	for range 5000 {
		_, played, _ = c.Result()
		for i := range played {
			if len(played)-i >= len(want) && slices.Equal(played[i:i+len(want)], want) {
				return played
			}
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("%s heard %v, want %v in it", c.ID(), played, want)
	return nil
}

// busyWith puts a first caller through to the one agent logged in and returns
// the call, the agent's leg and the flow's result channel.
func busyWith(t *testing.T, w *world, id string) (*linetest.Call, *linetest.Call, chan error) {
	t.Helper()
	phone := newAgentPhone(answers)
	c, errc := startCall(w, id, phone.dial)
	waitBridged(t, c)
	return c, waitFor(t, phone.legs), errc
}

func TestSecondCallerQueuesAndIsBridgedWhenTheAgentIsFree(t *testing.T) {
	w := newWorld(t, "2026-05-19 13:00:00", quickLines())
	w.lines.Login(office, "klara", "")
	_, leg1, errc1 := busyWith(t, w, "q1")
	w.clock.Advance(time.Minute)
	second, errc2 := startCall(w, "q2", newAgentPhone(answers).dial)
	if played := waitPlayed(t, second, "queue-hold", "queue-first"); played[0] != "greeting" {
		t.Errorf("played %v", played)
	}
	q := waitQueued(t, w, 1)
	if q[0].Position != 1 || q[0].Ringing || !q[0].Since.Equal(at("2026-05-19 13:01:00")) {
		t.Errorf("queue: %+v", q)
	}
	if answered, _, _ := second.Result(); !answered {
		t.Error("a queued caller is answered: queues outlast early media")
	}
	for i := 0; second.Held() == 0; i++ { // hold music after the announcement
		if i == 5000 {
			t.Fatal("no hold music between announcements")
		}
		time.Sleep(time.Millisecond)
	}
	w.clock.Advance(2 * time.Minute)
	if q := w.lines.Queue("peer"); len(q) != 1 || q[0].Wait != 120 {
		t.Errorf("queue after two minutes: %+v", q)
	}
	if _, dialled, _, _ := second.Connection(); len(dialled) != 0 {
		t.Fatalf("the busy agent was rung: %v", dialled)
	}
	leg1.CallerHangsUp() // klara ends the first call
	waitFor(t, errc1)
	waitBridged(t, second)
	if q := w.lines.Queue("peer"); len(q) != 0 {
		t.Errorf("queue after the caller was put through: %+v", q)
	}
	second.CallerHangsUp()
	waitFor(t, errc2)
	if rec := lastRecord(t, w); rec.ID != "q2" || rec.Outcome != line.OutcomeAnswered || rec.Agent != "klara" || rec.Wait != 120 {
		t.Errorf("record: %+v", rec)
	}
}

func TestThreeCallersAreServedInArrivalOrder(t *testing.T) {
	w := newWorld(t, "2026-05-19 13:00:00", quickLines()) // announce_every: 60s
	w.lines.Login(office, "klara", "")
	_, leg1, errc1 := busyWith(t, w, "o1")
	phone := newAgentPhone(answers)
	w.clock.Advance(10 * time.Second)
	second, errc2 := startCall(w, "o2", phone.dial)
	waitQueued(t, w, 1)
	w.clock.Advance(10 * time.Second)
	third, errc3 := startCall(w, "o3", phone.dial)
	waitPlayed(t, third, "queue-hold", "queue-place", "number-2", "queue-in-line")
	if q := waitQueued(t, w, 2); q[0].Position != 1 || q[1].Position != 2 || q[1].Wait != 0 || q[0].Wait != 10 {
		t.Errorf("queue: %+v", q)
	}
	armed(t, w, 80*time.Second)       // the third caller's next announcement, at 13:01:20
	w.clock.Advance(60 * time.Second) // the next announcement
	waitPlayed(t, second, "queue-first", "queue-first")
	waitPlayed(t, third, "number-2", "queue-in-line", "queue-place", "number-2")

	leg1.CallerHangsUp()
	waitFor(t, errc1)
	waitBridged(t, second)
	if _, dialled, _, _ := third.Connection(); len(dialled) != 0 {
		t.Fatal("the third caller was put through before the second")
	}
	leg2 := waitFor(t, phone.legs)
	w.clock.Advance(60 * time.Second)
	waitPlayed(t, third, "queue-first") // now first in line
	leg2.CallerHangsUp()
	waitFor(t, errc2)
	waitBridged(t, third)
	third.CallerHangsUp()
	waitFor(t, errc3)
	recs, _ := w.lines.Records("peer", date("2026-05-19"), date("2026-05-19"))
	var order []string
	for _, r := range recs {
		if r.Outcome != line.OutcomeAnswered {
			t.Errorf("record: %+v", r)
		}
		order = append(order, r.ID)
	}
	if !slices.Equal(order, []string{"o1", "o2", "o3"}) || recs[1].Wait != 70 || recs[2].Wait != 120 {
		t.Errorf("records: %+v", recs)
	}
}

func TestMaxWaitTellsTheCallerToCallAgain(t *testing.T) {
	w := newWorld(t, "2026-05-19 13:00:00", quickLines()) // max_wait: 5m
	w.lines.Login(office, "klara", "")
	first, _, errc1 := busyWith(t, w, "t1")
	second, errc2 := startCall(w, "t2", newAgentPhone(answers).dial)
	waitQueued(t, w, 1)
	armed(t, w, 5*time.Minute) // the queue's max_wait deadline, before the clock jumps past it
	w.clock.Advance(5 * time.Minute)
	waitFor(t, errc2)
	if _, played, hungUp := second.Result(); played[len(played)-1] != "queue-timeout" || !hungUp {
		t.Errorf("after max_wait: played %v, hung up %v", played, hungUp)
	}
	if rec := lastRecord(t, w); rec.ID != "t2" || rec.Outcome != line.OutcomeQueueTimeout || rec.Wait != 300 || rec.Agent != "" {
		t.Errorf("record: %+v", rec)
	}
	first.CallerHangsUp()
	waitFor(t, errc1)
}

func TestCallerHangingUpInTheQueueIsAbandoned(t *testing.T) {
	w := newWorld(t, "2026-05-19 13:00:00", quickLines())
	w.lines.Login(office, "klara", "")
	first, _, errc1 := busyWith(t, w, "a1")
	second, errc2 := startCall(w, "a2", newAgentPhone(answers).dial)
	waitQueued(t, w, 1)
	w.clock.Advance(90 * time.Second)
	second.CallerHangsUp()
	waitFor(t, errc2)
	if rec := lastRecord(t, w); rec.ID != "a2" || rec.Outcome != line.OutcomeAbandonedQueue || rec.Wait != 90 {
		t.Errorf("record: %+v", rec)
	}
	waitQueued(t, w, 0)
	first.CallerHangsUp()
	waitFor(t, errc1)
}

func TestAnAgentInWrapUpIsNotOffered(t *testing.T) {
	w := newWorld(t, "2026-05-19 13:00:00", quickLines())
	w.lines.Login(office, "klara", "")
	w.lines.SetActivity("klara", line.WrapUp)
	c, errc := startCall(w, "w1", newAgentPhone(answers).dial)
	waitQueued(t, w, 1)
	if _, dialled, _, _ := c.Connection(); len(dialled) != 0 {
		t.Fatal("an agent in wrap-up was rung")
	}
	w.lines.SetActivity("klara", line.Available) // the form is done
	waitBridged(t, c)
	c.CallerHangsUp()
	waitFor(t, errc)
}

// closingWithACallerWaiting has klara busy with a first call and a second caller
// on hold when close closes the line; the waiting caller must hear prompt, and
// klara be logged out once her call is over.
func closingWithACallerWaiting(t *testing.T, w *world, close func(), prompt string, reason hours.Reason) {
	t.Helper()
	if _, err := w.lines.Login(office, "klara", ""); err != nil {
		t.Fatal(err)
	}
	_, leg1, errc1 := busyWith(t, w, "k1")
	second, errc2 := startCall(w, "k2", newAgentPhone(answers).dial)
	waitQueued(t, w, 1)
	close()
	waitFor(t, errc2)
	if _, played, hungUp := second.Result(); played[len(played)-1] != prompt || !hungUp {
		t.Errorf("the waiting caller at closing: played %v, hung up %v", played, hungUp)
	}
	if rec := lastRecord(t, w); rec.ID != "k2" || rec.Outcome != line.OutcomeClosed || rec.Reason != reason {
		t.Errorf("record: %+v", rec)
	}
	if p, ok := w.lines.AgentPresence("klara"); !ok || p.Activity != line.Busy {
		t.Fatalf("klara in her call at closing: %+v %v", p, ok)
	}
	leg1.CallerHangsUp()
	waitFor(t, errc1)
	if _, ok := w.lines.AgentPresence("klara"); ok {
		t.Error("klara is still logged in after her last call on a closed line")
	}
	log, _ := audit.Open(w.db)
	entries, _ := log.List(0, 1)
	if e := entries[0]; e.Action != "agent.logout" || e.Actor.Kind != audit.System.Kind || e.Target != "agent/klara" {
		t.Errorf("audit: %+v", e)
	}
}

func TestClosingTimeTellsWaitingCallersAndLogsAgentsOutAfterTheirCall(t *testing.T) {
	// 30 s before closing: the jump to 16:00 crosses no other deadline (the
	// queue's announcements and max_wait, the call limit) on its way.
	w := newWorld(t, "2026-05-19 15:59:30", quickLines())
	closingWithACallerWaiting(t, w, func() { w.clock.Set(at("2026-05-19 16:00:00")) }, "closed-welcome", hours.ReasonHours)
}

func TestOfficeClosingTellsWaitingCallers(t *testing.T) {
	w := newWorld(t, "2026-05-19 14:00:00", quickLines())
	closingWithACallerWaiting(t, w, func() {
		if _, err := w.lines.SetOverride(office, "peer", hours.Closed, "personalmöte", time.Time{}); err != nil {
			t.Fatal(err)
		}
	}, "closed-today", hours.ReasonOffice)
}

func TestNoCoverClosureTellsWaitingCallers(t *testing.T) {
	w := newWorld(t, "2026-05-20 13:10:00", quickLines()) // Wednesday: Klara alone
	closingWithACallerWaiting(t, w, func() {
		if _, err := w.lines.ReportSick(office, "peer", "klara", date("2026-05-20")); err != nil {
			t.Fatal(err)
		}
	}, "closed-today", hours.ReasonNoCover)
}

func TestFreeAgentsAreLoggedOutAtClosing(t *testing.T) {
	w := newWorld(t, "2026-05-19 15:00:00", quickLines())
	w.lines.Login(office, "klara", "")
	w.lines.Login(office, "michell", "")
	w.clock.Set(at("2026-05-19 15:59:59"))
	if ps := w.lines.Presence("peer"); len(ps) != 2 {
		t.Fatalf("before closing: %+v", ps)
	}
	w.clock.Set(at("2026-05-19 16:00:00"))
	if ps := w.lines.Presence("peer"); len(ps) != 0 {
		t.Errorf("at closing time: %+v still logged in", ps)
	}
	// The office opens the line for the evening, then closes it again.
	if _, err := w.lines.SetOverride(office, "peer", hours.Open, "kvällsjour", at("2026-05-19 20:00:00")); err != nil {
		t.Fatal(err)
	}
	w.lines.Login(office, "klara", "")
	if _, err := w.lines.SetOverride(office, "peer", hours.Closed, "slut för i kväll", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, ok := w.lines.AgentPresence("klara"); ok {
		t.Error("the office closed the line and klara, free, stayed logged in")
	}
}

func TestAnAgentLoggedInOvernightIsLoggedOutAtStart(t *testing.T) {
	w := newWorld(t, "2026-05-19 15:00:00", quickLines())
	w.lines.Login(office, "klara", "")
	w.stop() // peerline is stopped before closing time
	w.stop = nil
	w.clock.Set(at("2026-05-20 09:00:00"))
	w.open(quickLines())
	if _, ok := w.lines.AgentPresence("klara"); ok {
		t.Error("logged in at 15:00, still logged in the next morning")
	}
}

// quickLines is the default line without the wrap-up form and its cooldown:
// agents are free the moment a call ends, for the tests of dispatch.
func quickLines() []config.Line {
	ls := config.Default().Lines
	ls[0].Wrapup.Questions, ls[0].Wrapup.Cooldown = nil, 0
	return ls
}

// TestACallerInTheGreetingHoldsNobodyUp: a caller whose greeting ends first is
// put through while an earlier caller still hears theirs, instead of being
// sent to hold music with agents free.
func TestACallerInTheGreetingHoldsNobodyUp(t *testing.T) {
	w := newWorld(t, "2026-05-19 13:00:00", quickLines())
	w.lines.Login(office, "klara", "")
	w.lines.Login(office, "michell", "")
	phone := newAgentPhone(answers)
	slow := linetest.NewCall("slow", callerNumber)
	slow.PlayTime = time.Hour // still in the greeting
	slow.Answerer = phone.dial
	go w.lines.Handle(context.Background(), "peer", slow)
	defer slow.CallerHangsUp()
	waitUntil(t, "the first caller in the greeting", func() bool { _, played, _ := slow.Result(); return len(played) > 0 })
	quick, errc := startCall(w, "quick", phone.dial)
	waitFor(t, phone.legs)
	waitBridged(t, quick)
	if quick.Held() != 0 {
		t.Error("the second caller was put on hold while an agent was free")
	}
	quick.CallerHangsUp()
	waitFor(t, errc)
}
