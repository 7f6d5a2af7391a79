package line

import (
	"slices"
	"sync"
	"time"

	"github.com/peerline/peerline/roster"
	"github.com/prometheus/client_golang/prometheus"
)

// waiter is a caller who has no agent yet, from arrival on the line until an
// agent answers or the call leaves the line. Waiters are served in arrival order.
type waiter struct {
	line    string
	arrived time.Time
	held    time.Time // when put on hold; zero while in the greeting or the first ringing
	dialing bool      // agents' phones are ringing for this caller now
	// ready is set once the greeting is over and the caller waits for an
	// agent: a caller still in the greeting holds nobody up.
	ready   bool
	retryAt time.Time // after a round nobody answered, the earliest next one; only the caller's own flow uses it
}

// queue is every line's waiting callers. changed is closed and replaced on each
// change that may give a waiter its turn (an agent free, a caller leaving, a line
// closing), so waiters sleep on it instead of polling.
type queue struct {
	mu      sync.Mutex
	lines   map[string][]*waiter
	changed chan struct{}
	waits   *prometheus.HistogramVec // how long each caller put on hold waited
}

func newQueue() queue {
	return queue{lines: map[string][]*waiter{}, changed: make(chan struct{}),
		waits: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "peerline_queue_wait_seconds",
			Help:    "How long each caller put on hold waited, until put through or gone.",
			Buckets: []float64{10, 30, 60, 120, 180, 300, 600},
		}, []string{"line"})}
}

// Collectors are the line's Prometheus metrics of its own (the status and the
// queue's length are read at scrape time by the web side).
func (ls *Lines) Collectors() []prometheus.Collector { return []prometheus.Collector{ls.queue.waits} }

// join puts a new caller at the end of line's queue.
func (q *queue) join(line string, now time.Time) *waiter {
	q.mu.Lock()
	defer q.mu.Unlock()
	w := &waiter{line: line, arrived: now}
	q.lines[line] = append(q.lines[line], w)
	return w
}

// leave takes w out of the queue; leaving twice is harmless.
func (q *queue) leave(w *waiter, now time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	ws := q.lines[w.line]
	i := slices.Index(ws, w)
	if i < 0 {
		return
	}
	q.lines[w.line] = slices.Delete(ws, i, i+1)
	if !w.held.IsZero() {
		q.waits.WithLabelValues(w.line).Observe(now.Sub(w.arrived).Seconds())
	}
	q.wakeLocked()
}

// watch is a channel closed at the next change; take it before looking, so a
// change between the look and the sleep is not missed.
func (q *queue) watch() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.changed
}

// wake tells every waiter to look again. Never called with presence.mu held.
func (q *queue) wake() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.wakeLocked()
}

func (q *queue) wakeLocked() {
	close(q.changed)
	q.changed = make(chan struct{})
}

// behind reports whether a caller who came before w is still waiting for an
// agent (past the greeting, not ringing one): that caller's turn comes first.
// A caller still in the greeting is not waiting yet: counting them sent a
// caller who came a moment later to hold music ("Alla peer supporters samtalar
// just nu") while agents were free, whenever their greetings ended the other
// way round. q.mu held.
func (q *queue) behind(w *waiter) bool {
	for _, x := range q.lines[w.line] {
		if x == w {
			return false
		}
		if x.ready && !x.dialing {
			return true
		}
	}
	return false
}

// position is w's place in the queue, from 1: the callers who came before w and
// have no agent yet, plus one.
func (q *queue) position(w *waiter) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Index(q.lines[w.line], w) + 1
}

func (q *queue) set(w *waiter, f func(w *waiter)) {
	q.mu.Lock()
	defer q.mu.Unlock()
	f(w)
	q.wakeLocked()
}

// Queued is a caller on hold as the office sees it: a place and a wait, no number.
type Queued struct {
	Position int       `json:"position"`
	Since    time.Time `json:"since"` // when the call reached the line
	Wait     float64   `json:"wait_seconds"`
	Ringing  bool      `json:"ringing"` // an agent's phone rings for this caller now
}

// Queue lists the callers on hold on line, first in line first.
func (ls *Lines) Queue(line string) []Queued {
	now := ls.clock.Now()
	q := &ls.queue
	q.mu.Lock()
	defer q.mu.Unlock()
	out := []Queued{}
	for i, w := range q.lines[line] {
		if w.held.IsZero() {
			continue
		}
		out = append(out, Queued{Position: i + 1, Since: w.arrived.UTC(), Wait: now.Sub(w.arrived).Seconds(), Ringing: w.dialing})
	}
	return out
}

// take claims free agents for w: the longest idle one, or with all every free one
// (ring-all). Nothing while a caller who came before w waits for an agent.
func (ls *Lines) take(w *waiter, skip []string, all bool) []roster.Agent {
	ls.queue.mu.Lock()
	defer ls.queue.mu.Unlock()
	w.ready = true // asking for an agent: the greeting is over
	if ls.queue.behind(w) {
		return nil
	}
	var got []roster.Agent
	skip = slices.Clone(skip)
	for {
		a, ok := ls.claim(w.line, skip)
		if !ok {
			break
		}
		got, skip = append(got, a), append(skip, a.ID)
		if !all {
			break
		}
	}
	if len(got) > 0 {
		w.dialing = true
	}
	return got
}
