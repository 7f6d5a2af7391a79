package elks_test

import (
	"context"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/audit"
	"github.com/peerline/peerline/internal/clock/clocktest"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/line/linetest"
	"github.com/peerline/peerline/pbx/elks"
	"github.com/peerline/peerline/pbx/elks/elkstest"
	"github.com/peerline/peerline/pbx/prompts"
	"github.com/peerline/peerline/roster"
	"github.com/rs/zerolog"
)

const (
	secret      = "elks-hemlighet-0123456789abcdef"
	agentNumber = "+46701112233"
	callerNum   = "+46709876543"
	lineNumber  = "+46812345678"
	agentPIN    = "482915"
)

var (
	tuesday  = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC) // 13:00 in Stockholm: open
	saturday = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	office   = audit.WithActor(context.Background(), audit.Actor{Kind: "test", Name: "test"})
)

type rig struct {
	sim    *elkstest.Sim
	clock  *clocktest.Fake
	lines  *line.Lines
	roster *roster.Store
	srv    *elks.Server
	url    string
}

// startRig runs the lines behind the 46elks server on a real HTTP server with
// the real bbolt file and a fake clock; elkstest plays 46elks.
func startRig(t *testing.T, now time.Time) *rig {
	return startRigWith(t, now, elks.Guard{Secret: secret})
}

func startRigWith(t *testing.T, now time.Time, guard elks.Guard) *rig {
	t.Helper()
	cfg := config.Default()
	cfg.Lines[0].Numbers = []string{lineNumber}
	cfg.Lines[0].Wrapup.Cooldown = 0
	cfg.PBX.PublicURL = "https://peerline.example"
	cfg.PBX.Elks = &config.PBXElks{Secret: secret}
	if es := config.Validate(cfg); len(es) > 0 {
		t.Fatal(es)
	}
	lines, agents, clk := linetest.Lines(t, cfg, elks.LinesFor(cfg), now)
	sounds, err := prompts.LoadLines(cfg.Lines)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv := elks.New(ctx, cfg, sounds, lines, clk, zerolog.Nop(), elks.Options{Guard: guard, Hold: time.Hour})
	hs := httptest.NewServer(srv.Handler())
	srv.SetBase(hs.URL)
	t.Cleanup(func() { cancel(); srv.Wait(); hs.Close() })
	voiceStart := hs.URL + elks.Prefix + secret + "/calls"
	if guard.User != "" {
		u, _ := url.Parse(voiceStart)
		u.User = url.UserPassword(guard.User, guard.Password)
		voiceStart = u.String()
	}
	return &rig{sim: &elkstest.Sim{VoiceStart: voiceStart}, clock: clk, lines: lines,
		roster: agents, srv: srv, url: hs.URL}
}

func (r *rig) call(t *testing.T, from string) *elkstest.Call {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return r.sim.Place(ctx, from, lineNumber)
}

func (r *rig) onDuty(t *testing.T, loggedIn bool) {
	t.Helper()
	if _, err := r.roster.AddAgent(office, roster.Agent{ID: "klara", Name: "Klara", Phone: agentNumber, Lines: []string{"peer"}, Active: true}); err != nil {
		t.Fatal(err)
	}
	if err := r.roster.SetPIN(office, "klara", agentPIN); err != nil {
		t.Fatal(err)
	}
	if loggedIn {
		if _, err := r.lines.Login(office, "klara", "peer"); err != nil {
			t.Fatal(err)
		}
	}
}

