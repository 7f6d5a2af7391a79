package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"text/template"
	"time"

	"github.com/peerline/peerline/internal/event/eventtest"
)

var agentPhone = template.Must(template.ParseFiles("testdata/agent-phone.xml.tmpl"))

// keyCaptures names SIPp's capture of each key: "1" -> "1", "*" -> "star".
func keyCaptures(keys string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		switch k {
		case '*':
			out[i] = "star"
		case '#':
			out[i] = "pound"
		default:
			out[i] = string(k)
		}
	}
	return out
}

// phoneCall is one SIPp call to the line from number that waits wait, presses
// keys from SIPp's captures, and then hangs up (byeFromUs) or waits for
// peerline to. It fails the test when SIPp reports a failed call.
type phoneCall struct {
	from, keys string
	wait       int // ms before the first key
	byeFromUs  bool
	earlyStar  bool // the agent key during the greeting's early media
}

var phoneCalls atomic.Int32

func (p phoneCall) run(t *testing.T, dir string, s *server) {
	t.Helper()
	n := phoneCalls.Add(1)
	sf := filepath.Join(dir, fmt.Sprintf("agent-phone-%d.xml", n))
	f, err := os.Create(sf)
	if err != nil {
		t.Fatal(err)
	}
	err = agentPhone.Execute(f, map[string]any{"From": p.from, "Wait": max(p.wait, 1), "Keys": keyCaptures(p.keys), "ByeFromUs": p.byeFromUs, "EarlyStar": p.earlyStar})
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if code, out := sipp(t, dir, sf, s.SIP, "-s", "peer", "-m", "1", "-mp", strconv.Itoa(freeMediaPorts(t, 4))); code != 0 {
		t.Fatalf("%s pressing %q: sipp exit %d:\n%s\npeerline:\n%s", p.from, p.keys, code, tail(out, 2000), tail(s.stderr.String(), 2000))
	}
}

// agentField is one field of the agent as the API shows it, as JSON ("null"
// for presence when logged out, for locked when not locked).
func agentField(t *testing.T, s *server, token, id, field string) string {
	t.Helper()
	var a map[string]json.RawMessage
	_, body := s.request("GET", "/api/v1/agents/"+id, token, "")
	if err := json.Unmarshal([]byte(body), &a); err != nil || a[field] == nil {
		t.Fatalf("agent %s, %s: %v %s", id, field, err, body)
	}
	return string(a[field])
}

func presence(t *testing.T, s *server, token, id string) string {
	t.Helper()
	return agentField(t, s, token, id, "presence")
}

func pinLock(t *testing.T, s *server, token, id string) string {
	t.Helper()
	return agentField(t, s, token, id, "locked")
}

type rosterDay struct {
	Date      string   `json:"date"`
	Uncovered bool     `json:"uncovered"`
	Sick      []string `json:"sick"`
	Cover     []string `json:"cover"`
}

func rosterDays(t *testing.T, s *server, token string, from time.Time, days int) []rosterDay {
	t.Helper()
	q := fmt.Sprintf("/api/v1/lines/peer/roster?from=%s&to=%s", from.Format(time.DateOnly), from.AddDate(0, 0, days-1).Format(time.DateOnly))
	code, body := s.request("GET", q, token, "")
	var out struct {
		Days []rosterDay `json:"days"`
	}
	if err := json.Unmarshal([]byte(body), &out); code != 200 || err != nil {
		t.Fatalf("roster: %d %v %s", code, err, body)
	}
	return out.Days
}

