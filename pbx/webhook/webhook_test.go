package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/audit"
	"github.com/peerline/peerline/internal/clock"
	"github.com/peerline/peerline/internal/clock/clocktest"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/line/hours"
	"github.com/peerline/peerline/line/linetest"
	"github.com/peerline/peerline/pbx/prompts"
	"github.com/peerline/peerline/pbx/webhook"
	"github.com/peerline/peerline/pbx/webhook/pbxsim"
	"github.com/peerline/peerline/roster"
	"github.com/rs/zerolog"
)

const (
	secret      = "elks-hemlighet-0123456789"
	agentNumber = "+46701112233"
	callerNum   = "+46709876543"
	lineNumber  = "+46812345678"
	agentPIN    = "482915"
)

// tuesday is an open moment: Tuesday 24 November 2026, 13:00 in Stockholm.
var (
	tuesday  = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	saturday = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	office   = audit.WithActor(context.Background(), audit.Actor{Kind: "test", Name: "test"})
)

type rig struct {
	sim    *pbxsim.Sim
	clock  *clocktest.Fake
	lines  *line.Lines
	roster *roster.Store
	url    string
}

var ids atomic.Int64

func callID() string { return fmt.Sprintf("elks-%d", ids.Add(1)) }

// startRig runs peerline's lines behind the webhook server on a real HTTP
// server, with the real bbolt file and a fake clock, and a PBX simulator.
func startRig(t testing.TB, now time.Time) *rig { return startRigWith(t, now, nil) }

// startRigWith is startRig with changes to the config.
func startRigWith(t testing.TB, now time.Time, change func(*config.Config)) *rig {
	t.Helper()
	cfg := config.Default()
	cfg.Lines[0].Numbers = []string{lineNumber}
	cfg.Lines[0].Wrapup.Cooldown = 0
	cfg.PBX.Webhooks = []config.PBXWebhook{{Name: "elks", Auth: "hmac", Secret: secret}, {Name: "bearerpbx", Auth: "bearer", Secret: "bärare-token-0123456789"}}
	if change != nil {
		change(cfg)
	}
	if es := config.Validate(cfg); len(es) > 0 {
		t.Fatal(es)
	}
	lines, agents, clk := linetest.Lines(t, cfg, cfg.Lines, now)
	sim := serve(t, cfg, lines, clk)
	return &rig{sim: sim, clock: clk, lines: lines, roster: agents, url: sim.URL}
}

// serve runs the webhook server for cfg on a real HTTP server, its calls going
// to h, and returns a PBX simulator for it.
func serve(t testing.TB, cfg *config.Config, h webhook.Handler, clk clock.Clock) *pbxsim.Sim {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sounds, err := prompts.LoadLines(cfg.Lines)
	if err != nil {
		t.Fatal(err)
	}
	srv := webhook.New(ctx, cfg, sounds, h, clk, zerolog.Nop())
	hs := httptest.NewServer(srv)
	srv.SetBase(hs.URL)
	t.Cleanup(func() { cancel(); srv.Wait(); hs.Close() })
	sim := pbxsim.New(hs.URL, "hmac", secret)
	sim.Now = clk.Now
	return sim
}

func (r *rig) onDuty(t *testing.T) {
	t.Helper()
	if _, err := r.roster.AddAgent(office, roster.Agent{ID: "klara", Name: "Klara", Phone: agentNumber, Lines: []string{"peer"}, Active: true}); err != nil {
		t.Fatal(err)
	}
	if err := r.roster.SetPIN(office, "klara", agentPIN); err != nil {
		t.Fatal(err)
	}
}