func ended(t *testing.T, c *elkstest.Call) {
	t.Helper()
	select {
	case <-c.Done():
		if err := c.Err(); err != nil {
			t.Fatalf("the call failed: %v (actions: %s)", err, elkstest.Names(c.Actions()))
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the call did not end: %s", elkstest.Names(c.Actions()))
	}
}

func (r *rig) record(t *testing.T) line.Record {
	t.Helper()
	day := config.DateOf(r.clock.Now())
	for range 250 {
		if recs, _ := r.lines.Records("peer", day.AddDays(-1), day.AddDays(1)); len(recs) > 0 {
			return recs[len(recs)-1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no call record")
	return line.Record{}
}

// TestClosedLine: the caller hears the closed announcement, built from the
// configured hours, then 46elks is told to hang up; every sound is a WAV.
func TestClosedLine(t *testing.T) {
	r := startRig(t, saturday)
	c := r.call(t, callerNum)
	ended(t, c)
	got := elkstest.Names(c.Actions())
	if !strings.HasPrefix(got, "play closed-thanks.wav") || !strings.HasSuffix(got, "hangup reject") {
		t.Errorf("actions: %s", got)
	}
	if first := c.Actions()[0]; !strings.Contains(first.WhenHangup, "/hangup/") {
		t.Errorf("the first action has no whenhangup: %+v", first)
	}
	if rec := r.record(t); rec.Outcome != line.OutcomeClosed || strings.Contains(rec.ID, c.ID) {
		t.Errorf("record %+v", rec)
	}
}

// TestConnectToAnAgent: an open line connects the caller to the agent on
// duty, showing the line's number and ringing a little less than the line's
// ring timeout; the agent counts as answered once 46elks's ring time has
// passed without a failure, and the record says so.
func TestConnectToAnAgent(t *testing.T) {
	r := startRig(t, tuesday)
	r.onDuty(t, true)
	c := r.call(t, callerNum)
	var cn *elkstest.Connect
	select {
	case cn = <-c.Connects:
	case <-time.After(10 * time.Second):
		t.Fatalf("no connect: %s", elkstest.Names(c.Actions()))
	}
	if cn.Action.Connect != agentNumber || cn.Action.CallerID != lineNumber || cn.Action.Timeout != 17 {
		t.Errorf("connect %+v", cn.Action)
	}
	cn.Answer()
	answeredAfterRinging(t, r)
	waitActivity(t, r, "klara", line.Busy)
	cn.End() // Klara hangs up; the caller's leg goes on to hear the end
	ended(t, c)
	rec := r.record(t)
	if rec.Outcome != line.OutcomeAnswered || rec.Agent != "klara" {
		t.Errorf("record %+v", rec)
	}
	if strings.Contains(elkstest.Names(c.Actions()), callerNum) {
		t.Error("the caller's number was in an action")
	}
}

// answeredAfterRinging moves the clock to when a connect to an agent counts
// as answered: the line's ring timeout (20 s) less the margin (3 s), and the
// grace (2 s), after 46elks took it. It waits for that timer first (the test
// sees the connect before the flow has set it), and jumps to it alone: the
// line's ring timeout is a second later, and one jump past both left the
// connect's select to take either.
func answeredAfterRinging(t *testing.T, r *rig) {
	t.Helper()
	due := r.clock.Now().Add(19 * time.Second)
	r.clock.WaitArmed(t, due)
	r.clock.Set(due)
}

// TestTheLimitIsNotPretended: 46elks cannot end a connected call, so the
// flow does not cut it at the limit either: the record keeps the whole talk.
func TestTheLimitIsNotPretended(t *testing.T) {
	r := startRig(t, tuesday)
	r.onDuty(t, true)
	c := r.call(t, callerNum)
	cn := <-c.Connects
	cn.Answer()
	answeredAfterRinging(t, r)
	waitActivity(t, r, "klara", line.Busy)
	n := len(c.Actions())
	r.clock.Advance(25 * time.Minute) // past the 20-minute limit
	time.Sleep(100 * time.Millisecond)
	if got := c.Actions(); len(got) != n {
		t.Errorf("actions during the connect: %s", elkstest.Names(got[n:]))
	}
	cn.End()
	ended(t, c)
	if rec := r.record(t); rec.LimitHit || rec.Ended == "limit" || rec.Talk < 25*60 {
		t.Errorf("record %+v", rec)
	}
}

// TestABusyAgentIsAMiss: 46elks's busy is the agent not answering.
func TestABusyAgentIsAMiss(t *testing.T) {
	r := startRig(t, tuesday)
	r.onDuty(t, true)
	c := r.call(t, callerNum)
	cn := <-c.Connects
	cn.Busy()
	waitMissed(t, r, "klara")
	c.HangUp()
}

// TestPINLogInByIVR: an agent presses the agent key while the greeting
// plays (the greeting is an ivr), then the PIN and 1 to log in.
func TestPINLogInByIVR(t *testing.T) {
	r := startRig(t, tuesday)
	r.onDuty(t, false)
	c := r.call(t, agentNumber)
	c.Keys <- "*"
	c.Keys <- "#" // the agent's number: the one calling
	c.Keys <- agentPIN + "#"
	c.Keys <- "1"
	for deadline := time.Now().Add(10 * time.Second); !loggedIn(r, "klara"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not logged in; the call: %s", elkstest.Names(c.Actions()))
		}
	}
	c.HangUp()
	ended(t, c)
}

// TestARetriedVoiceStartStartsNoSecondCall: 46elks retries a request it got
// no answer to; the retry gets the same first action and no second call.
func TestARetriedVoiceStartStartsNoSecondCall(t *testing.T) {
	r := startRig(t, saturday)
	form := "direction=incoming&callid=c45072a1eeafebccc3dffbd4d27b5ebcc&from=%2B46706861004&to=" + strings.Replace(lineNumber, "+", "%2B", 1)
	first, second := post(t, r.sim.VoiceStart, form), post(t, r.sim.VoiceStart, form)
	if first != second || !strings.Contains(first, "closed-thanks") {
		t.Errorf("first %s, retried %s", first, second)
	}
	if n := r.srv.Calls(); n != 1 {
		t.Errorf("%d calls", n)
	}
}

// TestBasicAuthTravelsInTheURLs: with basic auth required, every address
// peerline gives 46elks (sounds, next, whenhangup) carries it, so the whole
// call works; without it the voice_start is refused.
func TestBasicAuthTravelsInTheURLs(t *testing.T) {
	r := startRigWith(t, saturday, elks.Guard{Secret: secret, User: "elks", Password: "lösen-ord"})
	c := r.call(t, callerNum)
	ended(t, c)
	for _, a := range c.Actions() {
		for _, u := range []string{a.Play, a.IVR, a.Next, a.WhenHangup} {
			if u != "" && !strings.Contains(u, "://elks:") {
				t.Errorf("an address without the basic auth: %s", u)
			}
		}
	}
	if code := postCode(t, r.url+elks.Prefix+secret+"/calls", "direction=incoming&callid=c1&from=%2B46706861004&to=%2B46812345678"); code != 401 {
		t.Errorf("without basic auth: %d", code)
	}
}

// TestAForgottenCallIsEnded: a request for a call peerline no longer knows
// (46elks retrying after a restart) is told to hang up rather than refused,
// which 46elks would retry for hours.
func TestAForgottenCallIsEnded(t *testing.T) {
	r := startRig(t, saturday)
	if got := post(t, r.url+elks.Prefix+secret+"/next/gone/3", "callid=c1&result=success"); got != `{"hangup":"reject"}` {
		t.Errorf("a forgotten call: %s", got)
	}
}

// TestStrangersAreRefused: a wrong secret is 404 and starts nothing.
func TestStrangersAreRefused(t *testing.T) {
	r := startRig(t, saturday)
	for _, u := range []string{r.url + elks.Prefix + "wrong/calls", r.url + elks.Prefix + "calls", r.url + "/pbx/v1/calls"} {
		if code := postCode(t, u, "direction=incoming&callid=c1&from=%2B46706861004&to=%2B46812345678"); code != 404 {
			t.Errorf("%s: %d", u, code)
		}
	}
	if n := r.srv.Calls(); n != 0 {
		t.Errorf("%d calls", n)
	}
	// Bad input with the right secret: a clear 400, and no call.
	if code := postCode(t, r.sim.VoiceStart, "direction=incoming&callid=c1&to=peer"); code != 400 {
		t.Errorf("a bad request: %d", code)
	}
	// A number that is no line's: 46elks is told to refuse the call (a 4xx would be retried for hours).
	if got := post(t, r.sim.VoiceStart, "direction=incoming&callid=c2&from=%2B46706861004&to=%2B46899999999"); !strings.Contains(got, `"hangup":"404"`) {
		t.Errorf("an unknown number: %s", got)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
	}
}

func waitActivity(t *testing.T, r *rig, agent string, a line.Activity) {
	t.Helper()
	waitFor(t, func() bool { p, ok := r.lines.AgentPresence(agent); return ok && p.Activity == a })
}

func waitMissed(t *testing.T, r *rig, agent string) {
	t.Helper()
	waitFor(t, func() bool { p, ok := r.lines.AgentPresence(agent); return ok && p.Missed > 0 })
}

func loggedIn(r *rig, agent string) bool {
	p, ok := r.lines.AgentPresence(agent)
	return ok && len(p.Lines) > 0
}

func postCode(t *testing.T, u, form string) int {
	t.Helper()
	code, _ := elkstest.Post(t, u, form)
	return code
}

func post(t *testing.T, u, form string) string {
	t.Helper()
	code, body := elkstest.Post(t, u, form)
	if code != 200 {
		t.Fatalf("POST %s: %d %s", u, code, body)
	}
	return body
}