// TestSIPpAgentsByPhone: agents call the built binary from SIPp and press keys
// with SIPp's RFC 4733 captures: log in (and get a caller), log out, the agent
// key from an unknown phone, sick and cover, wrong PINs and the lock.
func TestSIPpAgentsByPhone(t *testing.T) {
	dir := t.TempDir()
	office := eventtest.New(t)
	klaraPort := freeUDPPort(t)
	stockholm, _ := time.LoadLocation("Europe/Stockholm")
	today := time.Now().In(stockholm)
	rosterFile := filepath.Join(dir, "roster.yaml")
	os.WriteFile(rosterFile, fmt.Appendf(nil, `agents:
  - {id: klara,  name: Klara,  phone: "070-174 06 05", sip_uri: "sip:klara@127.0.0.1:%d", lines: [peer]}
  - {id: jim,    name: Jim,    phone: "070-174 06 06", lines: [peer]}
  - {id: agneta, name: Agneta, phone: "070-174 06 07", lines: [peer]}
schedule:
  peer:
    - {agent: klara, days: [mon, tue, wed, thu, fri, sat, sun], from: %s, to: %s}
`, klaraPort, today.Format(time.DateOnly), today.Format(time.DateOnly)), 0o600)
	cfg := writeConfig(t, dir, fmt.Sprintf(`data_dir: %s
http: {listen: 127.0.0.1:0}
sip: {listen: ["udp:127.0.0.1:0"], rtp_ports: "45000-45998"}
webhooks: [{url: %q, secret: %q}]
lines: [{id: peer, numbers: [peer], prompts: %s, wrapup: {questions: [], cooldown: 0s}}]
`, filepath.Join(dir, "data"), office.Hook.URL, office.Hook.Secret, shortPrompts(t, dir)))
	if out, code := peerline(t, dir, "", "agent", "import", rosterFile, "--config", cfg); code != 0 {
		t.Fatalf("import: %d %s", code, out)
	}
	token, _ := peerline(t, dir, "", "token", "create", "kansliet", "--config", cfg)
	token = strings.TrimSpace(token)
	s := startServer(t, dir, "--config", cfg)
	// The office opens the line, so that the test runs at any hour on any day.
	if code, body := s.request("POST", "/api/v1/lines/peer/open", token, openForTest()); code != 200 {
		t.Fatalf("open: %d %s", code, body)
	}
	for id, pin := range map[string]string{"klara": "275931", "jim": "386142", "agneta": "864213"} {
		if code, body := s.request("PUT", "/api/v1/agents/"+id+"/pin", token, `{"pin":"`+pin+`"}`); code != 204 {
			t.Fatalf("PIN: %d %s", code, body)
		}
	}

	// Jim's wrong PINs run meanwhile: nobody else depends on them.
	t.Run("wrong PINs", func(t *testing.T) {
		t.Parallel()
		wrongPINs(t, dir, s, token, office)
	})
	t.Run("log in, calls, sick, cover", func(t *testing.T) {
		t.Parallel()
		klaraAndAgneta(t, dir, s, token, today, klaraPort)
	})
}

