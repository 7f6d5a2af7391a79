package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerline/peerline/notify/notifytest"
	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/sip/siptest"
)

// TestPeopleAreTold: a sick report leaves a day without cover; the office's
// e-mail arrives at once through a real SMTP server (STARTTLS, AUTH, the
// password from a file), while 46elks is down the SMS wait, and after a
// restart and 46elks's return each arrives once; a call cut with the safety
// key gives the office an SMS within seconds. The office sees every message
// in GET /api/v1/notifications, without numbers or addresses.
func TestPeopleAreTold(t *testing.T) {
	dir := t.TempDir()
	cert, _, pool, pair := siptest.SelfSigned(t, dir, "mail")
	t.Setenv("SSL_CERT_FILE", cert) // the binary trusts the test's mail server as a system CA
	mail := notifytest.NewSMTPServer(t, pair, &tls.Config{RootCAs: pool})
	elks := notifytest.NewElks(t)
	elks.Status.Store(503)
	os.WriteFile(filepath.Join(dir, "smtp-password"), []byte(mail.Password+"\n"), 0o600)
	agent := siptest.NewAgent(t, media.PCMU, siptest.AgentOptions{})
	cfg := writeConfig(t, dir, fmt.Sprintf(`data_dir: %s
http: {listen: 127.0.0.1:0}
sip: {listen: ["udp:127.0.0.1:0"], rtp_ports: "43000-43998"}
notify:
  smtp: {host: 127.0.0.1, port: %d, security: starttls, username: %s, password_file: %s, from: "Peer Support-linjen <linjen@example.org>"}
  sms: {provider: 46elks, url: %q, username: %s, password: %s, from: PeerLinjen}
  office: [{name: Kansliet, email: kansliet@example.org, phone: "070-555 00 00"}]
  quiet_hours: {from: "00:00", to: "00:00"}
lines: [{id: peer, numbers: [peer], prompts: %s, wrapup: {questions: [], cooldown: 0s}}]
`, filepath.Join(dir, "data"), mail.Port, mail.User, filepath.Join(dir, "smtp-password"), elks.URL, elks.User, elks.Password, shortPrompts(t, dir)))
	// The example roster's shifts have ended: a start after the 11:00 deadline
	// would close today for want of cover, and the office's first e-mail would say so.
	rosterFile := filepath.Join(dir, "roster.yaml")
	os.WriteFile(rosterFile, []byte(`agents:
  - {id: klara,   name: Klara,   phone: "070-174 06 05", lines: [peer]}
  - {id: jim,     name: Jim,     phone: "070-174 06 06", lines: [peer]}
  - {id: agneta,  name: Agneta,  phone: "070-174 06 07", lines: [peer]}
  - {id: michell, name: Michell, phone: "070-174 06 08", lines: [peer]}
schedule:
  peer:
    - {agent: klara, days: [tue]}
    - {agent: jim, days: [mon, wed, thu, fri, sat, sun]}
`), 0o600)
	peerline(t, dir, "", "agent", "import", rosterFile, "--config", cfg)
	token, _ := peerline(t, dir, "", "token", "create", "kansliet", "--config", cfg)
	token = strings.TrimSpace(token)
	s := startServer(t, dir, "--config", cfg)
	api := func(method, path, body string, want int) {
		t.Helper()
		if code, out := s.request(method, path, token, body); code != want {
			t.Fatalf("%s %s: %d %s", method, path, code, out)
		}
	}
	tuesday := nextServiceTuesday(t, s, token)
	api("POST", "/api/v1/lines/peer/sick", `{"agent":"klara","date":"`+tuesday+`"}`, 201)

	waitUntil(t, "the office's e-mail", func() bool { return len(mail.Mails()) == 1 })
	if m := mail.Mails()[0]; m.To[0] != "kansliet@example.org" || !strings.Contains(m.Subject, "saknar täckning") || !strings.Contains(m.Body, "Klara borta") {
		t.Errorf("the office's e-mail: %+v", m)
	}
	waitUntil(t, "the SMS tried", func() bool { return elks.Requests.Load() >= 4 }) // 3 free colleagues and the office
	if _, body := s.request("GET", "/api/v1/notifications", token, ""); !strings.Contains(body, `"status":"pending"`) ||
		!strings.Contains(body, "503") || !strings.Contains(body, `"to":"Jim"`) || strings.Contains(body, "+4670") {
		t.Errorf("notifications while 46elks is down: %s", body)
	}
	s.stop()
	elks.Status.Store(0)
	s = startServer(t, dir, "--config", cfg)
	waitUntil(t, "the SMS after the restart", func() bool { return len(elks.Sent()) == 4 })
	time.Sleep(200 * time.Millisecond)
	if n := len(elks.Sent()); n != 4 {
		t.Errorf("%d SMS, want each of the 4 once", n)
	}
	for _, sms := range elks.Sent() {
		if sms.To == "+46701740606" && !strings.Contains(sms.Message, "Hej Jim! Peer Support-linjen saknar täckning") {
			t.Errorf("Jim's SMS: %q", sms.Message)
		}
	}

	// The safety key: the office's SMS within seconds.
	api("PATCH", "/api/v1/agents/klara", `{"sip_uri":"`+agent.URI+`"}`, 200)
	api("POST", "/api/v1/lines/peer/open", openForTest(), 200)
	api("POST", "/api/v1/agents/klara/login", "", 200)
	caller := siptest.NewPhone(t, "+46705550123", media.PCMU)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	call, err := caller.Call(ctx, "peer", s.SIP)
	if err != nil || call.Status != 200 {
		t.Fatalf("call: %v %+v", err, call)
	}
	siptest.HearEachOther(t, caller, call, agent)
	agent.Media.SendKeys(agent.Remote(), media.DefaultDTMF, "*9")
	waitUntil(t, "the office's SMS of the flagged call", func() bool {
		for _, sms := range elks.Sent() {
			if sms.To == "+46705550000" && strings.Contains(sms.Message, "säkerhetsknappen") {
				return true
			}
		}
		return false
	})
	for _, sms := range elks.Sent() {
		if strings.Contains(sms.Message, "5550123") {
			t.Errorf("an SMS holds the caller's number: %q", sms.Message)
		}
	}
	agent.Hangup(ctx)
}

// waitUntil waits (bounded) for cond.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30 s", what)
		}
	}
}
