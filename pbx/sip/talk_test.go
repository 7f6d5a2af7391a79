package sip_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/media/mediatest"
	"github.com/peerline/peerline/pbx/sip/siptest"
)

// TestWarningReachesTheAgentAloneThenTheLimitCuts: a 10-minute limit with a
// warning 30 s before. The warning (1500 Hz) is mixed into the agent's audio
// only; at the limit both hear the closing phrase (1200 Hz), the caller gets BYE
// and the agent answers the form: one question by an RFC 4733 key, one by SIP
// INFO on the agent's leg.
func TestWarningReachesTheAgentAloneThenTheLimitCuts(t *testing.T) {
	r := startRigWith(t, tuesday, func(c *config.Config) {
		l := &c.Lines[0]
		l.Calls.Limit, l.Calls.Warnings = config.Duration(10*time.Minute), []config.Duration{config.Duration(30 * time.Second)}
		l.Wrapup.Questions = config.Default().Lines[0].Wrapup.Questions[:2]
		for name, freq := range map[string]float64{"call-warning": 1500, "call-limit": 1200, "wrapup-intro": 0, "wrapup-call-type": 0, "wrapup-referred": 0} {
			os.WriteFile(filepath.Join(l.Prompts, name+".wav"), mediatest.ToneWAV(freq, 300*time.Millisecond), 0o600)
		}
	})
	phone, _, agent := connected(t, r, media.PCMU, media.PCMA)
	warnsAgentAlone(t, r, phone, agent)
	r.clock.Advance(30 * time.Second)
	if !phone.WaitBye(5 * time.Second) {
		t.Fatal("no BYE to the caller at the limit")
	}
	if !phone.Media.HeardTone(1200, 800) || !agent.Media.HeardTone(1200, 800) {
		t.Error("both should hear the closing phrase")
	}
	time.Sleep(300 * time.Millisecond) // the form's prompts
	agent.Media.SendKeys(agent.Remote(), media.DefaultDTMF, "3")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := agent.PressInfo(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	if !agent.WaitBye(5 * time.Second) {
		t.Fatal("the agent's leg was not hung up after the form")
	}
	rec := r.record(t)
	if rec.Ended != line.EndedLimit || !rec.LimitHit || rec.Talk != 600 || rec.Wrapup == nil || rec.Wrapup.Answers["call_type"] != "kris" || rec.Wrapup.Answers["referred"] != "ja" {
		t.Errorf("record: %+v %+v", rec, rec.Wrapup)
	}
}

// warnsAgentAlone moves a 10-minute call to its warning 30 s before the limit:
// the agent hears it (1500 Hz), the caller does not.
func warnsAgentAlone(t *testing.T, r *rig, phone *siptest.Phone, agent *siptest.Agent) {
	t.Helper()
	phone.Media.Reset()
	agent.Media.Reset()
	r.clock.Advance(9*time.Minute + 30*time.Second)
	waitFor(t, func() bool { return agent.Media.HeardTone(1500, 800) }, "the agent did not hear the warning")
	time.Sleep(200 * time.Millisecond)
	if phone.Media.HeardTone(1500, 400) {
		t.Error("the caller heard the agent's warning")
	}
}
