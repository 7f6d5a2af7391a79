package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerline/peerline/pbx/media/mediatest"
)

// sipp runs SIPp against target with a scenario from testdata, bounded in time,
// and returns its exit code (0: every call passed) and output.
func sipp(t *testing.T, dir, scenario, target string, args ...string) (int, string) {
	t.Helper()
	if _, err := exec.LookPath("sipp"); err != nil {
		t.Fatal("sipp is not installed; `make check` installs Debian's sip-tester")
	}
	sf, _ := filepath.Abs(filepath.Join("testdata", scenario))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	all := append([]string{"-sf", sf, "-i", "127.0.0.1", "-nostdin", "-timeout", "90s", "-timeout_error",
		"-recv_timeout", "20s", "-trace_err", "-error_file", filepath.Join(dir, scenario+".errors.log")}, args...)
	cmd := exec.CommandContext(ctx, "sipp", append(all, target)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	errs, _ := os.ReadFile(filepath.Join(dir, scenario+".errors.log"))
	return code, string(out) + string(errs)
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
