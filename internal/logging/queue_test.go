package logging_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/logging"
)

// lockedBuffer is an output the test reads while the queue writes it; it
// blocks every write while held.
type lockedBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	hold chan struct{} // while open and non-nil, writes wait for it to close
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	hold := b.hold
	b.mu.Unlock()
	if hold != nil {
		<-hold
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.buf.String() }

func queued(t *testing.T, format string, out *lockedBuffer) (*logging.Queue, func(level string, fields map[string]any, msg string)) {
	t.Helper()
	log, q, err := logging.NewQueued(config.Log{Level: "info", Format: format}, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q, func(level string, fields map[string]any, msg string) {
		ev := log.Info()
		if level == "error" {
			ev = log.Error()
		}
		ev.Fields(fields).Msg(msg)
	}
}

// callsLog has 4 goroutines log n "call in" events each, numbered (g, i),
// with a number to mask; wait waits for them.
func callsLog(logf func(string, map[string]any, string), n int) (wait func()) {
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range n {
				logf("info", map[string]any{"g": g, "i": i, "from": "+46701234533"}, "call in")
			}
		})
	}
	return wg.Wait
}

// TestQueueKeepsOrderAndMasks: events from several goroutines are all
// written once the queue closes, each goroutine's in its order, masked.
func TestQueueKeepsOrderAndMasks(t *testing.T) {
	out := &lockedBuffer{}
	q, logf := queued(t, "json", out)
	callsLog(logf, 500)()
	q.Close()
	next := map[int]int{}
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var ev struct {
			G, I int
			From string
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		if ev.I != next[ev.G] {
			t.Fatalf("goroutine %d: event %d after %d", ev.G, ev.I, next[ev.G]-1)
		}
		next[ev.G]++
		if ev.From != "+4670*****33" {
			t.Fatalf("not masked: %s", l)
		}
	}
	for g := range 4 {
		if next[g] != 500 {
			t.Errorf("goroutine %d: %d of 500 events written", g, next[g])
		}
	}
}

// TestQueueWritesAnErrorBeforeItReturns: an error is in the output as soon
// as the call that logs it returns, in either format.
func TestQueueWritesAnErrorBeforeItReturns(t *testing.T) {
	for _, format := range []string{"json", "console"} {
		out := &lockedBuffer{}
		_, logf := queued(t, format, out)
		for i := range 20 {
			logf("info", nil, fmt.Sprintf("info %d", i))
			logf("error", nil, fmt.Sprintf("error %d", i))
			if s := out.String(); !strings.Contains(s, fmt.Sprintf("error %d", i)) || !strings.Contains(s, fmt.Sprintf("info %d", i)) {
				t.Fatalf("%s: error %d logged but not written:\n%s", format, i, s)
			}
		}
	}
}

// TestQueueStuckOutputStopsNoCall: while the output takes nothing, logging
// still returns (errors too, after waiting a little); what did not fit is
// dropped, counted and reported once the output moves again.
func TestQueueStuckOutputStopsNoCall(t *testing.T) {
	out := &lockedBuffer{hold: make(chan struct{})}
	q, logf := queued(t, "json", out)
	const n = 3000
	pad := strings.Repeat("x", 1000)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			logf("info", map[string]any{"n": i, "pad": pad}, "event")
		}
		logf("error", map[string]any{"n": n}, "an error while the output is stuck")
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second): // a bound for a hang, not a measure
		t.Fatal("logging blocked while the output was stuck")
	}
	out.mu.Lock()
	close(out.hold)
	out.hold = nil
	out.mu.Unlock()
	q.Close()
	written, dropped := 0, 0
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var ev struct {
			N      *int
			Events int
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("%v: %.200s", err, l)
		}
		switch {
		case ev.N != nil:
			written++
		case strings.Contains(l, "log events dropped"):
			dropped += ev.Events
		}
	}
	if dropped == 0 || written+dropped != n+1 {
		t.Errorf("%d events written and %d dropped of %d", written, dropped, n+1)
	}
}

// TestQueueWritesAfterClose: an event logged after Close (peerline's last
// words on the way out) is written directly.
func TestQueueWritesAfterClose(t *testing.T) {
	out := &lockedBuffer{}
	q, logf := queued(t, "json", out)
	q.Close()
	logf("info", nil, "after close")
	if !strings.Contains(out.String(), "after close") {
		t.Errorf("not written: %q", out.String())
	}
}

// TestQueueCloseWhileLogging: events logged while Close writes the last
// batch wait for it, so the writer and they never write at once (-race), and
// each is written once.
func TestQueueCloseWhileLogging(t *testing.T) {
	out := &lockedBuffer{}
	q, logf := queued(t, "json", out)
	wait := callsLog(logf, 2000)
	q.Close()
	wait()
	if n := strings.Count(out.String(), `"message":"call in"`); n != 4*2000 {
		t.Errorf("%d of %d events written", n, 4*2000)
	}
}
