package sip_test

import (
	"context"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/sip/siptest"
)

// TestEveryFormOfTheLinesNumberReachesIt: a trunk may send the line's number
// as E.164, nationally, without "+" or with "00"; all reach the line, and
// through a national trunk the agent is dialled, and shown the line, with 0.
func TestEveryFormOfTheLinesNumberReachesIt(t *testing.T) {
	trunk := siptest.NewAgent(t, media.PCMU, siptest.AgentOptions{})
	r := startRigWith(t, saturday, func(cfg *config.Config) { // closed: each call hears the announcement
		cfg.Lines[0].Numbers = []string{"+46812345678"}
		cfg.SIP.Trunk.Proxy = "sip:" + trunk.Addr
		cfg.SIP.Trunk.NumberFormat = "national"
	})
	for _, form := range []string{"+46812345678", "0812345678", "46812345678", "0046812345678"} {
		phone := siptest.NewPhone(t, callerNumber, media.PCMU)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		call, err := phone.Call(ctx, form, r.addr)
		cancel()
		if err != nil || call.Status != 200 {
			t.Errorf("%s: %v %+v", form, err, call)
			continue
		}
		phone.WaitBye(5 * time.Second)
	}
	phone := siptest.NewPhone(t, callerNumber, media.PCMU)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if call, err := phone.Call(ctx, "0812345679", r.addr); err != nil || call.Status != 404 {
		t.Errorf("another number: %v %+v, want 404", err, call)
	}

	// Open the line and put an agent behind the national trunk.
	r.clock.Set(tuesday.AddDate(0, 0, 7)) // the Tuesday after
	r.onDuty(t, "")
	phone = siptest.NewPhone(t, callerNumber, media.PCMU)
	go phone.Call(ctx, "0812345678", r.addr)
	inv := trunk.WaitInvite(5 * time.Second)
	if inv == nil {
		t.Fatal("the trunk got no INVITE for the agent")
	}
	if inv.Recipient.User != "0701740605" || inv.From().Address.User != "0812345678" {
		t.Errorf("through a national trunk: to %s, from %s; want 0701740605 from 0812345678", inv.Recipient.User, inv.From().Address.User)
	}
}
