package e2e

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDefaultsOnAFreshDirectory is the README's first command: no config at all.
func TestDefaultsOnAFreshDirectory(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:8080")
	if err != nil {
		t.Fatalf("the default web address 127.0.0.1:8080 is taken on this machine: %v", err)
	}
	ln.Close()
	pc, err := net.ListenPacket("udp", ":5060")
	if err != nil {
		t.Fatalf("the default SIP port 5060 is taken on this machine: %v", err)
	}
	pc.Close()
	dir := t.TempDir()
	s := startServer(t, dir)
	if s.URL != "http://127.0.0.1:8080" {
		t.Errorf("web address %q", s.URL)
	}
	if code, body := s.request("GET", "/healthz", "", ""); code != 200 || !strings.Contains(body, `"ok"`) {
		t.Errorf("healthz: %d %s", code, body)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "peerline.db")); err != nil {
		t.Errorf("database not created: %v", err)
	}
	s.stop()
}

func TestOfficeClosesTheLineAcrossARestart(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "data_dir: "+filepath.Join(dir, "data")+"\nhttp: {listen: 127.0.0.1:0}\nsip: {listen: [\"udp:127.0.0.1:0\"]}\nlog: {format: json, level: debug}\n")
	token, code := peerline(t, dir, "", "token", "create", "kansliet", "--config", cfg)
	token = strings.TrimSpace(token)
	if code != 0 || !strings.HasPrefix(token, "pl_") {
		t.Fatalf("token create: %d %q", code, token)
	}
	if out, code := peerline(t, dir, "ett långt lösenord\n", "user", "add", "anna", "--role", "admin", "--config", cfg); code != 0 {
		t.Fatalf("user add: %d %s", code, out)
	}

	s := startServer(t, dir, "--config", cfg)
	if code, body := s.request("GET", "/api/v1/lines", "", ""); code != 401 || !strings.Contains(body, `"unauthorized"`) {
		t.Errorf("no token: %d %s", code, body)
	}
	code, body := s.request("POST", "/api/v1/lines/peer/close", token, `{"reason":"Personalmöte","until":"2099-01-01T00:00:00Z"}`)
	if code != 400 || !strings.Contains(body, `"field":"until"`) {
		t.Errorf("until too far: %d %s", code, body)
	}
	code, body = s.request("POST", "/api/v1/lines/peer/close", token, `{"reason":"Personalmöte"}`)
	if code != 200 || !strings.Contains(body, `"reason":"office"`) {
		t.Fatalf("close: %d %s", code, body)
	}
	// The CLI works beside the service (through its admin socket); a second
	// service on the same data directory is refused with a clear error.
	if out, code := peerline(t, dir, "", "token", "list", "--config", cfg); code != 0 || !strings.Contains(out, "kansliet\toffice") {
		t.Errorf("token list beside the service: %d %s", code, out)
	}
	if out, code := peerline(t, dir, "", "serve", "--config", cfg); code != 1 || !strings.Contains(out, "in use by another peerline") {
		t.Errorf("second service: %d %s", code, out)
	}
	s.stop()
	if logged := s.log(); strings.Contains(logged, "ett långt lösenord") || strings.Contains(logged, token) {
		t.Error("the log holds a password or a token")
	}

	s = startServer(t, dir, "--config", cfg)
	if code, body := s.request("GET", "/api/v1/lines/peer", token, ""); code != 200 || !strings.Contains(body, `"reason":"office"`) ||
		!strings.Contains(body, `"Personalmöte"`) {
		t.Errorf("override lost in the restart: %d %s", code, body)
	}
	_, body = s.request("GET", "/api/v1/audit", token, "")
	for _, want := range []string{`"action":"line.close"`, `"name":"kansliet"`, `"action":"token.create"`, `"action":"user.add"`, `"remote":"127.0.0.1"`} {
		if !strings.Contains(body, want) {
			t.Errorf("audit lacks %s: %s", want, body)
		}
	}
	if code, body := s.request("DELETE", "/api/v1/lines/peer/override", token, ""); code != 200 || strings.Contains(body, `"reason":"office"`) {
		t.Errorf("delete override: %d %s", code, body)
	}
	if code, body := s.request("GET", "/metrics", "", ""); code != 200 || !strings.Contains(body, `peerline_line_open{line="peer"}`) {
		t.Errorf("metrics: %d", code)
	}
}

func TestConfigCheckAndPrint(t *testing.T) {
	dir := t.TempDir()
	testdata, err := filepath.Abs("../../config/testdata")
	if err != nil {
		t.Fatal(err)
	}
	out, code := peerline(t, dir, "", "config", "check", filepath.Join(testdata, "three-mistakes.yaml"))
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	for _, want := range []string{
		`three-mistakes.yaml:7: lines[0].hours.open: "25:00" is not a time of day`,
		`three-mistakes.yaml:8: lines[0].hours.dayz: unknown field`,
		`three-mistakes.yaml:10: lines[0].calls.limit: "twenty minutes" is not a duration`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if out, code := peerline(t, dir, "", "config", "check", filepath.Join(testdata, "two-lines.yaml")); code != 0 || !strings.Contains(out, "ok") {
		t.Errorf("good config: %d %s", code, out)
	}
	// Everything serve would refuse or ignore, at once: a port out of range, a
	// transport serve lacks, a prompt file whose name is no prompt's.
	prompts := filepath.Join(dir, "prompts")
	os.Mkdir(prompts, 0o700)
	os.WriteFile(filepath.Join(prompts, "greting.wav"), []byte("RIFF"), 0o600)
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("http: {listen: '127.0.0.1:99999'}\nsip: {listen: ['tls:0.0.0.0:5061']}\nlines:\n  - id: peer\n    numbers: ['+46812345678']\n    prompts: "+prompts+"\n"), 0o600)
	out, code = peerline(t, dir, "", "config", "check", bad)
	for _, want := range []string{"bad.yaml:1: http.listen", "bad.yaml:2: sip.listen[0]", `bad.yaml:6: lines[0].prompts: ` + prompts + `/greting.wav: no prompt is called "greting"`} {
		if code != 1 || !strings.Contains(out, want) {
			t.Errorf("missing %q (exit %d) in:\n%s", want, code, out)
		}
	}
	out, code = peerline(t, dir, "", "config", "print", "--config", filepath.Join(testdata, "two-lines.yaml"))
	if code != 0 || strings.Contains(out, "s3cret") || !strings.Contains(out, "password: '********'") || !strings.Contains(out, "Kvällslinjen") {
		t.Errorf("print: %d\n%s", code, out)
	}
	if out, code := peerline(t, dir, "", "frobnicate"); code != 2 || !strings.Contains(out, "usage") {
		t.Errorf("unknown command: %d %s", code, out)
	}
}
