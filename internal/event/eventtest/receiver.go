// Package eventtest is a real local webhook receiver for tests: it checks every
// request's signature and headers and keeps what arrived.
package eventtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/event"
)

// Receiver is an HTTP endpoint on 127.0.0.1 that takes peerline's webhooks.
type Receiver struct {
	Hook config.Webhook // to put in the config

	mu      sync.Mutex
	down    bool
	events  []Event
	bodies  []string
	seen    map[string]int
	bad     int
	refused int
}

// New starts a receiver, up, that takes every event type.
func New(t testing.TB, events ...string) *Receiver {
	r := &Receiver{seen: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(srv.Close)
	r.Hook = config.Webhook{URL: srv.URL, Secret: "test-secret", Events: events}
	return r
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down {
		r.refused++
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var e Event
	if req.Header.Get("X-Peerline-Signature") != event.Sign(r.Hook.Secret, body) || json.Unmarshal(body, &e) != nil ||
		req.Header.Get("X-Peerline-Delivery") != e.ID || req.Header.Get("X-Peerline-Event") != e.Type {
		r.bad++
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.seen[e.ID]++
	r.events = append(r.events, e)
	r.bodies = append(r.bodies, string(body))
}

// Event is an event as a receiver that knows none of peerline's types decodes it.
type Event struct {
	ID   string         `json:"id"`
	Type string         `json:"type"`
	Time time.Time      `json:"time"`
	Line string         `json:"line"`
	Data map[string]any `json:"data"`
}

// SetDown makes the receiver answer 503 (true) or take events (false).
func (r *Receiver) SetDown(down bool) { r.mu.Lock(); r.down = down; r.mu.Unlock() }

// Events returns what arrived with a valid signature, in order.
func (r *Receiver) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// Bodies returns the raw bodies that arrived, for privacy checks.
func (r *Receiver) Bodies() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bodies...)
}

// Seen counts deliveries per event id.
func (r *Receiver) Seen() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.seen))
	for k, v := range r.seen {
		out[k] = v
	}
	return out
}

// Bad counts requests with a wrong signature or malformed body.
func (r *Receiver) Bad() int { r.mu.Lock(); defer r.mu.Unlock(); return r.bad }

// Refused counts requests answered 503 while down.
func (r *Receiver) Refused() int { r.mu.Lock(); defer r.mu.Unlock(); return r.refused }

// WaitFor waits (a bounded while) for an event of type typ and returns it.
func (r *Receiver) WaitFor(t testing.TB, typ string) Event {
	t.Helper()
	for range 500 {
		for _, e := range r.Events() {
			if e.Type == typ {
				return e
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %s event arrived; got %v", typ, r.Types())
	return Event{}
}

// Types lists the types that arrived, in order.
func (r *Receiver) Types() []string {
	var out []string
	for _, e := range r.Events() {
		out = append(out, e.Type)
	}
	return out
}
