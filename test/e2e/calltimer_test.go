package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/peerline/peerline/internal/event/eventtest"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/media/mediatest"
	"github.com/peerline/peerline/pbx/sip/siptest"
)

// The numbers of the call timer's run: the line, two callers and Klara's phone.
const (
	lineNumber  = "+46812345678"
	callerA     = "+46701234567"
	callerB     = "+46709876543"
	klaraNumber = "+46701740605"
	klaraPIN    = "275931"
	// closingPhrase is how long the test's call-limit prompt plays.
	closingPhrase = 1500 * time.Millisecond
)

// TestCallTimerEndToEnd runs the call timer against the built binary with real
// SIP peers (sipgo phones in this process, SIPp as the operator's trunk): a 10 s
// limit with a warning 4 s into the call, the wrap-up answered by RFC 4733 keys,
// a callback through the trunk, and the safety key. Afterwards neither caller's
// number is anywhere in the data directory, the log, the webhooks or the API.
func TestCallTimerEndToEnd(t *testing.T) {
	dir := t.TempDir()
	office := eventtest.New(t)
	trunkPort := freeUDPPort(t)
	s, token := timedLine(t, dir, office, trunkPort)
	agent := siptest.NewAgent(t, media.PCMA, siptest.AgentOptions{})
	body := fmt.Sprintf(`{"id":"klara","name":"Klara","phone":"070-174 06 05","sip_uri":%q,"lines":["peer"]}`, agent.URI)
	for _, r := range []struct{ method, path, body string }{
		{"POST", "/api/v1/agents", body},
		{"PUT", "/api/v1/agents/klara/pin", `{"pin":"` + klaraPIN + `"}`},
		{"POST", "/api/v1/agents/klara/login", ""},
	} {
		if code, out := s.request(r.method, r.path, token, r.body); code >= 300 {
			t.Fatalf("%s %s: %d %s", r.method, r.path, code, out)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	limitAndWrapup(ctx, t, s, token, agent)
	callBack(ctx, t, dir, s, token, trunkPort)
	safetyKey(ctx, t, s, token, agent, office)
	privacySweep(t, dir, s, token, office)
}

// timedLine starts peerline with the line open, a 10 s limit warning 6 s before
// (4 s into the call), the default wrap-up questions, no cooldown, the trunk at
// 127.0.0.1:trunkPort and the office's webhook. The warning and closing phrase
// are tones the phones can tell apart (1500 Hz and 1200 Hz); the form's prompts
// are short silences.
func timedLine(t *testing.T, dir string, office *eventtest.Receiver, trunkPort int) (*server, string) {
	t.Helper()
	prompts := shortPrompts(t, dir)
	tones := map[string]struct {
		freq float64
		d    time.Duration
	}{
		"call-warning": {1500, 800 * time.Millisecond}, "call-limit": {1200, closingPhrase},
		"wrapup-intro": {0, 300 * time.Millisecond}, "wrapup-call-type": {0, 300 * time.Millisecond},
		"wrapup-referred": {0, 300 * time.Millisecond}, "wrapup-office-contact": {0, 300 * time.Millisecond},
		"callback-calling": {0, 300 * time.Millisecond},
	}
	for name, p := range tones {
		if err := os.WriteFile(filepath.Join(prompts, name+".wav"), mediatest.ToneWAV(p.freq, p.d), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := writeConfig(t, dir, fmt.Sprintf(`data_dir: %s
http: {listen: 127.0.0.1:0}
sip: {listen: ["udp:127.0.0.1:0"], rtp_ports: "48000-48998", trunk: {proxy: "sip:127.0.0.1:%d"}}
webhooks: [{url: %q, secret: %q}]
lines:
  - id: peer
    name: Stödlinjen
    numbers: [%q]
    prompts: %s
    calls: {limit: 10s, warnings: [6s], hard_stop: true}
    wrapup: {timeout: 30s, cooldown: 0s}
    callback_window: 30m
`, filepath.Join(dir, "data"), trunkPort, office.Hook.URL, office.Hook.Secret, lineNumber, prompts))
	return serveOpen(t, dir, cfg)
}

// limitAndWrapup: caller A talks to Klara until the limit. The warning reaches
// Klara alone; both hear the closing phrase that starts at 10 s, then the caller
// gets BYE; Klara answers the form with RFC 4733 keys.
func limitAndWrapup(ctx context.Context, t *testing.T, s *server, token string, agent *siptest.Agent) {
	caller := siptest.NewPhone(t, callerA, media.PCMU)
	call, err := caller.Call(ctx, lineNumber, s.SIP)
	bridged := time.Now()
	if err != nil || call.Status != 200 {
		t.Fatalf("caller A: %v %+v\n%s", err, call, tail(s.stderr.String(), 2000))
	}
	siptest.HearEachOther(t, caller, call, agent)
	caller.Media.Reset()
	agent.Media.Reset()
	if !caller.WaitBye(20 * time.Second) {
		t.Fatalf("no BYE to the caller at the limit\n%s", tail(s.stderr.String(), 2000))
	}
	// The caller's BYE comes right after the closing phrase that starts at 10 s.
	want := 10*time.Second + closingPhrase
	if took := time.Since(bridged); took < want-time.Second || took > want+time.Second {
		t.Errorf("the caller got BYE %v after the bridge, want %v ± 1 s", took.Round(10*time.Millisecond), want)
	}
	if !agent.Media.HeardTone(1500, 800) {
		t.Error("Klara did not hear the warning")
	}
	if caller.Media.HeardTone(1500, 400) {
		t.Error("the caller heard Klara's warning")
	}
	if !caller.Media.HeardTone(1200, 800) || !agent.Media.HeardTone(1200, 800) {
		t.Error("both should hear the closing phrase")
	}
	time.Sleep(200 * time.Millisecond)
	agent.Media.SendKeys(agent.Remote(), media.DefaultDTMF, "312") // kris; referred: ja; office contact: nej
	if !agent.WaitBye(10 * time.Second) {
		t.Fatal("Klara's leg was not hung up after the form")
	}
	rec := waitCall(t, s, token, func(r line.Record) bool { return r.LimitHit })
	want3 := map[string]string{"call_type": "kris", "referred": "ja", "office_contact": "nej"}
	if rec.Agent != "klara" || rec.Ended != "limit" || rec.Talk < 9.5 || rec.Talk > 10.5 || rec.Wrapup == nil || !rec.Wrapup.Filled ||
		fmt.Sprint(rec.Wrapup.Answers) != fmt.Sprint(want3) {
		t.Errorf("the limit's record: %+v %+v", rec, rec.Wrapup)
	}
}

// callBack: Klara calls the line from her phone, gives her PIN and presses 4.
// The SIPp trunk checks that the INVITE is for caller A and shows the line's
// number; Klara hears the caller, ends with the end key and answers the form.
func callBack(ctx context.Context, t *testing.T, dir string, s *server, token string, trunkPort int) {
	trace := filepath.Join(dir, "trunk.msg")
	trunk, stop := sippCmd(t, dir, "trunk-callee.xml", "-p", strconv.Itoa(trunkPort), "-mp", strconv.Itoa(freeMediaPorts(t, 4)), "-m", "1",
		"-trace_msg", "-message_file", trace)
	defer stop()
	if err := trunk.Start(); err != nil {
		t.Fatal(err)
	}
	klara := siptest.NewPhone(t, klaraNumber, media.PCMU)
	klara.EarlyKeys = "*" // on duty and free: the agent key during the greeting
	own, err := klara.Call(ctx, lineNumber, s.SIP)
	if err != nil || own.Status != 200 {
		t.Fatalf("Klara's call: %v %+v", err, own)
	}
	answered := strings.Count(s.log(), "agent answered")
	if err := own.PressInfo(ctx, "#"+klaraPIN+"#4"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 750 && strings.Count(s.stderr.String(), "agent answered") == answered; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	klara.Media.Reset()
	time.Sleep(time.Second)
	if h := klara.Media.Heard(); !speech(h) {
		t.Errorf("Klara does not hear the caller she called back (%d samples)", len(h))
	}
	if err := own.PressInfo(ctx, "**"); err != nil {
		t.Fatal(err)
	}
	if code, out := sippResult(t, dir, "trunk-callee.xml", trunk, trunk.Wait()); code != 0 {
		t.Fatalf("the trunk's sipp exit %d:\n%s\npeerline:\n%s", code, tail(out, 3000), tail(s.stderr.String(), 2000))
	}
	time.Sleep(200 * time.Millisecond)
	if err := own.PressInfo(ctx, "3##"); err != nil {
		t.Fatal(err)
	}
	if !klara.WaitBye(10 * time.Second) {
		t.Fatal("Klara's call did not end after the callback's form")
	}
	rec := waitCall(t, s, token, func(r line.Record) bool { return r.Callback })
	if rec.Agent != "klara" || rec.Outcome != "answered" || rec.Ended != "end_key" || rec.Wrapup == nil ||
		!rec.Wrapup.Filled || rec.Wrapup.Answers["call_type"] != "kris" {
		t.Errorf("the callback's record: %+v %+v", rec, rec.Wrapup)
	}
	seen, _ := os.ReadFile(trace)
	if !strings.Contains(string(seen), "INVITE sip:"+callerA) {
		t.Fatalf("SIPp traced no INVITE: the checks below would prove nothing\n%s", seen)
	}
	for _, leak := range []string{"1740605", "klara", "Klara"} {
		if strings.Contains(string(seen), leak) {
			t.Errorf("the caller's side saw %q of Klara", leak)
		}
	}
}

// speech reports whether samples sound like SIPp's recorded speech: a tenth
// of them louder than silence, and not the ringback tone.
func speech(samples []int16) bool {
	loud := 0
	for _, v := range samples {
		if v > 200 || v < -200 {
			loud++
		}
	}
	return loud > len(samples)/10 && media.Level(samples, media.Ringback.Freq) < 0.5
}

// safetyKey: caller B is put through and Klara presses *9: the caller's leg ends
// at once, the office's webhook gets call.flagged, and Klara leaves the form.
func safetyKey(ctx context.Context, t *testing.T, s *server, token string, agent *siptest.Agent, office *eventtest.Receiver) {
	caller := siptest.NewPhone(t, callerB, media.PCMU)
	call, err := caller.Call(ctx, lineNumber, s.SIP)
	if err != nil || call.Status != 200 {
		t.Fatalf("caller B: %v %+v", err, call)
	}
	siptest.HearEachOther(t, caller, call, agent)
	agent.Media.SendKeys(agent.Remote(), media.DefaultDTMF, "*9")
	if !caller.WaitBye(5 * time.Second) {
		t.Fatal("the safety key did not end the caller's leg")
	}
	ev := office.WaitFor(t, "call.flagged")
	if ev.Data["agent"] != "klara" || ev.Data["call"] == "" {
		t.Errorf("call.flagged: %+v", ev)
	}
	agent.Hangup(ctx)
	rec := waitCall(t, s, token, func(r line.Record) bool { return r.Flagged })
	if rec.Ended != "safety" || rec.Agent != "klara" || rec.ID != ev.Data["call"] {
		t.Errorf("the flagged record: %+v (event %+v)", rec, ev.Data)
	}
	if _, body := s.request("GET", "/api/v1/incidents?state=ny", token, ""); !strings.Contains(body, `"id":"`+rec.ID+`"`) || !strings.Contains(body, `"reason":"safety"`) {
		t.Errorf("the flagged call is no incident for the office: %s", body)
	}
}

// waitCall waits (bounded) for the call record that match picks.
func waitCall(t *testing.T, s *server, token string, match func(line.Record) bool) line.Record {
	t.Helper()
	var last string
	for range 250 {
		_, body := s.request("GET", "/api/v1/lines/peer/calls", token, "")
		last = body
		var recs struct {
			Calls []line.Record `json:"calls"`
		}
		json.Unmarshal([]byte(body), &recs)
		for _, r := range recs.Calls {
			if match(r) {
				return r
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no such call record in %s", tail(last, 1000))
	return line.Record{}
}

// privacySweep: after the run, neither caller's number is in the API's answers,
// the webhook bodies, peerline's log or any file of its data directory.
func privacySweep(t *testing.T, dir string, s *server, token string, office *eventtest.Receiver) {
	seen := map[string]string{}
	for _, path := range []string{"/api/v1/lines", "/api/v1/lines/peer", "/api/v1/lines/peer/calls", "/api/v1/lines/peer/roster",
		"/api/v1/agents", "/api/v1/agents/klara", "/api/v1/audit", "/metrics"} {
		code, body := s.request("GET", path, token, "")
		if code != 200 {
			t.Errorf("GET %s: %d %s", path, code, body)
		}
		seen["GET "+path] = body
	}
	seen["webhooks"] = strings.Join(office.Bodies(), "\n")
	s.stop()
	seen["log"] = s.stderr.String()
	filepath.WalkDir(filepath.Join(dir, "data"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(path)
			seen[path] = string(b)
		}
		return nil
	})
	if !strings.Contains(seen["GET /api/v1/lines/peer/calls"], `"callback":true`) || !strings.Contains(seen["webhooks"], "call.flagged") ||
		!strings.Contains(seen["log"], "agent answered") {
		t.Fatal("the sweep has not got the run's output: it would prove nothing")
	}
	for where, text := range seen {
		for _, number := range []string{callerA, callerB} {
			if strings.Contains(text, number[3:]) {
				t.Errorf("%s holds the caller's number %s", where, number)
			}
		}
	}
}
