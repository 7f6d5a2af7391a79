package e2e

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/pbx/elks"
	"github.com/peerline/peerline/pbx/elks/elkstest"
)

// TestElksDrivesTheLine runs the built binary with 46elks as its PBX, and
// elkstest playing 46elks over real HTTP with the documented requests: a
// closed line; an agent's PIN log-in by ivr; an open line connected to the
// agent with the line's number shown and the ring time; the agent's callback
// to that caller; a retried voice_start; a stranger without the secret.
func TestElksDrivesTheLine(t *testing.T) {
	const (
		secret    = "e2e-elks-hemlighet-0123456789"
		number    = "+46812345678"
		agent     = "+46701112233"
		caller    = "+46709876543"
		agentPIN  = "482915"
		ringTime  = "8s" // 46elks rings 5 s (the least), the agent counts as answered 2 s after
		elksRings = 5
	)
	dir := t.TempDir()
	port := freeTCPPort(t)
	cfg := writeConfig(t, dir, fmt.Sprintf(`data_dir: %s
http: {listen: 127.0.0.1:%d}
sip: {listen: []}
pbx:
  public_url: http://127.0.0.1:%d
  elks: {secret: %s}
lines: [{id: peer, numbers: ["%s"], prompts: %s, calls: {ring_timeout: %s}, wrapup: {questions: [], cooldown: 0s}}]
`, filepath.Join(dir, "data"), port, port, secret, number, shortPrompts(t, dir), ringTime))
	if out, code := peerline(t, dir, "", "config", "check", cfg); code != 0 || !strings.Contains(out, "note: pbx.elks:") || strings.Contains(out, secret) {
		t.Fatalf("config check: %d\n%s", code, out)
	}
	token, _ := peerline(t, dir, "", "token", "create", "kansliet", "--config", cfg)
	token = strings.TrimSpace(token)
	s := startServer(t, dir, "--config", cfg)
	voiceStart := s.URL + elks.Prefix + secret + "/calls"
	sim := &elkstest.Sim{VoiceStart: voiceStart}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, req := range []struct{ method, path, body string }{
		{"POST", "/api/v1/agents", `{"id":"klara","name":"Klara","phone":"` + agent + `","lines":["peer"]}`},
		{"PUT", "/api/v1/agents/klara/pin", `{"pin":"` + agentPIN + `"}`},
		{"POST", "/api/v1/lines/peer/close", `{"reason":"e2e"}`},
	} {
		if code, body := s.request(req.method, req.path, token, req.body); code/100 != 2 {
			t.Fatalf("%s %s: %d %s", req.method, req.path, code, body)
		}
	}

	// Closed: the announcement (an ivr: the agent key is heard after it), then hangup.
	c := sim.Place(ctx, caller, number)
	waitElksCall(t, c)
	if got := elkstest.Names(c.Actions()); got != "ivr closed-today.wav, hangup reject" {
		t.Errorf("closed line: %s", got)
	}

	// Klara logs in by phone: the agent key, her own number (#), the PIN, 1.
	if code, body := s.request("POST", "/api/v1/lines/peer/open", token, openForTest()); code != 200 {
		t.Fatalf("open: %d %s", code, body)
	}
	a := sim.Place(ctx, agent, number)
	for _, k := range []string{"*", "#", agentPIN + "#", "1"} {
		a.Keys <- k
	}
	waitUntil(t, "Klara logged in by phone: "+elkstest.Names(a.Actions()), func() bool {
		_, body := s.request("GET", "/api/v1/lines/peer", token, "")
		return strings.Contains(body, `"agent":"klara"`)
	})
	a.HangUp()
	waitElksCall(t, a)

	// A caller is connected to Klara, showing the line's number.
	c = sim.Place(ctx, caller, number)
	cn := connectOf(t, c)
	if cn.Action.Connect != agent || cn.Action.CallerID != number || cn.Action.Timeout != elksRings {
		t.Errorf("connect %+v", cn.Action)
	}
	cn.Answer()
	waitUntil(t, "Klara busy", func() bool {
		_, body := s.request("GET", "/api/v1/lines/peer", token, "")
		return strings.Contains(body, `"activity":"busy"`)
	})
	cn.End()
	waitElksCall(t, c)
	waitCall(t, s, token, func(r line.Record) bool { return r.Outcome == line.OutcomeAnswered && r.Agent == "klara" })

	// Klara rings the caller back from the menu (4): 46elks connects her call
	// to the caller's number, showing the line's.
	a = sim.Place(ctx, agent, number)
	for _, k := range []string{"*", "#", agentPIN + "#", "4"} {
		a.Keys <- k
	}
	cb := connectOf(t, a)
	if cb.Action.Connect != caller || cb.Action.CallerID != number {
		t.Errorf("callback connect %+v", cb.Action)
	}
	cb.Busy()
	a.HangUp()
	waitElksCall(t, a)

	// 46elks retries a voice_start it got no answer to: the same first action,
	// whose next address names the one leg (a second call would have its own).
	form := url.Values{"direction": {"incoming"}, "callid": {"c0123456789abcdef0123456789abcdef"}, "from": {caller}, "to": {number}}.Encode()
	first, second := postForm(t, voiceStart, form), postForm(t, voiceStart, form)
	if first != second || !strings.Contains(first, `"next"`) {
		t.Errorf("a retried voice_start: %s, then %s", first, second)
	}
	// A stranger without the secret gets 404 and starts nothing.
	if code, _ := elkstest.Post(t, s.URL+elks.Prefix+"guess/calls", form); code != 404 {
		t.Errorf("a stranger: %d", code)
	}
	if log := s.log(); strings.Contains(log, caller[3:]) || strings.Contains(log, agent[3:]) || strings.Contains(log, secret) {
		t.Errorf("a number or the secret in the log:\n%s", log)
	}
}

func waitElksCall(t *testing.T, c *elkstest.Call) {
	t.Helper()
	select {
	case <-c.Done():
		if err := c.Err(); err != nil {
			t.Fatalf("the call failed: %v (%s)", err, elkstest.Names(c.Actions()))
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the call did not end: %s", elkstest.Names(c.Actions()))
	}
}

func connectOf(t *testing.T, c *elkstest.Call) *elkstest.Connect {
	t.Helper()
	select {
	case cn := <-c.Connects:
		return cn
	case <-time.After(30 * time.Second):
		t.Fatalf("no connect: %s", elkstest.Names(c.Actions()))
		return nil
	}
}

func postForm(t *testing.T, u, form string) string {
	t.Helper()
	code, body := elkstest.Post(t, u, form)
	if code != 200 {
		t.Fatalf("POST %s: %d %s", u, code, body)
	}
	return body
}
