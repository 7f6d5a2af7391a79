package linetest

import (
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/audit"
	"github.com/peerline/peerline/internal/clock/clocktest"
	"github.com/peerline/peerline/internal/storage"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/roster"
)

// Lines are cfg's lines on a real bbolt file in a test's folder, with the
// agents' roster and the audit log, on a fake clock at now: what a driver's
// tests run their calls against. lines is the config the flows run (cfg.Lines
// unless a driver changes them).
func Lines(t testing.TB, cfg *config.Config, lines []config.Line, now time.Time) (*line.Lines, *roster.Store, *clocktest.Fake) {
	t.Helper()
	db, err := storage.Open(t.TempDir(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	audit.Open(db)
	clk := clocktest.New(now)
	agents, err := roster.NewStore(db, clk, cfg.Lines[0].PIN, []string{cfg.Lines[0].ID}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := line.New(db, clk, lines, nil, agents)
	if err != nil {
		t.Fatal(err)
	}
	return ls, agents, clk
}
