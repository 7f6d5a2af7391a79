package sip_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/sip/siptest"
)

// TestCallbackReachesTheCallerThroughTheTrunk: a caller talks to Klara and hangs
// up; Klara calls the line from her phone, presses her PIN and 4, and the
// caller's number is dialled through the trunk showing the line's number. The
// two hear each other, and neither side's number reaches the other.
func TestCallbackReachesTheCallerThroughTheTrunk(t *testing.T) {
	trunk := siptest.NewAgent(t, media.PCMU, siptest.AgentOptions{User: "peerline", Password: "s3cret"})
	r := startRigWith(t, tuesday, func(cfg *config.Config) {
		cfg.SIP.Trunk.Proxy = "sip:" + trunk.Addr
		cfg.SIP.Trunk.Username, cfg.SIP.Trunk.Password = "peerline", "s3cret"
	})
	agent := siptest.NewAgent(t, media.PCMU, siptest.AgentOptions{})
	r.onDuty(t, agent.URI)
	if err := r.roster.SetPIN(office, "klara", "275931"); err != nil {
		t.Fatal(err)
	}
	phone, call := callLine(t, r, media.PCMA)
	siptest.HearEachOther(t, phone, call, agent)
	call.Hangup(context.Background()) // the call drops
	if !agent.WaitBye(5 * time.Second) {
		t.Fatal("the agent's leg stayed up")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Still on duty, Klara hears the greeting like any caller and presses the
	// agent key during it.
	klara, own := callFromPressing(t, r, agentNumber, media.PCMU, "*")
	if err := own.PressInfo(ctx, "#275931#4"); err != nil {
		t.Fatal(err)
	}
	inv := trunk.WaitInvite(10 * time.Second)
	if inv == nil {
		t.Fatal("no callback reached the trunk")
	}
	if inv.Recipient.User != callerNumber {
		t.Errorf("the callback went to %s", inv.Recipient.String())
	}
	if inv.From().Address.User != "peer" || inv.From().DisplayName != "Peer Support-linjen" {
		t.Errorf("the caller's phone shows %q <%s>, want the line", inv.From().DisplayName, inv.From().Address.User)
	}
	if strings.Contains(inv.String(), "1740605") {
		t.Errorf("the callback carries Klara's number:\n%s", inv)
	}
	// The INVITE came before the bridge: wait (bounded) until audio crosses.
	for i := 0; i < 40 && !trunk.Media.Hears(1000, 400); i++ {
		klara.Media.Send(own.Remote(), 1000, 5)
	}
	siptest.HearEachOther(t, klara, own, trunk)
	if err := trunk.Hangup(ctx); err != nil { // the caller says goodbye
		t.Fatal(err)
	}
	if !klara.WaitBye(5 * time.Second) {
		t.Error("Klara's call was not ended after the callback")
	}
	for _, m := range klara.Received() {
		if strings.Contains(m, "1234567") {
			t.Errorf("Klara's phone got the caller's number:\n%s", m)
		}
	}
	rec := r.record(t)
	if !rec.Callback || rec.Agent != "klara" || rec.Ended != "caller" {
		t.Errorf("record %+v", rec)
	}
}
