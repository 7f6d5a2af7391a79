package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerline/peerline/pbx/webhook"
	"github.com/peerline/peerline/pbx/webhook/pbxsim"
)

// TestPBXWebhookEndToEnd drives the built binary in webhook mode with the PBX
// simulator over real HTTP: a caller put through to Klara, who answers the
// wrap-up form with keys; the record and the statistics count the call like a
// SIP call, and nothing of the caller's number is in the API's answers.
func TestPBXWebhookEndToEnd(t *testing.T) {
	dir := t.TempDir()
	const pbxSecret = "e2e-pbx-hemlighet-0123456789"
	cfg := writeConfig(t, dir, fmt.Sprintf(`data_dir: %s
http: {listen: 127.0.0.1:0}
sip: {listen: ["udp:127.0.0.1:0"], rtp_ports: "47000-47998"}
pbx: {webhooks: [{name: elks, auth: hmac, secret: %q}]}
lines:
  - id: peer
    name: Stödlinjen
    numbers: [%q]
    prompts: %s
    wrapup: {cooldown: 0s}
`, filepath.Join(dir, "data"), pbxSecret, lineNumber, shortPrompts(t, dir)))
	s, token := serveOpen(t, dir, cfg)
	for _, r := range []struct{ method, path, body string }{
		{"POST", "/api/v1/agents", `{"id":"klara","name":"Klara","phone":"070-174 06 05","lines":["peer"]}`},
		{"POST", "/api/v1/agents/klara/login", ""},
	} {
		if code, out := s.request(r.method, r.path, token, r.body); code >= 300 {
			t.Fatalf("%s %s: %d %s", r.method, r.path, code, out)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sim := pbxsim.New(s.URL, "hmac", pbxSecret)
	caller, err := sim.Call(ctx, "e2e-1", callerA, lineNumber)
	if err != nil {
		t.Fatal(err)
	}
	var agent *pbxsim.Leg
	select {
	case agent = <-sim.Dials:
	case <-ctx.Done():
		t.Fatalf("nothing dialled; the caller got %v", caller.Actions())
	}
	if d := agent.Dial; d.Target.Phone != "+46701740605" || d.CallerID != lineNumber || d.TimeLimit != 1200 {
		t.Errorf("the dial: %+v %+v", d, d.Target)
	}
	agent.Answer(ctx)
	bridged := func(a webhook.Action) bool { return a.Action == webhook.ActBridge && a.Leg == agent.ID }
	if _, _, ok := caller.WaitFor(10*time.Second, 0, bridged); !ok {
		t.Fatalf("no bridge: %v", caller.Actions())
	}
	caller.Hangup(ctx)
	for _, q := range []string{"wrapup-call-type", "wrapup-referred", "wrapup-office-contact"} {
		if _, _, ok := agent.WaitFor(10*time.Second, 0, pbxsim.Is(webhook.ActPlay, q)); !ok {
			t.Fatalf("no %s: %v", q, agent.Actions())
		}
		agent.Press(ctx, map[string]string{"wrapup-call-type": "2", "wrapup-referred": "2", "wrapup-office-contact": "1"}[q])
	}
	select {
	case <-agent.Done():
	case <-ctx.Done():
		t.Fatal("the agent's leg was not hung up after the form")
	}
	var calls string
	for range 100 {
		if _, calls = s.request("GET", "/api/v1/lines/peer/calls", token, ""); strings.Contains(calls, `"filled":true`) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(calls, `"outcome":"answered"`) || !strings.Contains(calls, `"call_type":"information"`) || !strings.Contains(calls, `"referred":"nej"`) {
		t.Errorf("the record: %s", calls)
	}
	if _, st := s.request("GET", "/api/v1/lines/peer/stats", token, ""); !strings.Contains(st, `"calls":1`) {
		t.Errorf("statistics: %s", st)
	}
	for _, p := range []string{"/api/v1/lines/peer/calls", "/api/v1/lines/peer", "/api/v1/audit", "/metrics"} {
		if _, out := s.request("GET", p, token, ""); strings.Contains(out, strings.TrimPrefix(callerA, "+")) {
			t.Errorf("%s holds the caller's number", p)
		}
	}
}
