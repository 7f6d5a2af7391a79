package line_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/peerline/peerline/internal/event"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/line/linetest"
)

// noTrunk is SIP mode without a trunk proxy: only a SIP address can be called.
func noTrunk(t line.Target) error {
	if t.SIPURI == "" {
		return fmt.Errorf("%w: agent %s has no SIP address and sip.trunk.proxy is not set", line.ErrUnreachable, t.Agent)
	}
	return nil
}

// TestAnAgentWhoCannotBeCalledCannotLogIn: by the office and by phone, the
// log-in is refused with the reason; nobody waits on a phone peerline cannot ring.
func TestAnAgentWhoCannotBeCalledCannotLogIn(t *testing.T) {
	w := newWorld(t, "2026-05-19 13:00:00", quickLines())
	w.lines.SetReach(noTrunk)
	if _, err := w.lines.Login(office, "klara", ""); !errors.Is(err, line.ErrCannotBeCalled) {
		t.Fatalf("office log-in: %v, want ErrCannotBeCalled", err)
	}
	w.pins()
	played, _ := w.dial(klaraPhone, "*#275931#1")
	if !heard(played, "agent-menu", "agent-cannot-be-called") || heard(played, "agent-logged-in") {
		t.Errorf("by phone klara heard %v", played)
	}
	if _, ok := w.lines.AgentPresence("klara"); ok {
		t.Error("klara is logged in")
	}
}

// TestAnUnreachablePhoneIsAMissAndTheOfficeSeesWhy: an agent logged in whose
// phone then cannot be called counts a miss per attempt, shows why, and is
// logged out after max_missed, so callers stop waiting for nobody.
func TestAnUnreachablePhoneIsAMissAndTheOfficeSeesWhy(t *testing.T) {
	w := newWorld(t, "2026-05-19 13:00:00", quickLines()) // max_missed: 3
	w.lines.Login(office, "klara", "")
	attempts := 0
	dial := func(ctx context.Context, tg line.Target, _ line.DialOptions) (*linetest.Call, error) {
		attempts++
		if attempts == 1 {
			if p, _ := w.lines.AgentPresence("klara"); p.Unreachable != "" {
				t.Errorf("unreachable before any attempt: %+v", p)
			}
		}
		return nil, noTrunk(tg)
	}
	_, errc := startCall(w, "u1", dial)
	for i := 0; i < 2000; i++ { // until the first miss is noted
		if p, _ := w.lines.AgentPresence("klara"); p.Missed == 1 {
			if p.Unreachable == "" || p.Activity != line.Available {
				t.Errorf("after one unreachable attempt: %+v", p)
			}
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := runUntilDone(t, w, errc); err != nil {
		t.Fatal(err)
	}
	if _, ok := w.lines.AgentPresence("klara"); ok || attempts != 3 {
		t.Errorf("after %d unreachable attempts klara is still logged in", attempts)
	}
	if ev := w.office.WaitFor(t, event.AgentAutoLoggedOut); ev.Data["missed"] != float64(3) {
		t.Errorf("event: %+v", ev)
	}
}
