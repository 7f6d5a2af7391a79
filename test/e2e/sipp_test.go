package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/peerline/peerline/pbx/media/mediatest"
)

// sipp runs SIPp against target with a scenario from testdata, bounded in time,
// and returns its exit code (0: every call passed) and output.
func sipp(t *testing.T, dir, scenario, target string, args ...string) (int, string) {
	t.Helper()
	cmd, cancel := sippCmd(t, dir, scenario, append(args, target)...)
	defer cancel()
	return sippResult(t, dir, scenario, cmd, cmd.Run())
}

// sippCmd prepares a SIPp run of scenario (in testdata) in dir; the run is
// bounded in time.
func sippCmd(t *testing.T, dir, scenario string, args ...string) (*exec.Cmd, context.CancelFunc) {
	t.Helper()
	if _, err := exec.LookPath("sipp"); err != nil {
		t.Fatal("sipp is not installed; `make check` installs Debian's sip-tester")
	}
	sf, _ := filepath.Abs(filepath.Join("testdata", scenario))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	all := append([]string{"-sf", sf, "-i", "127.0.0.1", "-nostdin", "-timeout", "90s", "-timeout_error",
		"-recv_timeout", "20s", "-trace_err", "-error_file", filepath.Join(dir, scenario+".errors.log")}, args...)
	cmd := exec.CommandContext(ctx, "sipp", all...)
	cmd.Dir = dir
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	return cmd, cancel
}

// sippResult is SIPp's exit code and what it printed, with its error log.
func sippResult(t *testing.T, dir, scenario string, cmd *exec.Cmd, err error) (int, string) {
	t.Helper()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	errs, _ := os.ReadFile(filepath.Join(dir, scenario+".errors.log"))
	return code, cmd.Stdout.(*syncBuffer).String() + string(errs)
}

// shortPrompts writes a folder of short tone prompts, so a run of calls is quick.
func shortPrompts(t *testing.T, dir string) string {
	p := filepath.Join(dir, "prompts")
	os.Mkdir(p, 0o700)
	for _, name := range []string{"closed-hours", "closed-today", "closed-holiday", "no-agents", "greeting"} {
		os.WriteFile(filepath.Join(p, name+".wav"), mediatest.ToneWAV(1000, 500*time.Millisecond), 0o600)
	}
	return p
}

func TestSIPpCallersToAClosedLine(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, fmt.Sprintf(`data_dir: %s
http: {listen: 127.0.0.1:0}
sip: {listen: ["udp:127.0.0.1:0"], rtp_ports: "34000-34998"}
lines: [{id: peer, numbers: [peer], prompts: %s}]
`, filepath.Join(dir, "data"), shortPrompts(t, dir)))
	token, _ := peerline(t, dir, "", "token", "create", "kansliet", "--config", cfg)
	token = strings.TrimSpace(token)
	s := startServer(t, dir, "--config", cfg)
	if code, body := s.request("POST", "/api/v1/lines/peer/close", token, `{"reason":"Test"}`); code != 200 {
		t.Fatalf("close: %d %s", code, body)
	}
	if code, out := sipp(t, dir, "caller-announcement.xml", s.SIP, "-s", "peer", "-m", "20", "-l", "10", "-r", "20"); code != 0 {
		t.Fatalf("sipp exit %d:\n%s\npeerline:\n%s", code, tail(out, 3000), tail(s.stderr.String(), 3000))
	}
	// SIPp is done when it has answered our BYE; the record is written just after.
	var body string
	for i := 0; i < 100 && strings.Count(body, `"outcome":"closed"`) < 20; i++ {
		time.Sleep(20 * time.Millisecond)
		_, body = s.request("GET", "/api/v1/lines/peer/calls", token, "")
	}
	if strings.Count(body, `"outcome":"closed"`) != 20 || strings.Contains(body, "701234567") {
		t.Errorf("records after 20 calls: %s", tail(body, 500))
	}
	if strings.Contains(s.stderr.String(), "701234567") {
		t.Error("the log holds the caller's number")
	}
}

