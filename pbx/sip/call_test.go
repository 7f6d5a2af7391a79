package sip_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/audit"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/sip/siptest"
	"github.com/peerline/peerline/roster"
)

// tuesday is 13:00 in Stockholm on an ordinary service day: the line is open.
var tuesday = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

var office = audit.WithActor(context.Background(), audit.Actor{Kind: "token", Name: "test"})

const (
	callerNumber = "+46701234567"
	agentNumber  = "+46701740605"
)

// onDuty adds an agent reached at the phone's SIP URI (or, with uri "", by
// number through the trunk) and logs them in.
func (r *rig) onDuty(t *testing.T, uri string) { r.onDutyAs(t, "klara", agentNumber, uri) }

// onDutyAs adds agent id with phone number and SIP URI and logs them in.
func (r *rig) onDutyAs(t *testing.T, id, number, uri string) {
	t.Helper()
	if _, err := r.roster.AddAgent(office, roster.Agent{ID: id, Name: id, Phone: number, SIPURI: uri, Lines: []string{"peer"}, Active: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.lines.Login(office, id, "peer"); err != nil {
		t.Fatal(err)
	}
}

// record waits (bounded) for the call's record: it is written as the call ends.
func (r *rig) record(t *testing.T) line.Record {
	t.Helper()
	day := config.DateOf(tuesday.In(time.Local))
	for range 250 {
		recs, _ := r.lines.Records("peer", day.AddDays(-1), day.AddDays(1))
		if len(recs) > 0 {
			return recs[len(recs)-1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no call record")
	return line.Record{}
}

// callLine calls the line from a caller's phone speaking pt; the call must be
// answered (put through, or an announcement).
func callLine(t *testing.T, r *rig, pt uint8) (*siptest.Phone, *siptest.Call) {
	t.Helper()
	return callFrom(t, r, callerNumber, pt)
}

// callFrom calls the line from number; the call must be answered.
func callFrom(t *testing.T, r *rig, number string, pt uint8) (*siptest.Phone, *siptest.Call) {
	t.Helper()
	return callFromPressing(t, r, number, pt, "")
}

// callFromPressing is callFrom pressing early during the early media.
func callFromPressing(t *testing.T, r *rig, number string, pt uint8, early string) (*siptest.Phone, *siptest.Call) {
	t.Helper()
	phone := siptest.NewPhone(t, number, pt)
	phone.EarlyKeys = early
	return dialLine(t, r, phone)
}

// dialLine calls the line from phone; the call must be answered.
func dialLine(t *testing.T, r *rig, phone *siptest.Phone) (*siptest.Phone, *siptest.Call) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	call, err := phone.Call(ctx, "peer", r.addr)
	if err != nil || call.Status != 200 {
		t.Fatalf("call: %v %+v", err, call)
	}
	return phone, call
}

func TestCallerIsBridgedToTheAgentAndNoNumberLeaks(t *testing.T) {
	r := startRig(t, tuesday)
	agent := siptest.NewAgent(t, media.PCMA, siptest.AgentOptions{RingFor: 300 * time.Millisecond}) // the caller speaks PCMU: transcoded both ways
	r.onDuty(t, agent.URI)
	phone, call := callLine(t, r, media.PCMU)
	if early := strings.Join(phone.Received(), ""); !strings.Contains(early, "183 Session Progress") || len(phone.Media.Heard()) < 1600 {
		t.Errorf("the caller heard no greeting or ringback before the agent answered (%d samples)", len(phone.Media.Heard()))
	}
	inv := agent.WaitInvite(time.Second)
	if inv == nil {
		t.Fatal("the agent's phone got no INVITE")
	}
	if inv.From().Address.User != "peer" || inv.From().DisplayName != "Peer Support-linjen" {
		t.Errorf("the agent's phone shows %q <%s>, want the line", inv.From().DisplayName, inv.From().Address.User)
	}
	if _, port, _ := strings.Cut(r.addr, ":"); strconv.Itoa(inv.Via().Port) != port || inv.Source() != r.addr {
		t.Errorf("the agent's INVITE came from %s with Via %s; want peerline's listener %s", inv.Source(), inv.Via().Value(), r.addr)
	}
	if strings.Contains(inv.String(), "1234567") {
		t.Errorf("the agent's INVITE carries the caller's number:\n%s", inv)
	}
	siptest.HearEachOther(t, phone, call, agent)
	if err := call.Hangup(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !agent.WaitBye(5 * time.Second) {
		t.Error("the caller hung up but the agent's leg stayed up")
	}
	rec := r.record(t)
	if rec.Outcome != line.OutcomeAnswered || rec.Agent != "klara" {
		t.Errorf("record: %+v", rec)
	}
	agentTraces := []string{agentNumber, "1740605", strconv.Itoa(int(agent.Media.Addr().Port())), agent.Addr, "siptest agent"}
	for _, m := range phone.Received() {
		for _, s := range agentTraces {
			if strings.Contains(m, s) {
				t.Errorf("the caller got %q from the agent's leg in:\n%s", s, m)
			}
		}
	}
	if p, _ := r.lines.AgentPresence("klara"); p.Activity != line.Available {
		t.Errorf("klara after the call: %+v", p)
	}
}

// connected is a caller speaking callerPT put through to an agent's phone
// speaking agentPT, both talking.
func connected(t *testing.T, r *rig, callerPT, agentPT uint8) (*siptest.Phone, *siptest.Call, *siptest.Agent) {
	t.Helper()
	agent := siptest.NewAgent(t, agentPT, siptest.AgentOptions{})
	r.onDuty(t, agent.URI)
	phone, call := callLine(t, r, callerPT)
	siptest.HearEachOther(t, phone, call, agent)
	return phone, call, agent
}

func TestAgentHangingUpEndsTheCaller(t *testing.T) {
	r := startRig(t, tuesday)
	phone, _, agent := connected(t, r, media.PCMA, media.PCMU)
	if err := agent.Hangup(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !phone.WaitBye(5 * time.Second) {
		t.Error("the agent hung up but the caller's leg stayed up")
	}
	if rec := r.record(t); rec.Outcome != line.OutcomeAnswered {
		t.Errorf("record: %+v", rec)
	}
}

func TestCallerCancelWhileTheAgentRings(t *testing.T) {
	r := startRig(t, tuesday)
	agent := siptest.NewAgent(t, media.PCMU, siptest.AgentOptions{RingFor: time.Minute})
	r.onDuty(t, agent.URI)
	phone := siptest.NewPhone(t, callerNumber, media.PCMU)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan *siptest.Call, 1)
	go func() { c, _ := phone.Call(ctx, "peer", r.addr); done <- c }()
	if agent.WaitInvite(5*time.Second) == nil {
		t.Fatal("the agent's phone did not ring")
	}
	time.Sleep(300 * time.Millisecond) // the caller hears ringback
	if !phone.Media.Hears(425, 1600) {
		t.Error("no ringback (425 Hz) while the agent's phone rang")
	}
	cancel() // the caller gives up: CANCEL
	if !agent.WaitCancel(5 * time.Second) {
		t.Error("the agent's phone went on ringing after the caller gave up")
	}
	<-done
	if rec := r.record(t); rec.Outcome != line.OutcomeAbandonedQueue {
		t.Errorf("record: %+v", rec)
	}
}

func TestSilencePastTheRTPTimeoutEndsBothLegs(t *testing.T) {
	r := startRigWith(t, tuesday, func(cfg *config.Config) { cfg.SIP.RTPTimeout = config.Duration(500 * time.Millisecond) })
	agent := siptest.NewAgent(t, media.PCMU, siptest.AgentOptions{})
	r.onDuty(t, agent.URI)
	phone, _ := callLine(t, r, media.PCMU)
	// Only the agent's phone sends: the caller's side falls silent.
	go agent.Media.Send(agent.Remote(), 2000, 100)
	if !phone.WaitBye(5*time.Second) || !agent.WaitBye(5*time.Second) {
		t.Error("a silent caller did not end both legs")
	}
}

func TestAgentThroughATrunkThatChallenges(t *testing.T) {
	for _, www := range []bool{false, true} {
		// The trunk, with the agent's phone behind it: 407, or 401 with www.
		trunk := siptest.NewAgent(t, media.PCMU, siptest.AgentOptions{User: "peerline", Password: "s3cret", WWW: www})
		r := startRigWith(t, tuesday, func(cfg *config.Config) {
			cfg.SIP.Trunk.Proxy = "sip:" + trunk.Addr
			cfg.SIP.Trunk.Username, cfg.SIP.Trunk.Password = "peerline", "s3cret"
		})
		r.onDuty(t, "")
		phone, call := callLine(t, r, media.PCMU)
		inv := trunk.WaitInvite(time.Second)
		if inv == nil || inv.Recipient.User != agentNumber {
			t.Fatalf("401 %v: the trunk got %v", www, inv)
		}
		siptest.HearEachOther(t, phone, call, trunk)
		call.Hangup(context.Background())
		if !trunk.WaitBye(5 * time.Second) {
			t.Errorf("401 %v: the agent's leg through the trunk was not hung up", www)
		}
	}
}

func TestStoppingHangsUpBridgedCalls(t *testing.T) {
	r := startRig(t, tuesday)
	phone, _, agent := connected(t, r, media.PCMU, media.PCMU)
	stopped := make(chan struct{})
	go func() { r.stop(); close(stopped) }()
	if !phone.WaitBye(5*time.Second) || !agent.WaitBye(5*time.Second) {
		t.Error("stopping peerline left a leg of a bridged call up")
	}
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not stop")
	}
	if rec := r.record(t); rec.Outcome != line.OutcomeAnswered {
		t.Errorf("record: %+v", rec)
	}
}

func TestRingAllCancelsTheOtherPhones(t *testing.T) {
	r := startRigWith(t, tuesday, func(cfg *config.Config) { cfg.Lines[0].Calls.Strategy = "ring-all" })
	quick := siptest.NewAgent(t, media.PCMU, siptest.AgentOptions{RingFor: 200 * time.Millisecond})
	slow := siptest.NewAgent(t, media.PCMU, siptest.AgentOptions{RingFor: time.Minute})
	r.onDutyAs(t, "klara", agentNumber, quick.URI)
	r.onDutyAs(t, "jim", "+46701740606", slow.URI)
	phone, call := callLine(t, r, media.PCMU)
	if !slow.WaitCancel(5 * time.Second) {
		t.Error("the other agent's phone rang on after the first answered")
	}
	siptest.HearEachOther(t, phone, call, quick)
	call.Hangup(context.Background())
	if rec := r.record(t); rec.Agent != "klara" || rec.Outcome != line.OutcomeAnswered {
		t.Errorf("record: %+v", rec)
	}
}

func TestAnAgentWhoRefusesIsAMissAndTheCallerIsTold(t *testing.T) {
	r := startRig(t, tuesday) // max_missed: 3
	agent := siptest.NewAgent(t, media.PCMU, siptest.AgentOptions{Refuse: 486})
	r.onDuty(t, agent.URI)
	phone, _ := callLine(t, r, media.PCMU) // answered: on hold after the first refusal
	// Each refusal is a miss; between them the caller holds for 5 s of the
	// line's clock. The third logs klara out and the caller is told.
	for i := 0; !phone.WaitBye(50 * time.Millisecond); i++ {
		if i == 200 {
			t.Fatal("the caller was not hung up on after the announcement")
		}
		r.clock.Advance(time.Second)
	}
	if rec := r.record(t); rec.Outcome != line.OutcomeAgentNoAnswer {
		t.Errorf("record: %+v", rec)
	}
	if _, ok := r.lines.AgentPresence("klara"); ok {
		t.Error("three 486s in a row and klara is still logged in")
	}
}

// waitFor polls cond (bounded) and fails with msg if it never holds.
func waitFor(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	for range 250 {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal(msg)
}