// ringKlara logs Klara in, places a call and returns it with the leg that
// rings Klara.
func (r *rig) ringKlara(t *testing.T) (caller, agent *pbxsim.Leg) {
	t.Helper()
	r.onDuty(t)
	if _, err := r.lines.Login(office, "klara", "peer"); err != nil {
		t.Fatal(err)
	}
	caller = r.call(t, callerNum)
	select {
	case agent = <-r.sim.Dials:
	case <-time.After(5 * time.Second):
		t.Fatalf("no dialled leg; the caller got %s", names(caller.Actions()))
	}
	return caller, agent
}

func (r *rig) call(t *testing.T, from string) *pbxsim.Leg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	leg, err := r.sim.Call(ctx, callID(), from, lineNumber)
	if err != nil {
		t.Fatal(err)
	}
	return leg
}

// waitFor waits for an action on leg from its from'th on, failing the test without one.
func waitFor(t *testing.T, leg *pbxsim.Leg, from int, what string, match func(webhook.Action) bool) (webhook.Action, int) {
	t.Helper()
	a, i, ok := leg.WaitFor(5*time.Second, from, match)
	if !ok {
		t.Fatalf("%s: no %s; got %s", leg.ID, what, names(leg.Actions()))
	}
	return a, i
}

func names(as []webhook.Action) string {
	var out []string
	for _, a := range as {
		s := a.Action
		for _, p := range a.Prompts {
			s += " " + p[strings.LastIndex(p, "/")+1:]
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}

func (r *rig) records(t *testing.T, n int) []line.Record {
	t.Helper()
	day := config.DateOf(r.clock.Now())
	for range 250 {
		recs, _ := r.lines.Records("peer", day.AddDays(-1), day.AddDays(1))
		if len(recs) >= n {
			return recs
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("fewer than %d call records", n)
	return nil
}

func done(t *testing.T, leg *pbxsim.Leg) {
	t.Helper()
	select {
	case <-leg.Done():
		if err := leg.Err(); err != nil {
			t.Errorf("%s ended with %v", leg.ID, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s did not end; got %s", leg.ID, names(leg.Actions()))
	}
}

// A closed line plays its prompt and hangs up; the prompt's URL gives a WAV.
func TestClosedLinePlaysAndHangsUp(t *testing.T) {
	r := startRig(t, saturday)
	leg := r.call(t, callerNum)
	done(t, leg)
	// The hours said from the config's days and times, piece by piece.
	want := "answer, play closed-thanks.wav, play closed-here.wav, play days-weekdays.wav, play between.wav, " +
		"play number-12.wav, play number-45.wav, play and.wav, play number-16.wav, play closed-welcome.wav, hangup"
	if got := names(leg.Actions()); got != want {
		t.Errorf("actions: %s", got)
	}
	res, err := http.Get(leg.Actions()[1].Prompts[0])
	if err != nil || res.StatusCode != 200 || res.Header.Get("Content-Type") != "audio/wav" {
		t.Fatalf("the prompt: %v %+v", err, res)
	}
	res.Body.Close()
	if rec := r.records(t, 1)[0]; rec.Outcome != line.OutcomeClosed || rec.Reason != hours.ReasonWeekend {
		t.Errorf("record: %+v", rec)
	}
}

// In opening hours the caller reaches the logged-in agent: the dial shows the
// line's number and carries the limit; the caller hangs up, the agent answers
// the wrap-up form with keys, and the record holds the answers.
func TestCallerIsConnectedAndWrapUpLands(t *testing.T) {
	r := startRig(t, tuesday)
	caller, agent := r.ringKlara(t)
	dial, _ := waitFor(t, caller, 0, "dial", pbxsim.Is(webhook.ActDial, ""))
	if dial.Target == nil || dial.Target.Phone != agentNumber || dial.CallerID != lineNumber || dial.CallerName != "Peer Support-linjen" ||
		dial.TimeLimit != 1200 || fmt.Sprint(dial.Warnings) != "[180 60]" || dial.RingTimeout != 20 {
		t.Errorf("dial: %+v %+v", dial, dial.Target)
	}
	ctx := context.Background()
	if err := agent.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	_, i := waitFor(t, caller, 0, "answer", pbxsim.Is(webhook.ActAnswer, ""))
	bridge, _ := waitFor(t, caller, i, "bridge", pbxsim.Is(webhook.ActBridge, ""))
	if bridge.Leg != agent.ID {
		t.Errorf("bridged with %s, want %s", bridge.Leg, agent.ID)
	}
	for _, a := range append(caller.Actions(), agent.Actions()...) {
		if strings.Contains(fmt.Sprint(a), agentNumber) && a.Action != webhook.ActDial {
			t.Errorf("the agent's number reaches the caller's side: %+v", a)
		}
	}
	if err := caller.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, agent, 0, "the first wrap-up question", pbxsim.Is(webhook.ActPlay, "wrapup-call-type"))
	if err := agent.Press(ctx, "3"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, agent, 0, "the second question", pbxsim.Is(webhook.ActPlay, "wrapup-referred"))
	agent.Press(ctx, "1")
	waitFor(t, agent, 0, "the third question", pbxsim.Is(webhook.ActPlay, "wrapup-office-contact"))
	agent.Press(ctx, "2")
	done(t, agent)
	rec := r.records(t, 1)[0]
	if rec.Outcome != line.OutcomeAnswered || rec.Agent != "klara" || rec.Ended != line.EndedCaller || rec.Wrapup == nil || !rec.Wrapup.Filled ||
		fmt.Sprint(rec.Wrapup.Answers) != "map[call_type:kris office_contact:nej referred:ja]" {
		t.Errorf("record: %+v %+v", rec, rec.Wrapup)
	}
	st, err := r.lines.Stats("peer", config.DateOf(tuesday), config.DateOf(tuesday), "day")
	if err != nil || st.Total.Calls != 1 || st.Total.Answered != 1 || st.Total.Wrapup["referred"]["ja"] != 1 {
		t.Errorf("statistics: %+v %v", st.Total, err)
	}
}

// The limit runs on peerline's clock: the agent hears the warnings, both hear
// the closing phrase at 20 minutes, and the caller is hung up.
func TestTheLimitWarnsAndCuts(t *testing.T) {
	// The clock jumps from one of the limit's timers to the next, each once it
	// is set. pbx.silence is longer than the call: a jump that found the PBX
	// between two requests (fetching a prompt) ended the call as silent.
	r := startRigWith(t, tuesday, func(c *config.Config) { c.PBX.Silence = config.Duration(time.Hour) })
	caller, agent := r.ringKlara(t)
	agent.Answer(context.Background())
	waitFor(t, caller, 0, "bridge", pbxsim.Is(webhook.ActBridge, ""))
	for _, step := range []struct {
		to     time.Duration
		prompt string
	}{{17 * time.Minute, "minutes-left"}, {19 * time.Minute, "one-minute-left"}, {20 * time.Minute, "call-limit"}} {
		due := tuesday.Add(step.to)
		r.clock.WaitArmed(t, due)
		r.clock.Set(due)
		waitFor(t, agent, 0, step.prompt, pbxsim.Is(webhook.ActPlay, step.prompt))
	}
	waitFor(t, caller, 0, "the closing phrase", pbxsim.Is(webhook.ActPlay, "call-limit"))
	done(t, caller)
	for _, a := range caller.Actions() {
		if pbxsim.Is(webhook.ActPlay, "minutes-left")(a) {
			t.Error("the caller heard the agent's warning")
		}
	}
	agent.Press(context.Background(), "###")
	if rec := r.records(t, 1)[0]; !rec.LimitHit || rec.Ended != line.EndedLimit {
		t.Errorf("record: %+v", rec)
	}
}

// The PBX's call_id is only a key of the protocol: the record and the log get
// peerline's own id, even when the PBX puts the caller's number in its call_id.
func TestRecordsGetPeerlinesOwnID(t *testing.T) {
	r := startRig(t, saturday)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	leg, err := r.sim.Call(ctx, "46701234567-20261126", callerNum, lineNumber)
	if err != nil {
		t.Fatal(err)
	}
	done(t, leg)
	rec := r.records(t, 1)[0]
	if rec.ID == "" || strings.Contains(rec.ID, "4670") || strings.Contains(rec.ID, "1234567") {
		t.Errorf("the record's id is %q", rec.ID)
	}
}

// A call whose PBX falls silent is ended at pbx.silence and recorded.
func TestSilentPBXEndsTheCall(t *testing.T) {
	r := startRig(t, tuesday)
	ctx := context.Background()
	// A raw call: the first action is taken and nothing more is ever posted.
	code, body, err := r.sim.Post(ctx, "calls", webhook.NewCall{CallID: "tyst-1", From: callerNum, To: lineNumber})
	if err != nil || code != 200 {
		t.Fatalf("new call: %d %s %v", code, body, err)
	}
	r.clock.Advance(61 * time.Second)
	if rec := r.records(t, 1)[0]; rec.Outcome == line.OutcomeAnswered {
		t.Errorf("record of the silent call: %+v", rec)
	}
	code, body, _ = r.sim.Post(ctx, "calls/tyst-1/results", webhook.Result{Seq: 1, Result: "done"})
	if code != http.StatusGone || !strings.Contains(string(body), "call_ended") {
		t.Errorf("a result after the call ended: %d %s", code, body)
	}
}

// Bad requests get clear errors and change nothing of the call.
func TestBadRequests(t *testing.T) {
	r := startRig(t, saturday)
	ctx := context.Background()
	// The closed line's call: answer (seq 1) comes first.
	code, body, _ := r.sim.Post(ctx, "calls", webhook.NewCall{CallID: "c1", From: callerNum, To: lineNumber})
	if code != 200 || !strings.Contains(string(body), `"action":"answer"`) {
		t.Fatalf("new call: %d %s", code, body)
	}
	wrong := pbxsim.New(r.url, "hmac", "fel-hemlighet-0123456789")
	wrong.Now = r.clock.Now
	stale := pbxsim.New(r.url, "hmac", secret)
	stale.Now = func() time.Time { return r.clock.Now().Add(-10 * time.Minute) }
	bearer := pbxsim.New(r.url, "bearer", "bärare-token-0123456789")
	badBearer := pbxsim.New(r.url, "bearer", "nej")
	for _, tc := range []struct {
		sim  *pbxsim.Sim
		path string
		body any
		code int
		want string
	}{
		{wrong, "calls/c1/results", webhook.Result{Seq: 1, Result: "done"}, 401, "unauthorized"},
		{stale, "calls/c1/results", webhook.Result{Seq: 1, Result: "done"}, 401, "5 minutes"},
		{badBearer, "calls/c1/results", webhook.Result{Seq: 1, Result: "done"}, 401, "unauthorized"},
		{bearer, "calls/c1/results", webhook.Result{Seq: 1, Result: "done"}, 404, "unknown_call"}, // another PBX's call
		{r.sim, "calls/nope/results", webhook.Result{Seq: 1, Result: "done"}, 404, "unknown_call"},
		{r.sim, "calls/c1/results", []byte(`{"seq":"one","result":"done"}`), 400, `"field":"seq"`},
		{r.sim, "calls/c1/results", []byte(`{"seq":1,"result":"done","colour":"blå"}`), 400, `"field":"colour"`},
		{r.sim, "calls/c1/results", []byte(`{"seq":1,`), 400, `"field":"body"`},
		{r.sim, "calls/c1/results", webhook.Result{Seq: 1, Result: "klart"}, 400, `"field":"result"`},
		{r.sim, "calls/c1/results", webhook.Result{Seq: 5, Result: "done"}, 409, "out_of_order"},
		{r.sim, "calls/c1/events", webhook.Event{Event: "dtmf", Digit: "x"}, 400, `"field":"digit"`},
		{r.sim, "calls", webhook.NewCall{CallID: "c1", From: callerNum, To: lineNumber}, 409, "call_exists"},
		{r.sim, "calls", webhook.NewCall{CallID: "c2", From: callerNum, To: "+4690000"}, 404, "unknown_number"},
		{r.sim, "calls", webhook.NewCall{CallID: "c 3", To: lineNumber}, 400, `"field":"call_id"`},
	} {
		code, body, err := tc.sim.Post(ctx, tc.path, tc.body)
		if err != nil || code != tc.code || !strings.Contains(string(body), tc.want) {
			t.Errorf("%s %v: %d %s, want %d %s", tc.path, tc.body, code, body, tc.code, tc.want)
		}
	}
	// The call goes on as if none of that was sent; a result posted twice gets
	// the same answer.
	first, b1, _ := r.sim.Post(ctx, "calls/c1/results", webhook.Result{Seq: 1, Result: "done"})
	again, b2, _ := r.sim.Post(ctx, "calls/c1/results", webhook.Result{Seq: 1, Result: "done"})
	if first != 200 || again != 200 || string(b1) != string(b2) || !strings.Contains(string(b1), "closed-thanks") {
		t.Errorf("a duplicate result: %d %s / %d %s", first, b1, again, b2)
	}
	if code, body, _ := r.sim.Post(ctx, "calls/c1/results", webhook.Result{Seq: 1, Result: "failed"}); code != 409 || !strings.Contains(string(body), "conflicting_result") {
		t.Errorf("another result for seq 1: %d %s", code, body)
	}
	// A byte-for-byte replay of a signed request is refused.
	raw := []byte(`{"seq":2,"result":"done"}`)
	req, _ := http.NewRequest("POST", r.url+webhook.Prefix+"calls/c1/results", strings.NewReader(string(raw)))
	req.Header.Set(webhook.SignatureHeader, webhook.Sign(secret, r.clock.Now(), "replay-me-0001", raw))
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("the play's result: %v %+v", err, res)
	}
	res.Body.Close()
	req2, _ := http.NewRequest("POST", r.url+webhook.Prefix+"calls/c1/results", strings.NewReader(string(raw)))
	req2.Header = req.Header.Clone()
	if res, err := http.DefaultClient.Do(req2); err != nil || res.StatusCode != http.StatusConflict {
		t.Errorf("a replay: %v %+v", err, res)
	}
	for seq := 3; seq < 20; seq++ { // the rest of the announcement, to the hangup
		code, body, _ := r.sim.Post(ctx, "calls/c1/results", webhook.Result{Seq: seq, Result: "done"})
		if code != 200 || strings.Contains(string(body), "hangup") {
			break
		}
	}
	if rec := r.records(t, 1)[0]; rec.Outcome != line.OutcomeClosed {
		t.Errorf("record: %+v", rec)
	}
}

// BenchmarkClosedLineCall is a whole call over HTTP: new call, answer, the
// prompt fetched and played, hangup, and the record written.
func BenchmarkClosedLineCall(b *testing.B) {
	r := startRig(b, saturday)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		leg, err := r.sim.Call(ctx, callID(), callerNum, lineNumber)
		if err != nil {
			b.Fatal(err)
		}
		<-leg.Done()
	}
}

// A dialled leg the PBX hangs up while it rings ends the dial: the caller waits
// on hold for the next round instead of hearing ringback for ever.
func TestDialledLegHungUpWhileRinging(t *testing.T) {
	r := startRig(t, tuesday)
	caller, agent := r.ringKlara(t)
	waitFor(t, caller, 0, "ringback", pbxsim.Is(webhook.ActRingback, ""))
	if err := agent.Hangup(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, caller, 0, "hold", pbxsim.Is(webhook.ActHold, ""))
	caller.Hangup(context.Background())
}
