package sip_test

import (
	"context"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/sip/siptest"
)

// waitQueued waits (bounded) until n callers hold on the rig's line.
func (r *rig) waitQueued(t *testing.T, n int) []line.Queued {
	t.Helper()
	waitFor(t, func() bool { return len(r.lines.Queue("peer")) == n }, "the queue never had the callers expected")
	return r.lines.Queue("peer")
}

// holding calls the line and waits until the call is on hold at place n.
func holding(t *testing.T, r *rig, pt uint8, n int) (*siptest.Phone, *siptest.Call) {
	t.Helper()
	phone, call := callLine(t, r, pt) // answered to wait
	if q := r.waitQueued(t, n); q[n-1].Position != n {
		t.Fatalf("queue: %+v", q)
	}
	return phone, call
}

func TestCallersHoldInArrivalOrderAndArePutThroughOneByOne(t *testing.T) {
	r := startRig(t, tuesday)
	agent := siptest.NewAgent(t, media.PCMU, siptest.AgentOptions{})
	r.onDuty(t, agent.URI)
	phone1, call1 := callLine(t, r, media.PCMU)
	siptest.HearEachOther(t, phone1, call1, agent)
	agent.WaitInvite(time.Second)

	phone2, call2 := holding(t, r, media.PCMA, 1)
	waitFor(t, func() bool { return phone2.Media.HeardTone(500, 800) && phone2.Media.HeardTone(700, 800) },
		"the waiting caller heard no queue prompt (500 Hz) and place (700 Hz)")
	r.clock.Advance(10 * time.Second)
	phone3, call3 := holding(t, r, media.PCMU, 2)
	if inv := agent.WaitInvite(100 * time.Millisecond); inv != nil {
		t.Fatal("the busy agent's phone was rung")
	}
	if q := r.lines.Queue("peer"); q[0].Wait != 10 || q[1].Wait != 0 {
		t.Errorf("waits: %+v", q)
	}

	for i, next := range []struct {
		phone *siptest.Phone
		call  *siptest.Call
		ended *siptest.Phone
	}{{phone2, call2, phone1}, {phone3, call3, phone2}} {
		before := agent.Remote()
		agent.Hangup(context.Background()) // the agent ends the call in progress
		if !next.ended.WaitBye(5 * time.Second) {
			t.Fatalf("round %d: the caller in the call got no BYE", i)
		}
		if agent.WaitInvite(5*time.Second) == nil {
			t.Fatalf("round %d: the agent was not rung for the next caller", i)
		}
		waitFor(t, func() bool { return agent.Remote() != before }, "no new leg at the agent")
		siptest.HearEachOther(t, next.phone, next.call, agent)
		if q := r.lines.Queue("peer"); len(q) != 1-i {
			t.Errorf("round %d: queue %+v", i, q)
		}
	}
	call3.Hangup(context.Background())
	day := config.DateOf(tuesday)
	var recs []line.Record
	waitFor(t, func() bool { recs, _ = r.lines.Records("peer", day, day); return len(recs) == 3 }, "not three records")
	waited := 0.0 // the second caller waited 10 s of the line's clock, the others none
	for _, rec := range recs {
		if rec.Outcome != line.OutcomeAnswered || rec.Agent != "klara" {
			t.Errorf("record: %+v", rec)
		}
		waited += rec.Wait
	}
	if waited != 10 {
		t.Errorf("records: %+v", recs)
	}
}
