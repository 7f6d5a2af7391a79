package line_test

import (
	"context"
	"testing"
	"time"

	"github.com/peerline/peerline/line"
)

// TestACrashLosesNoCall: peerline dies (the database is closed under the flows,
// as kill -9 leaves it) with one call bridged and one caller waiting; the next
// start closes both records as interrupted at the last time it was known alive,
// and the agent is free again.
func TestACrashLosesNoCall(t *testing.T) {
	w := newWorld(t, "2026-05-19 13:00:00", quickLines())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w.lines.RunAlive(ctx, func(err error) { t.Error(err) })
	if _, err := w.lines.Login(office, "klara", ""); err != nil {
		t.Fatal(err)
	}
	phone := newAgentPhone(answers)
	talking, _ := startCall(w, "c-talking", phone.dial)
	waitBridged(t, talking)
	waiting, _ := startCall(w, "c-waiting", phone.dial)
	for range 5000 {
		if len(w.lines.Queue("peer")) == 1 && waiting.Held() > 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	for range 5000 { // the start and the bridge are stored while the calls go on
		if ok, _ := w.lines.StoredOpen("c-waiting"); ok {
			if _, since := w.lines.StoredOpen("c-talking"); !since.IsZero() {
				break
			}
		}
		time.Sleep(time.Millisecond)
	}
	for range 4 { // two minutes of talk, noted alive every 30 s
		w.clock.Advance(30 * time.Second)
	}
	cancel()                // the notes stop: the crash comes later
	w.restart(quickLines()) // the old flows' writes fail from now on: they are dead
	w.clock.Advance(10 * time.Minute)
	n, err := w.lines.CloseInterrupted() // what serve does at start-up
	if err != nil || n != 2 {
		recs, _ := w.lines.Records("peer", date("2026-05-19"), date("2026-05-19"))
		t.Fatalf("closed %d: %v %+v q=%d held=%d", n, err, recs, len(w.lines.Queue("peer")), waiting.Held())
	}
	recs, err := w.lines.Records("peer", date("2026-05-19"), date("2026-05-19"))
	if err != nil || len(recs) != 2 {
		t.Fatalf("records: %+v %v", recs, err)
	}
	alive := at("2026-05-19 13:02:00")
	for _, r := range recs {
		if !r.End.Equal(alive) {
			t.Errorf("%s ended %v, want the last note %v", r.ID, r.End, alive)
		}
		switch r.ID {
		case "c-talking":
			if r.Outcome != line.OutcomeAnswered || r.Ended != line.EndedInterrupted || r.Agent != "klara" || r.Talk < 119 || r.Talk > 121 {
				t.Errorf("the bridged call: %+v", r)
			}
		case "c-waiting":
			if r.Outcome != line.OutcomeInterrupted || r.Seconds < 119 {
				t.Errorf("the waiting call: %+v", r)
			}
		}
	}
	if p, ok := w.lines.AgentPresence("klara"); !ok || p.Activity != line.Available {
		t.Errorf("Klara after the restart: %+v", p)
	}
	if n, _ := w.lines.CloseInterrupted(); n != 0 {
		t.Errorf("closed %d more on a second start", n)
	}
}