func TestSIPpForeignSourceGets403(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, fmt.Sprintf(`data_dir: %s
http: {listen: 127.0.0.1:0}
sip: {listen: ["udp:127.0.0.1:0"], trunk: {allow: ["192.0.2.10/32"]}}
`, filepath.Join(dir, "data")))
	s := startServer(t, dir, "--config", cfg)
	if code, out := sipp(t, dir, "caller-forbidden.xml", s.SIP, "-s", "peer", "-m", "1"); code != 0 {
		t.Fatalf("sipp exit %d:\n%s", code, tail(out, 3000))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// freeUDPPort is a UDP port on 127.0.0.1 that was free a moment ago.
func freeUDPPort(t *testing.T) int {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	return pc.LocalAddr().(*net.UDPAddr).Port
}

// TestSIPpCallersTalkToAgents runs SIPp as callers and SIPp as the agents'
// softphones against the built binary: 20 calls, each bridged with recorded
// speech both ways, and nothing of either side's number crosses over.
func TestSIPpCallersTalkToAgents(t *testing.T) {
	const calls = 20
	dir := t.TempDir()
	s, token, port := agentsOnDuty(t, dir, 6, "35000-35998")
	agentCmd, cancel := sippCmd(t, dir, "agent-answers.xml", "-p", strconv.Itoa(port), "-mp", "38000",
		"-m", strconv.Itoa(calls), "-trace_msg", "-message_file", filepath.Join(dir, "agent.msg"))
	defer cancel()
	if err := agentCmd.Start(); err != nil {
		t.Fatal(err)
	}
	code, out := sipp(t, dir, "caller-bridged.xml", s.SIP, "-s", "peer", "-m", strconv.Itoa(calls), "-l", "4", "-r", "4",
		"-mp", "36000", "-d", "1200", "-trace_msg", "-message_file", filepath.Join(dir, "caller.msg"))
	if code != 0 {
		agentCmd.Process.Kill()
		t.Fatalf("callers' sipp exit %d:\n%s\npeerline:\n%s", code, tail(out, 3000), tail(s.stderr.String(), 3000))
	}
	if acode, aout := sippResult(t, dir, "agent-answers.xml", agentCmd, agentCmd.Wait()); acode != 0 {
		t.Fatalf("agents' sipp exit %d:\n%s", acode, tail(aout, 3000))
	}
	var body string
	for i := 0; i < 100 && strings.Count(body, `"outcome":"answered"`) < calls; i++ {
		time.Sleep(20 * time.Millisecond)
		_, body = s.request("GET", "/api/v1/lines/peer/calls", token, "")
	}
	if n := strings.Count(body, `"outcome":"answered"`); n != calls {
		t.Errorf("%d answered records after %d calls: %s", n, calls, tail(body, 500))
	}
	_, metrics := s.request("GET", "/metrics", "", "")
	relayed, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimPrefix(grepLine(metrics, "peerline_rtp_relayed_packets_total "), "peerline_rtp_relayed_packets_total")), 64)
	t.Logf("%v RTP packets relayed", relayed)
	if relayed < calls*2*20 { // a second of speech each way is about 33 packets
		t.Errorf("%v RTP packets relayed for %d calls", relayed, calls)
	}
	agentSaw, _ := os.ReadFile(filepath.Join(dir, "agent.msg"))
	callerSaw, _ := os.ReadFile(filepath.Join(dir, "caller.msg"))
	if !strings.Contains(string(agentSaw), "INVITE sip:") || !strings.Contains(string(callerSaw), "SIP/2.0 200 OK") {
		t.Fatal("SIPp traced no messages: the privacy checks below would prove nothing")
	}
	if strings.Contains(string(agentSaw), "701234567") {
		t.Error("the agents' phones saw the caller's number")
	}
	for _, trace := range []string{"1740610", "1740605", "SIPp agent", strconv.Itoa(port), "a0@"} {
		if strings.Contains(string(callerSaw), trace) {
			t.Errorf("the caller saw %q of the agents' side", trace)
		}
	}
	if strings.Contains(s.stderr.String(), "701234567") || strings.Contains(s.stderr.String(), "1740610") {
		t.Error("the log holds a phone number")
	}
}

// agentsOnDuty starts peerline with the line open and n agents logged in, all
// reached at one SIPp playing their softphones on the returned port.
func agentsOnDuty(t *testing.T, dir string, n int, rtpPorts string) (*server, string, int) {
	cfg := writeConfig(t, dir, fmt.Sprintf(`data_dir: %s
http: {listen: 127.0.0.1:0}
sip: {listen: ["udp:127.0.0.1:0"], rtp_ports: "%s"}
lines: [{id: peer, numbers: [peer], prompts: %s}]
`, filepath.Join(dir, "data"), rtpPorts, shortPrompts(t, dir)))
	token, _ := peerline(t, dir, "", "token", "create", "kansliet", "--config", cfg)
	token = strings.TrimSpace(token)
	s := startServer(t, dir, "--config", cfg)
	if code, body := s.request("POST", "/api/v1/lines/peer/open", token, `{"reason":"e2e"}`); code != 200 {
		t.Fatalf("open: %d %s", code, body)
	}
	port := freeUDPPort(t)
	for i := range n {
		body := fmt.Sprintf(`{"id":"a%d","name":"Agent %d","phone":"070-174 06 %02d","sip_uri":"sip:a%d@127.0.0.1:%d","lines":["peer"]}`, i, i, 10+i, i, port)
		if code, out := s.request("POST", "/api/v1/agents", token, body); code != 201 {
			t.Fatalf("agent: %d %s", code, out)
		}
		if code, out := s.request("POST", fmt.Sprintf("/api/v1/agents/a%d/login", i), token, ""); code != 200 {
			t.Fatalf("log-in: %d %s", code, out)
		}
	}
	return s, token, port
}

// grepLine is the first line of s that starts with prefix.
func grepLine(s, prefix string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}