// klaraAndAgneta: Klara logs in and gets a caller, logs out, logs in from an
// unknown phone with the agent key, reports sick; Agneta takes a day.
func klaraAndAgneta(t *testing.T, dir string, s *server, token string, today time.Time, klaraPort int) {
	// Every call starts alike: the agent key during the first announcement, the
	// number ('#' alone: the one calling), the PIN.
	phoneCall{from: "+46701740605", keys: "*#275931#1", wait: 50, byeFromUs: true}.run(t, dir, s)
	if p := presence(t, s, token, "klara"); p == "null" || !strings.Contains(p, `"peer"`) {
		t.Fatalf("Klara is not logged in after PIN and 1: %s", p)
	}
	// A caller is now put through to her.
	klaraPhone, cancel := sippCmd(t, dir, "agent-answers.xml", "-p", strconv.Itoa(klaraPort), "-mp", strconv.Itoa(freeMediaPorts(t, 4)), "-m", "1")
	defer cancel()
	if err := klaraPhone.Start(); err != nil {
		t.Fatal(err)
	}
	if code, out := sipp(t, dir, "caller-bridged.xml", s.SIP, "-s", "peer", "-m", "1", "-mp", strconv.Itoa(freeMediaPorts(t, 4)), "-d", "1000"); code != 0 {
		t.Fatalf("caller: sipp exit %d:\n%s", code, tail(out, 2000))
	}
	if code, out := sippResult(t, dir, "agent-answers.xml", klaraPhone, klaraPhone.Wait()); code != 0 {
		t.Fatalf("Klara's phone: sipp exit %d:\n%s", code, tail(out, 2000))
	}
	var body string
	for i := 0; i < 100 && !strings.Contains(body, `"agent":"klara"`); i++ {
		time.Sleep(20 * time.Millisecond)
		_, body = s.request("GET", "/api/v1/lines/peer/calls", token, "")
	}
	if !strings.Contains(body, `"outcome":"answered"`) || !strings.Contains(body, `"agent":"klara"`) || strings.Count(body, `"id":`) != 1 {
		t.Errorf("calls: %s", body)
	}

	// Logged in and free, Klara hears the greeting as early media like any
	// caller, and presses the agent key during it.
	phoneCall{from: "+46701740605", earlyStar: true, keys: "#275931#1", wait: 800, byeFromUs: true}.run(t, dir, s)
	if p := presence(t, s, token, "klara"); p != "null" {
		t.Fatalf("Klara is still logged in after the second PIN and 1: %s", p)
	}

	// From a phone peerline does not know: * during the announcement, then the number.
	phoneCall{from: "+46705550000", keys: "*0701740605#275931#1", wait: 50, byeFromUs: true}.run(t, dir, s)
	if p := presence(t, s, token, "klara"); p == "null" {
		t.Fatal("the * path did not log Klara in")
	}

	// Sick today by keypad: the roster shows it and she is logged out.
	phoneCall{from: "+46701740605", earlyStar: true, keys: "#275931#2", wait: 800, byeFromUs: true}.run(t, dir, s)
	if d := rosterDays(t, s, token, today, 1)[0]; len(d.Sick) != 1 || d.Sick[0] != "klara" {
		t.Errorf("today after Klara's sick report: %+v", d)
	}
	if p := presence(t, s, token, "klara"); p != "null" {
		t.Errorf("Klara is sick and still logged in: %s", p)
	}

	// Cover by keypad: Agneta takes one of the uncovered days of the next two weeks.
	before := rosterDays(t, s, token, today, 14)
	phoneCall{from: "+46701740607", keys: "*#864213#3", wait: 50, byeFromUs: true}.run(t, dir, s)
	after := rosterDays(t, s, token, today, 14)
	var took []string
	for i, d := range after {
		if len(d.Cover) == 1 && d.Cover[0] == "agneta" {
			took = append(took, d.Date)
			if !before[i].Uncovered || d.Uncovered {
				t.Errorf("Agneta took %s: before %+v, after %+v", d.Date, before[i], d)
			}
		}
	}
	if len(took) != 1 {
		t.Errorf("Agneta covers %v, want one day", took)
	}
	logged := s.log()
	for _, number := range []string{"1740605", "1740607", "705550000"} {
		if strings.Contains(logged, number) {
			t.Errorf("the log holds %s", number)
		}
	}
}

// wrongPINs: Jim's wrong PINs end his calls and lock him.
func wrongPINs(t *testing.T, dir string, s *server, token string, office *eventtest.Receiver) {
	// Three wrong PINs: peerline hangs up after the third (SIPp fails the call
	// if the BYE comes before its last key).
	phoneCall{from: "+46701740606", keys: "*#135790##246813##975310#", wait: 50}.run(t, dir, s)
	if l := pinLock(t, s, token, "jim"); l != "null" {
		t.Fatalf("locked after three failures: %s", l)
	}
	// Three more, in the next call: five in a row lock Jim and the office is
	// told; the phone says nothing of it (the third try sounds like the others).
	phoneCall{from: "+46701740606", keys: "*#135790##246813##275931#", wait: 50}.run(t, dir, s)
	if ev := office.WaitFor(t, "agent.locked"); ev.Data["agent"] != "jim" {
		t.Errorf("agent.locked: %+v", ev)
	}
	if l := pinLock(t, s, token, "jim"); !strings.Contains(l, `"until"`) {
		t.Errorf("Jim's lock after five failures: %s", l)
	}
	if logged := s.log(); strings.Contains(logged, "386142") || strings.Contains(logged, "135790") {
		t.Error("a PIN is in the log")
	}
}
