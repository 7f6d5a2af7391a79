package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	sf := scenario
	if !filepath.IsAbs(sf) {
		sf, _ = filepath.Abs(filepath.Join("testdata", scenario))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	all := append([]string{"-sf", sf, "-i", "127.0.0.1", "-nostdin", "-timeout", "90s", "-timeout_error",
		"-recv_timeout", "20s", "-trace_err", "-error_file", filepath.Join(dir, filepath.Base(scenario)+".errors.log")}, args...)
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
	errs, _ := os.ReadFile(filepath.Join(dir, filepath.Base(scenario)+".errors.log"))
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
	if strings.Contains(s.log(), "701234567") {
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

// freeMediaPorts is the first of n even UDP ports (each with the odd one after
// it, for RTCP) on 127.0.0.1 that were free a moment ago, for SIPp's -mp: SIPp
// takes one pair per call from there. They are picked at random above the
// kernel's ephemeral ports where there is room (so no socket bound to port 0
// takes one between the pick and SIPp's bind), else (no room there, or none
// left by the ranges given before) above 50000; no test's peerline takes its
// RTP ports there.
func freeMediaPorts(t *testing.T, n int) int {
	t.Helper()
	mediaPorts.Lock()
	defer mediaPorts.Unlock()
	high := 50000
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		var first, last int
		if _, err := fmt.Sscan(string(b), &first, &last); err == nil && last+1+2*n+100 < 65000 {
			high = max(high, last+1)
		}
	}
	for i := range 200 {
		lo := high
		if i >= 100 {
			lo = 50000
		}
		lo += lo % 2
		base := lo + 2*rand.IntN((65000-lo-2*n)/2)
		free := !slices.ContainsFunc(mediaPorts.given, func(r [2]int) bool { return base < r[1] && r[0] < base+2*n })
		var held []net.PacketConn
		for p := base; p < base+2*n && free; p++ {
			pc, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				free = false
				break
			}
			held = append(held, pc)
		}
		for _, pc := range held {
			pc.Close()
		}
		if free {
			mediaPorts.given = append(mediaPorts.given, [2]int{base, base + 2*n})
			return base
		}
	}
	t.Fatalf("no %d free media ports", n)
	return 0
}

// mediaPorts are the ranges freeMediaPorts gave out, so that two SIPp of one
// run never share one.
var mediaPorts struct {
	sync.Mutex
	given [][2]int
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
	agentCmd, cancel := sippCmd(t, dir, "agent-answers.xml", "-p", strconv.Itoa(port), "-mp", strconv.Itoa(freeMediaPorts(t, 40)),
		"-m", strconv.Itoa(calls), "-trace_msg", "-message_file", filepath.Join(dir, "agent.msg"))
	defer cancel()
	if err := agentCmd.Start(); err != nil {
		t.Fatal(err)
	}
	code, out := sipp(t, dir, "caller-bridged.xml", s.SIP, "-s", "peer", "-m", strconv.Itoa(calls), "-l", "4", "-r", "4",
		"-mp", strconv.Itoa(freeMediaPorts(t, 40)), "-d", "1200", "-trace_msg", "-message_file", filepath.Join(dir, "caller.msg"))
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
	// The agents' port as an address (":37150"), not any digits: SIPp's own
	// Call-IDs carry its process id, which may be the same number.
	// 1740605: the number the agents' SIPp asserts (P-Asserted-Identity) in its answers.
	for _, trace := range append(agentNumbersSoFar(), "1740605", "SIPp agent", ":"+strconv.Itoa(port), "a0@") {
		if strings.Contains(string(callerSaw), trace) {
			t.Errorf("the caller saw %q of the agents' side", trace)
		}
	}
	logged := s.log()
	for _, n := range append(agentNumbersSoFar(), "701234567") {
		if strings.Contains(logged, n) {
			t.Errorf("the log holds the number %s", n)
		}
	}
}

// agentsOnDuty starts peerline with the line open and n agents logged in, all
// reached at one SIPp playing their softphones on the returned port.
func agentsOnDuty(t *testing.T, dir string, n int, rtpPorts string) (*server, string, int) {
	return agentsOnDutySIP(t, dir, n, rtpPorts, "")
}

