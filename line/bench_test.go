package line_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/line/linetest"
)

// BenchmarkStatus is the line's status as every call, log-in and scrape asks it.
func BenchmarkStatus(b *testing.B) {
	w := newWorld(b, "2026-05-19 13:00:00", config.Default().Lines)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := w.lines.Status("peer"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDispatch is a whole call through the flow with the fake telephony:
// status, queue, the choice of agent, presence changes and the record written
// to bbolt. The agent answers at once and the caller hangs up when bridged; no
// wrap-up form or cooldown, so the agents are free for the next call. Its
// time is mostly waiting: calls one after another share no commit, so each of
// the record's three writes waits out the group-commit window (40 ms); its
// memory per call is the figure to watch here, CPU per call the load run's.
func BenchmarkDispatch(b *testing.B) {
	w := newWorld(b, "2026-05-19 13:00:00", quickLines())
	w.lines.Login(office, "klara", "")
	w.lines.Login(office, "michell", "")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		c := linetest.NewCall(fmt.Sprint("b", i), callerNumber)
		c.Answerer = func(ctx context.Context, t line.Target, _ line.DialOptions) (*linetest.Call, error) {
			leg := linetest.NewCall("agent", "")
			leg.CallerHangsUp() // the bridge ends as soon as it starts
			return leg, nil
		}
		if err := w.lines.Handle(context.Background(), "peer", c); err != nil {
			b.Fatal(err)
		}
	}
}
