package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADMEExamples runs the README's API examples (the curl lines between
// the readme-test markers) against a started binary, with the README's own
// shell and dates, so that an example that goes stale fails here.
func TestREADMEExamples(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is not installed")
	}
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(b), "<!-- readme-test")
	block, _, ok2 := strings.Cut(block, "<!-- /readme-test -->")
	if !ok || !ok2 {
		t.Fatal("README.md has no readme-test block")
	}
	var examples []string
	for _, l := range strings.Split(block, "\n") {
		if strings.HasPrefix(l, "curl ") {
			examples = append(examples, l)
		}
	}
	if len(examples) < 5 {
		t.Fatalf("only %d curl examples found", len(examples))
	}
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "data_dir: "+filepath.Join(dir, "data")+"\nhttp: {listen: 127.0.0.1:0}\nsip: {listen: [\"udp:127.0.0.1:0\"]}\n")
	s := startServer(t, dir, "--config", cfg)
	token, _ := peerline(t, dir, "", "token", "create", "kansliet", "--config", cfg) // through the admin socket
	host := strings.TrimPrefix(s.URL, "http://")
	for _, ex := range examples {
		cmd := exec.Command("bash", "-c", strings.ReplaceAll(ex, "localhost:8080", host))
		cmd.Env = append(os.Environ(), "TOKEN="+strings.TrimSpace(token))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s\n%v: %s", ex, err, out)
		}
	}
}
