package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/sip/siptest"
)

// kamailio is the operator's registrar and proxy (Debian's kamailio), run from
// testdata/kamailio.cfg.tmpl; log collects what it says.
type kamailio struct {
	Port                               int
	User, Password                     string
	LineNumber, AgentNumber, AgentAddr string
	Expires                            int
	Modules                            string
	TLSPort                            int    // 0: no TLS
	Cert, Key, CA                      string // with TLSPort
	RTPEngine                          string // rtpengine's ng control address; "": media goes end to end
	log                                *syncBuffer
}

func startKamailio(t *testing.T, dir string, k *kamailio) {
	t.Helper()
	startKamailioFrom(t, dir, "testdata/kamailio.cfg.tmpl", k)
}

// startKamailioFrom runs Kamailio with the config template tmplFile and
// returns its process id.
func startKamailioFrom(t *testing.T, dir, tmplFile string, k *kamailio) int {
	t.Helper()
	bin, err := exec.LookPath("kamailio")
	if err != nil {
		t.Fatal("kamailio is not installed (make check installs Debian's kamailio)")
	}
	mods, _ := filepath.Glob("/usr/lib/*/kamailio/modules")
	if len(mods) == 0 {
		t.Fatal("no Kamailio module folder under /usr/lib/*/kamailio/modules")
	}
	k.Modules = mods[0]
	tmpl := template.Must(template.ParseFiles(tmplFile))
	cfg := filepath.Join(dir, "kamailio.cfg")
	f, err := os.Create(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := tmpl.Execute(f, k); err != nil {
		t.Fatal(err)
	}
	f.Close()
	k.log = &syncBuffer{}
	cmd := exec.Command(bin, "-f", cfg, "-DD", "-E", "-m", "32", "-M", "8", "-Y", dir, "-w", dir)
	cmd.Stdout, cmd.Stderr = k.log, k.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its helper processes go with it
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })
	k.waitLog(t, "kamailio is up", func(s string) bool {
		return strings.Contains(s, "INFO: <core>") || strings.Contains(s, "udp:127.0.0.1")
	}, 1)
	return cmd.Process.Pid
}

// waitLog waits (bounded) until match holds n times in the log, counting lines.
func (k *kamailio) waitLog(t *testing.T, what string, match func(string) bool, n int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if k.count(match) >= n {
			return
		}
	}
	t.Fatalf("kamailio: %s (%d times) not seen; it said:\n%s", what, n, tail(k.log.String(), 3000))
}

func (k *kamailio) count(match func(string) bool) int {
	n := 0
	for _, l := range strings.Split(k.log.String(), "\n") {
		if match(l) {
			n++
		}
	}
	return n
}

func has(s string) func(string) bool { return func(l string) bool { return strings.Contains(l, s) } }

// TestTrunkRegistrationWithKamailio: peerline registers at a real registrar
// with digest auth and refreshes before expiry; a call to the line's number
// reaches it through the registration; its call to an agent's number goes
// through the trunk with proxy digest auth and the two hear each other; at
// shutdown it unregisters. Once over UDP, and once over TLS, where the caller's
// audio is SRTP end to end of peerline's legs and a renewed certificate is
// served after SIGHUP.
func TestTrunkRegistrationWithKamailio(t *testing.T) {
	for _, transport := range []string{"udp", "tls"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			trunkRegistration(t, transport)
		})
	}
}

