package sip_test

import (
	"context"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/line/hours"
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

func TestRingTimeoutRingsTheNextAgent(t *testing.T) {
	r := startRig(t, tuesday) // ring_timeout: 20s
	deaf := siptest.NewAgent(t, media.PCMU, siptest.AgentOptions{RingFor: time.Hour})
	quick := siptest.NewAgent(t, media.PCMU, siptest.AgentOptions{RingFor: 100 * time.Millisecond})
	r.onDutyAs(t, "jim", "+46701740606", deaf.URI) // idle the longest: rung first
	r.clock.Advance(time.Second)
	r.onDutyAs(t, "klara", agentNumber, quick.URI)
	go func() {
		if deaf.WaitInvite(5*time.Second) != nil {
			r.clock.Advance(20 * time.Second)
		}
	}()
	phone, call := callLine(t, r, media.PCMU)
	if !deaf.WaitCancel(5 * time.Second) {
		t.Error("the first agent's phone was not cancelled at the ring timeout")
	}
	siptest.HearEachOther(t, phone, call, quick)
	call.Hangup(context.Background())
	if rec := r.record(t); rec.Agent != "klara" || rec.Wait != 20 {
		t.Errorf("record: %+v", rec)
	}
	if p, _ := r.lines.AgentPresence("jim"); p.Missed != 1 {
		t.Errorf("the ring timeout is a miss: %+v", p)
	}
}

func TestMaxWaitTellsTheWaitingCaller(t *testing.T) {
	r := startRig(t, tuesday) // max_wait: 5m
	phone1, call1, agent := connected(t, r, media.PCMU, media.PCMU)
	phone2, _ := holding(t, r, media.PCMU, 1)
	phone2.Media.Reset()
	r.clock.Advance(5 * time.Minute)
	if !phone2.WaitBye(15 * time.Second) {
		t.Fatal("no BYE after max_wait")
	}
	if !phone2.Media.HeardTone(900, 800) {
		t.Error("the caller did not hear the queue-timeout announcement (900 Hz)")
	}
	if rec := r.record(t); rec.Outcome != line.OutcomeQueueTimeout || rec.Wait != 300 {
		t.Errorf("record: %+v", rec)
	}
	siptest.HearEachOther(t, phone1, call1, agent) // the call in progress goes on
}

func TestClosingTimeWithACallerWaitingAndTheAgentBusy(t *testing.T) {
	// 13:00; the line closes at 16:00. No max_wait or call limit within that: the
	// fake clock's jump fires the timers in order, and a caller who woke at
	// max_wait would rightly be told queue-timeout, a call cut at 20 minutes.
	r := startRigWith(t, tuesday, func(c *config.Config) {
		c.Lines[0].Queue.MaxWait = config.Duration(4 * time.Hour)
		c.Lines[0].Calls.Limit = 0
	})
	phone1, call1, agent := connected(t, r, media.PCMU, media.PCMU)
	phone2, _ := holding(t, r, media.PCMU, 1)
	phone2.Media.Reset()
	r.clock.Set(tuesday.Add(3 * time.Hour))
	if !phone2.WaitBye(5 * time.Second) {
		t.Fatal("the waiting caller got no BYE at closing time")
	}
	if !phone2.Media.HeardTone(1000, 800) {
		t.Error("the waiting caller did not hear the closed announcement (1 kHz)")
	}
	if rec := r.record(t); rec.Outcome != line.OutcomeClosed || rec.Reason != hours.ReasonHours {
		t.Errorf("record: %+v", rec)
	}
	if p, ok := r.lines.AgentPresence("klara"); !ok || p.Activity != line.Busy {
		t.Fatalf("klara in her call at closing time: %+v %v", p, ok)
	}
	siptest.HearEachOther(t, phone1, call1, agent) // the call in progress goes on
	call1.Hangup(context.Background())
	waitFor(t, func() bool { _, ok := r.lines.AgentPresence("klara"); return !ok },
		"klara is still logged in after her last call")
}
