package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLoadBridgedCalls is the SIPp load run behind `make load`: PEERLINE_LOAD
// calls (default 200), PEERLINE_LOAD_CONCURRENT at once (default 50), each bridged
// to an agent with recorded speech both ways for 10 s. It reports peerline's CPU
// time, peak memory and SIPp's failed calls; it asserts only that none failed.
func TestLoadBridgedCalls(t *testing.T) {
	if os.Getenv("PEERLINE_LOAD") == "" {
		t.Skip("a load run, not a test: make load")
	}
	calls, concurrent := envInt("PEERLINE_LOAD", 200), envInt("PEERLINE_LOAD_CONCURRENT", 50)
	dir := t.TempDir()
	// More agents than calls at once: an agent is free again only after the BYE
	// to their phone is answered.
	s, token, port := agentsOnDuty(t, dir, concurrent+10, "20000-29998")
	agentCmd, cancel := sippCmd(t, dir, "agent-answers.xml", "-p", strconv.Itoa(port), "-mp", strconv.Itoa(freeMediaPorts(t, concurrent+10)),
		"-m", strconv.Itoa(calls))
	defer cancel()
	if err := agentCmd.Start(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	code, out := sipp(t, dir, "caller-bridged.xml", s.SIP, "-s", "peer", "-m", strconv.Itoa(calls),
		"-l", strconv.Itoa(concurrent), "-r", strconv.Itoa(concurrent), "-mp", strconv.Itoa(freeMediaPorts(t, concurrent+10)), "-d", "10000",
		"-trace_stat", "-stf", filepath.Join(dir, "stat.csv"), "-fd", "1")
	wall := time.Since(start)
	acode, aout := sippResult(t, dir, "agent-answers.xml", agentCmd, agentCmd.Wait())
	cpu, rss := procUsage(t, s.cmd.Process.Pid)
	_, body := s.request("GET", "/api/v1/lines/peer/calls", token, "")
	_, metrics := s.request("GET", "/metrics", "", "")
	t.Logf("%d calls, %d at once, 10 s each: %s wall, peerline CPU %.2f s, peak RSS %d MB, answered records %d, %s",
		calls, concurrent, wall.Round(time.Millisecond), cpu, rss>>20, strings.Count(body, `"outcome":"answered"`),
		grepLine(metrics, "peerline_rtp_relayed_packets_total "))
	t.Logf("callers' SIPp:\n%s", tail(out, 2500))
	if code != 0 || acode != 0 {
		t.Fatalf("callers' sipp exit %d, agents' exit %d:\n%s\npeerline:\n%s", code, acode, tail(aout, 2000), tail(s.stderr.String(), 2000))
	}
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// procUsage is a process's CPU time so far (user + system, seconds) and its peak
// resident memory (bytes), from /proc.
func procUsage(t *testing.T, pid int) (float64, int64) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	var kb int64
	for _, l := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
		}
	}
	return (utime + stime) / 100, kb << 10 // clock ticks are 1/100 s on Linux
}
