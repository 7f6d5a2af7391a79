package line_test

import (
	"context"

	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/line/linetest"
)

// referralLines is quickLines with a referral of each kind.
func referralLines() []config.Line {
	ls := quickLines()
	ls[0].Referrals = []config.Referral{
		{Key: "*1", Name: "Självmordslinjen", Number: "90101"},
		{Key: "*2", Name: "1177", Number: "1177", Mode: config.ReferBlind},
		{Key: "*3", Name: "112", Mode: config.ReferTell, Prompt: "referral-112"},
		{Key: "*4", Name: "Jourhavande medmänniska", Number: "08-702 16 80", Mode: config.ReferTell},
	}
	return ls
}

// serviceRing is the referral's service being rung: the test answers it.
type serviceRing struct {
	target line.Target
	opts   line.DialOptions
	reply  chan dialReply
}

type dialReply struct {
	leg *linetest.Call
	err error
}

// answer makes the service pick up; its leg is returned.
func (s serviceRing) answer() *linetest.Call {
	leg := linetest.NewCall("service", "")
	s.reply <- dialReply{leg: leg}
	return leg
}

func (s serviceRing) fail(err error) { s.reply <- dialReply{err: err} }

// referralRig is a call put through to klara, with the service's ringing
// handed to the test.
type referralRig struct {
	t       *testing.T
	w       *world
	caller  *linetest.Call
	agent   *linetest.Call
	service chan serviceRing
	errc    chan error
}

