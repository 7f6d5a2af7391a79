package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/sip/siptest"
)

// TestStalledLogStopsNoCall: peerline's log goes to a pipe that nobody reads,
// as to a journal that hangs. Once the pipe is full, requests are still
// answered and a caller still gets through; what was logged meanwhile is
// written, in order, when the pipe moves again.
func TestStalledLogStopsNoCall(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, fmt.Sprintf("data_dir: %s\nhttp: {listen: 127.0.0.1:0}\nsip: {listen: [\"udp:127.0.0.1:0\"]}\nlog: {format: json, level: info}\n",
		filepath.Join(dir, "data")))
	token, _ := peerline(t, dir, "", "token", "create", "kansliet", "--config", cfg)
	token = strings.TrimSpace(token)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	s := startServerTo(t, dir, w, "--config", cfg)
	w.Close() // the server has its own copy

	// Each request logs a line of about 150 bytes: 2,000 are several times
	// what the pipe holds (64 KB).
	const requests = 2000
	done := make(chan error, 1)
	go func() { // s.request fails the test from its own goroutine only
		for i := range requests {
			res, err := s.client().Get(s.URL + "/stall/" + letters(i))
			if err != nil {
				done <- err
				return
			}
			res.Body.Close()
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second): // a bound for a hang, not a measure
		t.Fatal("requests stopped while the log output was full")
	}
	if code, body := s.request("POST", "/api/v1/lines/peer/open", token, openForTest()); code != 200 {
		t.Fatalf("open: %d %s", code, body)
	}
	phone := siptest.NewPhone(t, "+46705550101", media.PCMU)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	call, err := phone.Call(ctx, "peer", s.SIP)
	if err != nil || call.Status != 200 {
		t.Fatalf("a call while the log output was full: %v %+v", err, call)
	}
	call.Hangup(ctx)

	var log bytes.Buffer
	read := make(chan struct{})
	go func() { io.Copy(&log, r); close(read) }()
	s.stop()
	<-read // the server's end closed: everything it wrote is here
	out := log.String()
	last := strings.Index(out, "/stall/"+letters(requests-1)+`"`)
	callIn := strings.Index(out, `"message":"call in"`)
	if last < 0 || callIn < last {
		t.Errorf("the log lost or reordered what was logged while it was full (last request at %d, call at %d):\n%s", last, callIn, tail(out, 2000))
	}
	if strings.Contains(out, "log events dropped") {
		t.Errorf("events were dropped, though they fit in the queue:\n%s", grepLines(out, "dropped"))
	}
}
