package event_test

import (
	"context"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/clock/clocktest"
	"github.com/peerline/peerline/internal/event"
	"github.com/peerline/peerline/internal/event/eventtest"
	"github.com/peerline/peerline/internal/storage"
	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"
)

// peer is one run of the outbox: an emitter and its sender on a database.
type peer struct {
	em     *event.Emitter
	sender *event.Sender
	stop   func()
}

func start(t *testing.T, db *bolt.DB, clk *clocktest.Fake, hooks ...config.Webhook) *peer {
	em, err := event.NewEmitter(db, hooks)
	if err != nil {
		t.Fatal(err)
	}
	s := event.NewSender(db, clk, em, hooks, zerolog.Nop())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	return &peer{em: em, sender: s, stop: func() { cancel(); <-done }}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 500 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// stepUntil moves the clock step by step until cond holds. It is bounded in real
// time, not clock time, so that a slow machine cannot make it miss; the tests
// check clock times themselves.
func stepUntil(t *testing.T, clk *clocktest.Fake, step time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(20 * time.Second); !cond(); {
		if time.Now().After(end) {
			t.Fatalf("%s did not happen (clock at %s)", what, clk.Now())
		}
		clk.Advance(step)
		time.Sleep(2 * time.Millisecond)
	}
}

func TestOutboxSurvivesRestartAndDeliversOnce(t *testing.T) {
	dir := t.TempDir()
	db, err := storage.Open(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	clk := clocktest.New(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	office := eventtest.New(t)
	office.SetDown(true)
	onlyLine := eventtest.New(t, "line.*")
	p := start(t, db, clk, office.Hook, onlyLine.Hook)
	for _, d := range []event.Data{event.LineChange{Closed: true}, event.Uncovered{Date: "2026-11-23"}, event.Lockout{Agent: "jim"}} {
		err := db.Update(func(tx *bolt.Tx) error {
			return p.em.Emit(tx, clk.Now(), "peer", d)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "first attempts", func() bool { return office.Refused() == 3 })
	p.stop()
	db.Close()

	// Restart: a new process on the same file, with the office receiver back.
	db, err = storage.Open(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	office.SetDown(false)
	p = start(t, db, clk, office.Hook, onlyLine.Hook)
	defer p.stop()
	stepUntil(t, clk, time.Second, "the outbox to empty", func() bool { return p.sender.Pending() == 0 })

	seen := office.Seen()
	if len(seen) != 3 || office.Bad() != 0 {
		t.Fatalf("office got %v (bad %d), want 3 events once each", seen, office.Bad())
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("event %s delivered %d times", id, n)
		}
	}
	if got := onlyLine.Types(); len(got) != 1 || got[0] != event.LineClosed {
		t.Errorf("line.* receiver got %v, want only line.closed", got)
	}
}

func TestRetriesBackOffOnTheClock(t *testing.T) {
	db, err := storage.Open(t.TempDir(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clk := clocktest.New(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	r := eventtest.New(t)
	r.SetDown(true)
	p := start(t, db, clk, r.Hook)
	defer p.stop()
	db.Update(func(tx *bolt.Tx) error { return p.em.Emit(tx, clk.Now(), "peer", event.LineChange{Closed: true}) })
	waitFor(t, "a failed attempt", func() bool { return r.Refused() == 1 })
	failed := clk.Now()
	r.SetDown(false)
	stepUntil(t, clk, time.Second, "the retry", func() bool { return len(r.Events()) == 1 })
	if waited := clk.Now().Sub(failed); waited < 10*time.Second {
		t.Errorf("retried after %s, want the 10s backoff", waited)
	}

	// An event nobody can take is given up after 24 hours, with backoff up to hourly.
	r.SetDown(true)
	db.Update(func(tx *bolt.Tx) error { return p.em.Emit(tx, clk.Now(), "peer", event.LineChange{}) })
	emitted := clk.Now()
	stepUntil(t, clk, 5*time.Minute, "giving up", func() bool { return p.sender.Pending() == 0 })
	if gaveUp := clk.Now().Sub(emitted); gaveUp < 24*time.Hour {
		t.Errorf("gave up after %s, want 24h", gaveUp)
	}
	if n := r.Refused() - 1; n < 20 || n > 40 {
		t.Errorf("%d attempts in 24h, want backoff up to hourly (about 30)", n)
	}
}