// agentsOnDutySIP is agentsOnDuty with more sip settings (YAML flow mapping
// entries, may be empty).
func agentsOnDutySIP(t *testing.T, dir string, n int, rtpPorts, sipOpts string) (*server, string, int) {
	s, token := openLineSIP(t, dir, rtpPorts, sipOpts, "")
	port := freeUDPPort(t)
	for i := range n {
		onDuty(t, s, token, fmt.Sprintf("a%d", i), port)
	}
	return s, token, port
}

// openLine starts peerline with short prompts, no wrap-up form (SIPp's agents
// answer none), the line's settings opts (YAML flow mapping entries, may be
// empty) and the line opened by the office.
func openLine(t *testing.T, dir, rtpPorts, opts string) (*server, string) {
	return openLineSIP(t, dir, rtpPorts, "", opts)
}

// openLineSIP is openLine with more sip settings (sipOpts, as opts).
func openLineSIP(t *testing.T, dir, rtpPorts, sipOpts, opts string) (*server, string) {
	if opts != "" {
		opts = ", " + opts
	}
	if sipOpts != "" {
		sipOpts = ", " + sipOpts
	}
	cfg := writeConfig(t, dir, fmt.Sprintf(`data_dir: %s
http: {listen: 127.0.0.1:0}
sip: {listen: ["udp:127.0.0.1:0"], rtp_ports: "%s"%s}
lines: [{id: peer, numbers: [peer], prompts: %s, wrapup: {questions: [], cooldown: 0s}%s}]
`, filepath.Join(dir, "data"), rtpPorts, sipOpts, shortPrompts(t, dir), opts))
	return serveOpen(t, dir, cfg)
}

// openForTest is the office's override that opens the line for a test: for
// three hours, not until midnight (the default), so that a run across
// midnight in Stockholm does not find the line closed for the night.
func openForTest() string {
	return `{"reason":"e2e","until":"` + time.Now().Add(3*time.Hour).Format(time.RFC3339) + `"}`
}

// serveOpen starts peerline with config file cfg, makes the office a token and
// opens the line, so that a test runs at any hour on any day.
func serveOpen(t *testing.T, dir, cfg string) (*server, string) {
	t.Helper()
	token, _ := peerline(t, dir, "", "token", "create", "kansliet", "--config", cfg)
	token = strings.TrimSpace(token)
	s := startServer(t, dir, "--config", cfg)
	if code, body := s.request("POST", "/api/v1/lines/peer/open", token, openForTest()); code != 200 {
		t.Fatalf("open: %d %s", code, body)
	}
	return s, token
}

var agentNumbers atomic.Int32

// agentNumber is the n-th number onDuty gives an agent (070 100 00 01 ...),
// without its leading 0 or +46: how a trace would hold it either way.
func agentNumber(n int32) string { return fmt.Sprintf("70%07d", 1000000+n) }

// agentNumbersSoFar are every agent number onDuty has handed out.
func agentNumbersSoFar() []string {
	var out []string
	for n := int32(1); n <= agentNumbers.Load(); n++ {
		out = append(out, agentNumber(n))
	}
	return out
}

// onDuty adds agent id, reached at a SIPp softphone on port, and logs them in.
func onDuty(t *testing.T, s *server, token, id string, port int) {
	t.Helper()
	n := agentNumbers.Add(1) // a distinct placeholder number per agent
	body := fmt.Sprintf(`{"id":"%s","name":"Agent %s","phone":"0%s","sip_uri":"sip:%s@127.0.0.1:%d","lines":["peer"]}`, id, id, agentNumber(n), id, port)
	if code, out := s.request("POST", "/api/v1/agents", token, body); code != 201 {
		t.Fatalf("agent: %d %s", code, out)
	}
	if code, out := s.request("POST", "/api/v1/agents/"+id+"/login", token, ""); code != 200 {
		t.Fatalf("log-in: %d %s", code, out)
	}
}

