package webhook_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/pbx/webhook"
	"github.com/peerline/peerline/pbx/webhook/pbxsim"
)

func withReferral(c *config.Config) {
	c.Lines[0].Wrapup.Questions = nil
	c.Lines[0].Referrals = []config.Referral{{Key: "*1", Name: "Självmordslinjen", Number: "90101"}}
}

// refer puts a caller through to klara, who presses the referral's key; it
// returns the legs, the service's still ringing.
func (r *rig) refer(t *testing.T) (caller, agent, service *pbxsim.Leg) {
	t.Helper()
	caller, agent = r.ringKlara(t)
	ctx := context.Background()
	agent.Answer(ctx)
	waitFor(t, caller, 0, "bridge", pbxsim.Is(webhook.ActBridge, ""))
	agent.Press(ctx, "*1")
	select {
	case service = <-r.sim.Dials:
	case <-time.After(5 * time.Second):
		t.Fatal("the service was not dialled")
	}
	return caller, agent, service
}

// A warm referral over the webhook protocol: the PBX dials the service with
// the line's number, then holds the three legs in one conference; the
// agent's # unbridges them and bridges the caller with the service.
func TestWarmReferralOverWebhooks(t *testing.T) {
	r := startRigWith(t, tuesday, withReferral)
	caller, agent, service := r.refer(t)
	ctx := context.Background()
	if service.Dial.Target == nil || service.Dial.Target.Phone != "90101" || service.Dial.CallerID != lineNumber {
		t.Errorf("the service's dial: %+v %+v", service.Dial, service.Dial.Target)
	}
	waitFor(t, caller, 0, "the referral's prompt", pbxsim.Is(webhook.ActPlay, "referral-connecting"))
	service.Answer(ctx)
	conf, _ := waitFor(t, caller, 0, "conference", pbxsim.Is(webhook.ActConference, ""))
	if !slices.Equal(conf.Legs, []string{agent.ID, service.ID}) {
		t.Errorf("the conference: %+v", conf.Legs)
	}
	agent.Press(ctx, "#")
	_, i := waitFor(t, caller, 0, "conference", pbxsim.Is(webhook.ActConference, ""))
	b, _ := waitFor(t, caller, i, "the caller with the service", pbxsim.Is(webhook.ActBridge, ""))
	if b.Leg != service.ID {
		t.Errorf("bridged with %s, want the service %s", b.Leg, service.ID)
	}
	done(t, agent)
	caller.Hangup(ctx)
	done(t, service)
	if rec := r.records(t, 1)[0]; rec.Ended != line.EndedReferred || rec.Referral == nil || !rec.Referral.Answered {
		t.Errorf("record: %+v %+v", rec, rec.Referral)
	}
}

// A PBX that cannot hold three legs says so; the caller is handed over blind.
func TestWarmReferralFallsBackToBlind(t *testing.T) {
	r := startRigWith(t, tuesday, withReferral)
	r.sim.NoConference = true
	caller, agent, service := r.refer(t)
	ctx := context.Background()
	service.Answer(ctx)
	_, i := waitFor(t, caller, 0, "conference", pbxsim.Is(webhook.ActConference, ""))
	b, _ := waitFor(t, caller, i, "the caller with the service", pbxsim.Is(webhook.ActBridge, ""))
	if b.Leg != service.ID {
		t.Errorf("bridged with %s, want the service %s", b.Leg, service.ID)
	}
	done(t, agent)
	caller.Hangup(ctx)
	if rec := r.records(t, 1)[0]; rec.Ended != line.EndedReferred || !rec.Referral.Answered {
		t.Errorf("record: %+v %+v", rec, rec.Referral)
	}
}