func newReferralRig(t *testing.T, cfg []config.Line, change func(c *linetest.Call)) *referralRig {
	r := &referralRig{t: t, w: newWorld(t, "2026-05-19 13:00:00", cfg), service: make(chan serviceRing, 2)}
	r.w.lines.Login(office, "klara", "")
	agents := make(chan *linetest.Call, 1)
	dial := func(ctx context.Context, tg line.Target, o line.DialOptions) (*linetest.Call, error) {
		if !strings.HasPrefix(tg.Agent, "referral:") {
			leg := linetest.NewCall("agent", "")
			agents <- leg
			return leg, nil
		}
		s := serviceRing{target: tg, opts: o, reply: make(chan dialReply, 1)}
		r.service <- s
		select {
		case d := <-s.reply:
			if d.err != nil {
				return nil, d.err
			}
			return d.leg, nil
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
	r.caller = linetest.NewCall("c1", callerNumber)
	r.caller.Answerer = dial
	if change != nil {
		change(r.caller)
	}
	r.errc = make(chan error, 1)
	go func() { r.errc <- r.w.lines.Handle(context.Background(), "peer", r.caller) }()
	r.agent = waitFor(t, agents)
	waitBridged(t, r.caller)
	return r
}

// end waits for the call to end and returns its record.
func (r *referralRig) end() line.Record {
	r.t.Helper()
	if err := waitFor(r.t, r.errc); err != nil {
		r.t.Fatal(err)
	}
	return lastRecord(r.t, r.w)
}

// agentFree waits until klara's part of the call is over.
func (r *referralRig) agentFree() {
	r.t.Helper()
	waitUntil(r.t, "klara free", func() bool { p, _ := r.w.lines.AgentPresence("klara"); return p.Activity == line.Available })
}

// waitUntil polls cond (bounded).
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 5000 {
		if cond() {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("never: %s", what)
}

func lastJoin(c *linetest.Call) string {
	j := c.Joins()
	if len(j) == 0 {
		return ""
	}
	return strings.Join(j[len(j)-1], "+")
}

// TestWarmReferral: the caller hears where they go and to stay on the line,
// the agent hears it ring, the three talk, the agent leaves with # and the
// caller stays with the service until they hang up.
func TestWarmReferral(t *testing.T) {
	r := newReferralRig(t, referralLines(), nil)
	r.agent.Press("*1")
	ring := waitFor(t, r.service)
	if ring.target.Phone != "90101" || ring.opts.CallerID != config.Default().Lines[0].ShownNumber() || ring.opts.CallerID == callerNumber {
		t.Errorf("the service was dialled as %+v with %+v", ring.target, ring.opts)
	}
	waitUntil(t, "the caller is told", func() bool { return len(r.caller.Whispered()) > 0 })
	if got := strings.Join(r.caller.Whispered(), " "); got != "referral-connecting number-9 number-0 number-1 number-0 number-1 referral-stay" {
		t.Errorf("the caller heard %s", got)
	}
	if !slices.Contains(r.agent.Whispered(), "referral-ringing") {
		t.Errorf("the agent heard %v", r.agent.Whispered())
	}
	r.agent.Press("*1") // again, while it rings
	waitUntil(t, "the agent is told one rings", func() bool { return slices.Contains(r.agent.Whispered(), "referral-busy") })
	service := ring.answer()
	waitUntil(t, "the three-way part", func() bool { return r.caller.Conferences() == 1 })
	if lastJoin(r.caller) != "c1+agent+service" {
		t.Errorf("the conference: %s", lastJoin(r.caller))
	}
	r.agent.Press("#")
	waitUntil(t, "the caller alone with the service", func() bool { return lastJoin(r.caller) == "c1+service" })
	waitUntil(t, "the agent's leg hung up", func() bool { _, _, h := r.agent.Result(); return h })
	if _, _, hungUp := r.caller.Result(); hungUp {
		t.Error("the caller was hung up when the agent left")
	}
	if p, _ := r.w.lines.AgentPresence("klara"); p.Activity != line.Available {
		t.Errorf("klara after leaving: %s", p.Activity)
	}
	r.caller.CallerHangsUp()
	rec := r.end()
	if rec.Ended != line.EndedReferred || rec.Referral == nil || !rec.Referral.Answered || rec.Referral.Mode != "warm" ||
		rec.Referral.Name != "Självmordslinjen" || rec.Referral.Key != "*1" {
		t.Errorf("record: %+v %+v", rec, rec.Referral)
	}
	if _, _, hungUp := service.Result(); !hungUp {
		t.Error("the service's leg was left up")
	}
}

// TestWarmReferralNobodyAnswers: the agent hears it and the call goes on; so
// for a busy service and a number the trunk refuses.
func TestWarmReferralNobodyAnswers(t *testing.T) {
	for _, err := range []error{line.ErrBusy, fmt.Errorf("%w: 404", line.ErrUnreachable), fmt.Errorf("%w: 403", line.ErrUnreachable)} {
		r := newReferralRig(t, referralLines(), nil)
		r.agent.Press("*1")
		waitFor(t, r.service).fail(err)
		waitUntil(t, "the agent is told", func() bool { return slices.Contains(r.agent.Whispered(), "referral-no-answer") })
		if lastJoin(r.caller) != "c1+agent" || r.caller.Conferences() != 0 {
			t.Errorf("%v: the call did not go on: %s", err, lastJoin(r.caller))
		}
		r.caller.CallerHangsUp()
		if rec := r.end(); rec.Ended != line.EndedCaller || rec.Referral == nil || rec.Referral.Answered {
			t.Errorf("%v: record %+v %+v", err, rec, rec.Referral)
		}
	}
}

// TestRingTimeoutOfAReferral: the line's ring timeout ends the service's
// ringing too.
func TestRingTimeoutOfAReferral(t *testing.T) {
	r := newReferralRig(t, referralLines(), nil)
	r.agent.Press("*1")
	waitFor(t, r.service)
	ring := time.Duration(referralLines()[0].Calls.RingTimeout)
	r.w.clock.WaitArmed(t, r.w.clock.Now().Add(ring)) // the ring timeout
	r.w.clock.Advance(ring)
	waitUntil(t, "the agent is told", func() bool { return slices.Contains(r.agent.Whispered(), "referral-no-answer") })
	r.caller.CallerHangsUp()
	r.end()
}

// TestAgentHangsUpWhileTheServiceRings: the caller stays, hears ringback, and
// is connected when the service answers; or hears that nobody did and the
// number, and the call ends.
func TestAgentHangsUpWhileTheServiceRings(t *testing.T) {
	r := newReferralRig(t, referralLines(), nil)
	r.agent.Press("*1")
	ring := waitFor(t, r.service)
	r.agent.CallerHangsUp()
	r.agentFree()
	ring.answer()
	waitUntil(t, "the caller with the service", func() bool { return lastJoin(r.caller) == "c1+service" })
	r.caller.CallerHangsUp()
	if rec := r.end(); rec.Ended != line.EndedAgent || !rec.Referral.Answered {
		t.Errorf("record: %+v %+v", rec, rec.Referral)
	}

	r = newReferralRig(t, referralLines(), nil)
	r.agent.Press("*1")
	ring = waitFor(t, r.service)
	r.agent.CallerHangsUp()
	r.agentFree()
	ring.fail(line.ErrNoAnswer)
	rec := r.end()
	_, played, hungUp := r.caller.Result()
	if want := "referral-failed referral-tell number-9 number-0 number-1 number-0 number-1 referral-again"; !strings.Contains(strings.Join(played, " "), want) || !hungUp {
		t.Errorf("the caller heard %v (hung up %v)", played, hungUp)
	}
	if rec.Referral.Answered {
		t.Errorf("record: %+v", rec.Referral)
	}
}

// TestCallerHangsUpWhileTheServiceRings: the ringing stops; nothing is left up.
func TestCallerHangsUpWhileTheServiceRings(t *testing.T) {
	r := newReferralRig(t, referralLines(), nil)
	r.agent.Press("*1")
	waitFor(t, r.service)
	r.caller.CallerHangsUp()
	if rec := r.end(); rec.Ended != line.EndedCaller || rec.Referral.Answered {
		t.Errorf("record: %+v %+v", rec, rec.Referral)
	}
}

// TestBlindReferral: the agent goes straight to the form; the caller hears the
// prompt and is connected.
func TestBlindReferral(t *testing.T) {
	r := newReferralRig(t, referralLines(), nil)
	r.agent.Press("*2")
	ring := waitFor(t, r.service)
	waitUntil(t, "the agent's leg hung up", func() bool { _, _, h := r.agent.Result(); return h })
	ring.answer()
	waitUntil(t, "the caller with the service", func() bool { return lastJoin(r.caller) == "c1+service" })
	_, played, _ := r.caller.Result()
	if !strings.Contains(strings.Join(played, " "), "referral-connecting number-1 number-1 number-7 number-7 referral-stay") {
		t.Errorf("the caller heard %v", played)
	}
	r.caller.CallerHangsUp()
	if rec := r.end(); rec.Ended != line.EndedReferred || rec.Referral.Mode != "blind" || !rec.Referral.Answered {
		t.Errorf("record: %+v %+v", rec, rec.Referral)
	}
}

// TestTellReferral: the caller hears the prompt (112 is never dialled) or the
// number twice; the call goes on.
func TestTellReferral(t *testing.T) {
	r := newReferralRig(t, referralLines(), nil)
	r.agent.Press("*3")
	waitUntil(t, "the caller is told", func() bool { return slices.Contains(r.caller.Whispered(), "referral-112") })
	r.agent.Press("*4")
	want := "referral-tell number-0 number-8 number-7 number-0 number-2 number-1 number-6 number-8 number-0 referral-again"
	waitUntil(t, "the number", func() bool { return strings.Contains(strings.Join(r.caller.Whispered(), " "), want) })
	select {
	case s := <-r.service:
		t.Errorf("a tell referral dialled %+v", s.target)
	default:
	}
	r.caller.CallerHangsUp()
	if rec := r.end(); rec.Ended != line.EndedCaller || rec.Referral.Mode != "tell" || rec.Referral.Name != "Jourhavande medmänniska" {
		t.Errorf("record: %+v %+v", rec, rec.Referral)
	}
}

// TestWarmReferralWithoutAConference: a PBX that cannot hold three gets a
// blind hand-over once the service answers.
func TestWarmReferralWithoutAConference(t *testing.T) {
	r := newReferralRig(t, referralLines(), func(c *linetest.Call) { c.NoConference = true })
	r.agent.Press("*1")
	waitFor(t, r.service).answer()
	waitUntil(t, "the caller with the service", func() bool { return lastJoin(r.caller) == "c1+service" })
	waitUntil(t, "the agent's leg hung up", func() bool { _, _, h := r.agent.Result(); return h })
	r.caller.CallerHangsUp()
	if rec := r.end(); rec.Ended != line.EndedReferred || !rec.Referral.Answered {
		t.Errorf("record: %+v %+v", rec, rec.Referral)
	}
}

// TestTheServiceLeavesTheThreeWayPart: the caller and the agent go on.
func TestTheServiceLeavesTheThreeWayPart(t *testing.T) {
	r := newReferralRig(t, referralLines(), nil)
	r.agent.Press("*1")
	service := waitFor(t, r.service).answer()
	waitUntil(t, "the three-way part", func() bool { return r.caller.Conferences() == 1 })
	service.CallerHangsUp()
	waitUntil(t, "caller and agent again", func() bool { return lastJoin(r.caller) == "c1+agent" })
	waitUntil(t, "the agent is told", func() bool { return slices.Contains(r.agent.Whispered(), "referral-ended") })
	r.agent.Press("*1") // a second referral may follow
	waitFor(t, r.service).fail(line.ErrBusy)
	r.caller.CallerHangsUp()
	r.end()
}

// TestTheLimitDuringTheThreeWayPart: the agent's time is up, the caller stays.
func TestTheLimitDuringTheThreeWayPart(t *testing.T) {
	cfg := referralLines()
	cfg[0].Calls.HardStop = true
	r := newReferralRig(t, cfg, nil)
	r.agent.Press("*1")
	waitFor(t, r.service).answer()
	waitUntil(t, "the three-way part", func() bool { return r.caller.Conferences() == 1 })
	limit := time.Duration(cfg[0].Calls.Limit)
	r.w.clock.Advance(limit)
	waitUntil(t, "the caller alone with the service", func() bool { return lastJoin(r.caller) == "c1+service" })
	r.caller.CallerHangsUp()
	if rec := r.end(); rec.Ended != line.EndedReferred || !rec.LimitHit {
		t.Errorf("record: %+v", rec)
	}
}

// TestTheFormKnowsOfTheReferral: "Hänvisad vidare" is answered by itself and
// not asked.
func TestTheFormKnowsOfTheReferral(t *testing.T) {
	cfg := referralLines()
	cfg[0].Wrapup.Questions = config.Default().Lines[0].Wrapup.Questions
	r := newReferralRig(t, cfg, nil)
	r.agent.Press("*3")
	waitUntil(t, "the caller is told", func() bool { return len(r.caller.Whispered()) > 0 })
	r.agent.Press("**")
	r.agent.Press("1")
	r.agent.Press("2")
	rec := r.end()
	if rec.Wrapup == nil || rec.Wrapup.Answers["referred"] != "ja" || rec.Wrapup.Answers["call_type"] != "stod" ||
		rec.Wrapup.Answers["office_contact"] != "nej" || !rec.Wrapup.Filled {
		t.Errorf("form: %+v", rec.Wrapup)
	}
	if _, played, _ := r.agent.Result(); slices.Contains(played, "wrapup-referred") {
		t.Errorf("the agent was asked about the referral: %v", played)
	}
}

// TestReferralWhileTheLineCloses: closing time does not cut a call in
// progress, nor its referral: the service still answers and takes the caller.
func TestReferralWhileTheLineCloses(t *testing.T) {
	r := newReferralRig(t, referralLines(), nil)
	r.agent.Press("*1")
	ring := waitFor(t, r.service)
	if _, err := r.w.lines.SetOverride(office, "peer", "closed", "Personalmöte", time.Time{}); err != nil {
		t.Fatal(err)
	}
	ring.answer()
	waitUntil(t, "the three-way part", func() bool { return r.caller.Conferences() == 1 })
	r.agent.Press("#")
	waitUntil(t, "the caller alone with the service", func() bool { return lastJoin(r.caller) == "c1+service" })
	r.caller.CallerHangsUp()
	if rec := r.end(); rec.Ended != line.EndedReferred || !rec.Referral.Answered {
		t.Errorf("record: %+v %+v", rec, rec.Referral)
	}
	if _, ok := r.w.lines.AgentPresence("klara"); ok {
		t.Error("klara is still logged in to the closed line after her call")
	}
}

// TestShowCaller: only a referral that says so shows the caller's number.
func TestShowCaller(t *testing.T) {
	cfg := referralLines()
	cfg[0].Referrals[0].ShowCaller = true
	r := newReferralRig(t, cfg, nil)
	r.agent.Press("*1")
	ring := waitFor(t, r.service)
	if ring.opts.CallerID != callerNumber {
		t.Errorf("show_caller: the service sees %q", ring.opts.CallerID)
	}
	ring.fail(line.ErrBusy)
	r.caller.CallerHangsUp()
	r.end()
}

// TestTheLinesOwnReferralPrompt: a recording by the referral's conventional
// name (generated with the service's name) is played instead of the number.
func TestTheLinesOwnReferralPrompt(t *testing.T) {
	r := newReferralRig(t, referralLines(), nil)
	r.w.lines.SetOwnPrompts(func(line, name string) bool { return name == "referral-star1" || name == "referral-star4" })
	r.agent.Press("*1")
	ring := waitFor(t, r.service)
	waitUntil(t, "the caller is told", func() bool { return len(r.caller.Whispered()) > 0 })
	ring.fail(line.ErrBusy)
	waitUntil(t, "the agent is told", func() bool { return slices.Contains(r.agent.Whispered(), "referral-no-answer") })
	r.agent.Press("*4")
	waitUntil(t, "the number told", func() bool { return len(r.caller.Whispered()) > 1 })
	if got := strings.Join(r.caller.Whispered(), " "); got != "referral-star1 referral-star4" {
		t.Errorf("the caller heard %s", got)
	}
	r.caller.CallerHangsUp()
	r.end()
}
