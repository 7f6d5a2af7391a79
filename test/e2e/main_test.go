// Package e2e drives the built peerline binary from outside, as a user would.
package e2e

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var peerlineBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "peerline-e2e")
	if err != nil {
		panic(err)
	}
	peerlineBin = filepath.Join(dir, "peerline")
	flags := []string{"build", "-race", "-o", peerlineBin}
	if os.Getenv("PEERLINE_LOAD") != "" {
		flags = flags[:1:1] // measure the binary as it ships, without the race detector
		flags = append(flags, "-o", peerlineBin)
	}
	build := exec.Command("go", append(flags, "github.com/peerline/peerline/cmd/peerline")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building peerline:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// peerline runs a one-shot command and returns its output and exit code.
func peerline(t *testing.T, dir, stdin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(peerlineBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PEERLINE_CONFIG=")
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

// server is a running `peerline serve`.
type server struct {
	t      *testing.T
	cmd    *exec.Cmd
	URL    string      // the web address, http://...
	SIP    string      // the first SIP listener, host:port
	SIPTCP string      // the first SIP listener over TCP, host:port, if any
	SIPTLS string      // the first SIP listener over TLS, host:port, if any
	out    *syncBuffer // what it printed on stdout
	stderr *syncBuffer
}

// syncBuffer is a buffer the process writes while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.buf.String() }

// startServer starts peerline serve in dir and waits for it to print its web address.
func startServer(t *testing.T, dir string, args ...string) *server {
	t.Helper()
	return startServerTo(t, dir, nil, args...)
}

// startServerTo is startServer with the server's log going to stderr
// instead of the server's buffer, when not nil.
func startServerTo(t *testing.T, dir string, stderr io.Writer, args ...string) *server {
	t.Helper()
	cmd := exec.Command(peerlineBin, append([]string{"serve"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PEERLINE_CONFIG=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, cmd: cmd, stderr: &syncBuffer{}, out: &syncBuffer{}}
	cmd.Stderr = s.stderr
	if stderr != nil {
		cmd.Stderr = stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stop)
	found := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		var web string
		for sc.Scan() {
			fmt.Fprintln(s.out, sc.Text())
			line := strings.TrimSpace(sc.Text())
			if u, ok := strings.CutPrefix(line, "web:"); ok {
				web = strings.TrimSuffix(strings.TrimSpace(u), "/")
			}
			if a, ok := strings.CutPrefix(line, "sip:"); ok {
				first, _, _ := strings.Cut(strings.TrimSpace(a), ",")
				_, hostPort, _ := strings.Cut(first, ":")
				for _, l := range strings.Split(a, ",") {
					if tcp, ok := strings.CutPrefix(strings.TrimSpace(l), "tcp:"); ok && s.SIPTCP == "" {
						s.SIPTCP = tcp
					}
					if tls, ok := strings.CutPrefix(strings.TrimSpace(l), "tls:"); ok && s.SIPTLS == "" {
						s.SIPTLS = tls
					}
				}
				found <- [2]string{web, hostPort}
			}
		}
		io.Copy(s.out, stdout)
	}()
	select {
	case f := <-found:
		s.URL, s.SIP = f[0], f[1]
	case <-time.After(30 * time.Second):
		t.Fatalf("peerline did not print its addresses; stderr:\n%s", s.stderr)
	}
	return s
}

// log is what the server has logged so far, every line logged before the
// call included. peerline writes its log from a goroutine of its own, in
// order (logging.Queue): once a request's own log line is there, so is
// everything logged before it.
func (s *server) log() string {
	s.t.Helper()
	if s.cmd.ProcessState != nil { // stopped: the queue wrote its last lines on the way out
		return s.stderr.String()
	}
	mark := "/log-mark-" + letters(rand.Int())
	s.request("GET", mark, "", "")
	for i := 0; i < 500 && !strings.Contains(s.stderr.String(), mark); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(s.stderr.String(), mark) {
		s.t.Fatalf("peerline did not log the request %s:\n%s", mark, tail(s.stderr.String(), 2000))
	}
	return s.stderr.String()
}

// letters writes n in letters, for marks in the log: it masks runs of digits.
func letters(n int) string {
	b := []byte{}
	for {
		b = append(b, byte('a'+n%26))
		n /= 26
		if n == 0 {
			return string(b)
		}
	}
}

// stdout is what the server printed so far.
func (s *server) stdout() string { return s.out.String() }

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop() {
	if s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			s.t.Errorf("peerline exited with %v; stderr:\n%s", err, s.stderr)
		}
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		s.t.Errorf("peerline did not stop on SIGTERM")
	}
}

func (s *server) request(method, path, token, body string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := s.client().Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// client is the HTTP client for the server: over HTTPS it trusts the
// server's certificate, whatever it is (the tests make their own).
func (s *server) client() *http.Client {
	if strings.HasPrefix(s.URL, "https:") {
		return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return http.DefaultClient
}

func writeConfig(t *testing.T, dir, body string) string {
	t.Helper()
	name := filepath.Join(dir, "peerline.yaml")
	if err := os.WriteFile(name, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}