// TestSIPpBusyLine runs five SIPp callers at once against two agents: one
// answers slowly, the other refuses every call. The refusals log that agent out
// after max_missed; the callers queue for the other one. Every caller is put
// through or told, and the records add up.
func TestSIPpBusyLine(t *testing.T) {
	const callers = 5
	dir := t.TempDir()
	s, token := openLine(t, dir, "39000-39998", "calls: {ring_timeout: 3s, max_missed: 3}, queue: {max_wait: 15s, announce_every: 10s}")
	slowPort, refusePort := freeUDPPort(t), freeUDPPort(t)
	onDuty(t, s, token, "slow", slowPort) // logged in first: the longest idle
	onDuty(t, s, token, "refuser", refusePort)
	slow, cancelSlow := sippCmd(t, dir, "agent-slow.xml", "-p", strconv.Itoa(slowPort), "-mp", strconv.Itoa(freeMediaPorts(t, 10)))
	defer cancelSlow()
	refuser, cancelRefuser := sippCmd(t, dir, "agent-refuses.xml", "-p", strconv.Itoa(refusePort), "-mp", strconv.Itoa(freeMediaPorts(t, 10)))
	defer cancelRefuser()
	for _, c := range []*exec.Cmd{slow, refuser} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	code, out := sipp(t, dir, "caller-waits.xml", s.SIP, "-s", "peer", "-m", strconv.Itoa(callers), "-l", strconv.Itoa(callers),
		"-r", strconv.Itoa(callers), "-mp", strconv.Itoa(freeMediaPorts(t, 10)))
	if code != 0 {
		t.Fatalf("callers' sipp exit %d:\n%s\npeerline:\n%s", code, tail(out, 3000), tail(s.stderr.String(), 3000))
	}
	var recs struct {
		Calls []struct {
			Outcome string  `json:"outcome"`
			Agent   string  `json:"agent"`
			Wait    float64 `json:"wait_seconds"`
		} `json:"calls"`
	}
	for i := 0; i < 100 && len(recs.Calls) < callers; i++ {
		time.Sleep(20 * time.Millisecond)
		_, body := s.request("GET", "/api/v1/lines/peer/calls", token, "")
		json.Unmarshal([]byte(body), &recs)
	}
	outcomes := map[string]int{}
	for _, r := range recs.Calls {
		outcomes[r.Outcome]++
		if r.Outcome == "answered" && r.Agent != "slow" {
			t.Errorf("answered by %q", r.Agent)
		}
		if r.Outcome == "queue_timeout" && (r.Wait < 15 || r.Wait > 17) {
			t.Errorf("a queue timeout after %.1f s, want max_wait (15 s)", r.Wait)
		}
	}
	t.Logf("outcomes: %v", outcomes)
	if len(recs.Calls) != callers || outcomes["answered"] == 0 || outcomes["answered"]+outcomes["queue_timeout"] != callers {
		t.Errorf("records: %+v, want %d, each answered or timed out in the queue", recs.Calls, callers)
	}
	_, agent := s.request("GET", "/api/v1/agents/refuser", token, "")
	if !strings.Contains(agent, `"presence":null`) {
		t.Errorf("the agent who refused every call is still logged in: %s", agent)
	}
	// A message sipgo cannot parse is logged whole: masked like every other line.
	conn, err := net.Dial("udp", s.SIP)
	if err != nil {
		t.Fatal(err)
	}
	conn.Write([]byte("BYE  SIP/2.0\r\nFrom: <sip:+46701234567@127.0.0.1>;tag=1\r\nCall-ID: x\r\nCSeq: 1 BYE\r\n\r\n"))
	conn.Close()
	for i := 0; i < 100 && !strings.Contains(s.stderr.String(), "failed to parse"); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if log := s.log(); !strings.Contains(log, "failed to parse") || strings.Contains(log, "701234567") {
		t.Errorf("an unparsable message with a number is not in the log masked:\n%s", tail(log, 1000))
	}
	_, metrics := s.request("GET", "/metrics", "", "")
	if grepLine(metrics, `peerline_queue_callers{line="peer"}`) != `peerline_queue_callers{line="peer"} 0` ||
		!strings.Contains(metrics, `peerline_queue_wait_seconds_count{line="peer"}`) {
		t.Errorf("queue metrics after the run:\n%s", grepLine(metrics, "peerline_queue"))
	}
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