func trunkRegistration(t *testing.T, transport string) {
	dir := t.TempDir()
	agent := siptest.NewAgent(t, media.PCMU, siptest.AgentOptions{SRTP: media.SRTPOptional}) // the agent's mobile, behind the trunk
	k := &kamailio{Port: freeUDPPort(t), User: "peerline", Password: "trunk-hemlis-42", LineNumber: lineNumber,
		AgentNumber: "+46701740605", AgentAddr: agent.Addr, Expires: 10}
	proxy, listen, tlsFiles := fmt.Sprintf("sip:127.0.0.1:%d", k.Port), `"udp:127.0.0.1:0"`, ""
	var cert, key string
	if transport == "tls" {
		var trunkCert string
		cert, key, _, _ = siptest.SelfSigned(t, dir, "peerline")
		trunkCert, k.Key, _, _ = siptest.SelfSigned(t, dir, "trunk")
		k.TLSPort, k.Cert, k.CA = freeTCPPort(t), trunkCert, cert
		proxy = fmt.Sprintf("sip:127.0.0.1:%d;transport=tls", k.TLSPort)
		listen += `, "tls:127.0.0.1:0"`
		tlsFiles = fmt.Sprintf("\n  tls: {cert: %s, key: %s, ca: %s}", cert, key, trunkCert)
	}
	startKamailio(t, dir, k)
	cfg := writeConfig(t, dir, fmt.Sprintf(`data_dir: %s
http: {listen: 127.0.0.1:0}
sip:
  listen: [%s]
  rtp_ports: "46000-46998"
  trunk: {proxy: %q, register: true, username: %s, password: %s, allow: ["127.0.0.1/32"]}%s
lines:
  - id: peer
    numbers: [%q]
    wrapup: {questions: [], cooldown: 0s}
`, filepath.Join(dir, "data"), listen, proxy, k.User, k.Password, tlsFiles, lineNumber))
	s, token := serveOpen(t, dir, cfg)

	k.waitLog(t, "a registration", has("trunk: REGISTER peerline expires=3600"), 1)
	k.waitLog(t, "the refresh before the 10 s the trunk granted", has("trunk: REGISTER peerline expires=3600"), 2)
	// The call below comes after the first binding's 10 s: it reaches peerline
	// only if the refreshes renewed it.
	k.waitLog(t, "the second refresh", has("trunk: REGISTER peerline expires=3600"), 3)
	if strings.Contains(k.log.String(), "REGISTER challenged") == false {
		t.Error("the registrar never challenged: digest auth untested")
	}
	if _, body := s.request("GET", "/metrics", "", ""); !strings.Contains(body, "peerline_trunk_registered 1") {
		t.Errorf("metrics: %s", grepLines(body, "peerline_trunk"))
	}
	if _, body := s.request("GET", "/healthz", "", ""); !strings.Contains(body, `"trunk":"registered"`) {
		t.Errorf("healthz: %s", body)
	}

	for _, r := range []struct{ method, path, body string }{
		{"POST", "/api/v1/agents", `{"id":"klara","name":"Klara","phone":"070-174 06 05","lines":["peer"]}`},
		{"POST", "/api/v1/agents/klara/login", ""},
	} {
		if code, out := s.request(r.method, r.path, token, r.body); code >= 300 {
			t.Fatalf("%s %s: %d %s", r.method, r.path, code, out)
		}
	}
	phone := siptest.NewPhone(t, "+46705550101", media.PCMU)
	if transport == "tls" {
		phone.SRTP = media.SRTPRequired
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	call, err := phone.Call(ctx, lineNumber, fmt.Sprintf("127.0.0.1:%d", k.Port))
	if err != nil || call.Status != 200 {
		t.Fatalf("a call to the line through the trunk: %v %+v\n%s", err, call, tail(k.log.String(), 2000))
	}
	k.waitLog(t, "the call relayed to peerline's contact", has("trunk: call to the line relayed to sip:peerline@"), 1)
	k.waitLog(t, "the agent's call authenticated", has("trunk: agent call from "), 1)
	if transport == "tls" {
		for _, want := range []string{"proto=tls", "transport=tls", "authenticated as peerline over tls"} {
			if !strings.Contains(k.log.String(), want) {
				t.Errorf("the trunk did not see %q:\n%s", want, grepLines(k.log.String(), "trunk:"))
			}
		}
	}
	siptest.HearEachOther(t, phone, call, agent)
	// Only now has the agent surely answered: the caller's 200 comes before,
	// with the greeting.
	logged := s.log()
	for _, leg := range []string{"call in", "agent answered"} {
		if l := grepLines(logged, leg); transport == "tls" && !strings.Contains(l, "srtp=true") {
			t.Errorf("the %q leg is not encrypted: %s", leg, l)
		}
	}
	if err := call.Hangup(ctx); err != nil {
		t.Errorf("the caller's BYE: %v\n%s", err, tail(k.log.String(), 2000))
	}
	rec := waitCall(t, s, token, func(r line.Record) bool { return r.Outcome == line.OutcomeAnswered })
	if rec.Agent != "klara" {
		t.Errorf("record: %+v", rec)
	}

	if transport == "tls" {
		renewedOnHangup(t, s, s.SIPTLS, cert, key)
	}
	s.stop()
	k.waitLog(t, "the unregistration at shutdown", has("trunk: REGISTER peerline expires=0"), 1)
	if transport == "udp" {
		wrongPassword(t, k)
	}
}

// renewedOnHangup: a renewed certificate written over the old files is what
// peerline's TLS listener at addr shows the next connection after SIGHUP.
func renewedOnHangup(t *testing.T, s *server, addr, cert, key string) {
	served := func() []byte {
		c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatalf("TLS to peerline: %v", err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].Raw
	}
	before := served()
	renewed, renewedKey, _, _ := siptest.SelfSigned(t, t.TempDir(), "peerline")
	for from, to := range map[string]string{renewed: cert, renewedKey: key} {
		b, _ := os.ReadFile(from)
		os.WriteFile(to, b, 0o600)
	}
	if bytes.Equal(served(), before) == false {
		t.Fatal("the new files were served before SIGHUP")
	}
	s.cmd.Process.Signal(syscall.SIGHUP)
	for deadline := time.Now().Add(10 * time.Second); bytes.Equal(served(), before); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the old certificate is still served after SIGHUP\n%s", tail(s.stderr.String(), 1000))
		}
	}
}

// wrongPassword: a peerline with the wrong trunk password says so once per
// attempt, backs off, shows it on /healthz and in its metrics, and runs on.
func wrongPassword(t *testing.T, k *kamailio) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, fmt.Sprintf(`data_dir: %s
http: {listen: 127.0.0.1:0}
sip:
  listen: ["udp:127.0.0.1:0"]
  trunk: {proxy: "sip:127.0.0.1:%d", register: true, username: %s, password: fel-lösenord}
`, filepath.Join(dir, "data"), k.Port, k.User))
	s := startServer(t, dir, "--config", cfg)
	failures := func(log string) int { return strings.Count(log, "not registered at the trunk") }
	for deadline := time.Now().Add(15 * time.Second); failures(s.stderr.String()) < 2 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	logged := s.log()
	if n := failures(logged); n != 2 || !strings.Contains(logged, "check sip.trunk.username and password") {
		t.Errorf("%d failure lines in the first ~5 s (want 2: the first attempt, the retry 5 s later):\n%s", n, tail(logged, 2000))
	}
	if _, body := s.request("GET", "/healthz", "", ""); !strings.Contains(body, `"trunk":"not registered"`) || !strings.Contains(body, "401") {
		t.Errorf("healthz: %s", body)
	}
	if _, body := s.request("GET", "/metrics", "", ""); !strings.Contains(body, "peerline_trunk_registered 0") {
		t.Errorf("metrics: %s", grepLines(body, "peerline_trunk"))
	}
	if strings.Contains(s.log(), "fel-lösenord") {
		t.Error("the password is in the log")
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
