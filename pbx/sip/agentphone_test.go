package sip_test

import (
	"context"
	"testing"
	"time"

	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/sip/siptest"
	"github.com/peerline/peerline/roster"
)

// agentCalls adds Klara with a PIN (not logged in) and calls the line from her
// phone, pressing early (the agent key) during the greeting's early media.
func agentCalls(t *testing.T, r *rig, pt uint8, early string) (*siptest.Phone, *siptest.Call) {
	t.Helper()
	addKlara(t, r)
	return callFromPressing(t, r, agentNumber, pt, early)
}

// addKlara adds Klara with a PIN, once, not logged in.
func addKlara(t *testing.T, r *rig) {
	t.Helper()
	if _, err := r.roster.Agent("klara"); err != nil {
		if _, err := r.roster.AddAgent(office, roster.Agent{ID: "klara", Name: "Klara", Phone: agentNumber, Lines: []string{"peer"}, Active: true}); err != nil {
			t.Fatal(err)
		}
		if err := r.roster.SetPIN(office, "klara", "275931"); err != nil {
			t.Fatal(err)
		}
	}
}

func (r *rig) loggedIn(id string) bool {
	_, ok := r.lines.AgentPresence(id)
	return ok
}

func TestAgentLogsInBySIPInfoAndOutByRTPEvents(t *testing.T) {
	r := startRig(t, tuesday)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, call := agentCalls(t, r, media.PCMU, "")
	if err := call.PressInfo(ctx, "*#275931#1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return r.loggedIn("klara") }, "not logged in by INFO")
	if res, err := call.Info(ctx, "text/plain", "hello"); err != nil || res.StatusCode != 415 {
		t.Errorf("INFO without a key: %v %v", res, err)
	}
	if res, err := call.Info(ctx, "application/dtmf", "x"); err != nil || res.StatusCode != 415 {
		t.Errorf("INFO with a bad key: %v %v", res, err)
	}
	call.Hangup(ctx)
	if res, err := call.Info(ctx, "application/dtmf", "1"); err != nil || res.StatusCode != 481 {
		t.Errorf("INFO after the call: %v %v", res, err)
	}

	// Logged in, Klara gets the greeting as early media like any caller: the
	// agent key during it answers the call with the agent's questions.
	phone, call := agentCalls(t, r, media.PCMA, "*")
	phone.Media.SendKeys(call.Remote(), media.DefaultDTMF, "#275931#1")
	// (Bounded more loosely than waitFor: under a loaded -race run the PIN's
	// argon2 check alone can take a second.)
	for i := 0; i < 750 && r.loggedIn("klara"); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if r.loggedIn("klara") {
		t.Fatal("not logged out by RFC 4733 events")
	}
	call.Hangup(ctx)
}

// TestAgentKeyFromAnUnknownPhoneOverSIP: the agent key during the no-one-available
// announcement (the greeting's early media is tested with SIPp in test/e2e).
func TestAgentKeyFromAnUnknownPhoneOverSIP(t *testing.T) {
	r := startRig(t, tuesday)
	if _, err := r.roster.AddAgent(office, roster.Agent{ID: "klara", Name: "Klara", Phone: agentNumber, Lines: []string{"peer"}, Active: true}); err != nil {
		t.Fatal(err)
	}
	if err := r.roster.SetPIN(office, "klara", "275931"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	phone, call := callLine(t, r, media.PCMU) // from a number peerline does not know
	phone.Media.SendKeys(call.Remote(), media.DefaultDTMF, "*")
	time.Sleep(300 * time.Millisecond)
	if err := call.PressInfo(ctx, "0701740605#275931#1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return r.loggedIn("klara") }, "not logged in by the * path")
	call.Hangup(ctx)
}
