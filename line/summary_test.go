package line_test

import (
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/event"
)

// TestTheDaysSummaryOnceAtClosingTime: line.day_summary comes at a service
// day's closing time, not before, once even across a restart, and again the
// next service day.
func TestTheDaysSummaryOnceAtClosingTime(t *testing.T) {
	w := newWorld(t, "2026-05-19 15:00:00", config.Default().Lines) // a Tuesday, open 13-16
	summaries := func() []string {
		var out []string
		for _, e := range w.office.Events() {
			if e.Type == event.DaySummary {
				out = append(out, e.Data["date"].(string))
			}
		}
		return out
	}
	w.clock.Set(at("2026-05-19 15:59:00"))
	time.Sleep(50 * time.Millisecond)
	if s := summaries(); len(s) != 0 {
		t.Fatalf("a summary before closing: %v", s)
	}
	w.clock.Set(at("2026-05-19 16:00:00"))
	w.office.WaitFor(t, event.DaySummary)
	w.restart(config.Default().Lines)
	w.clock.Set(at("2026-05-19 18:00:00"))
	time.Sleep(100 * time.Millisecond)
	if s := summaries(); len(s) != 1 || s[0] != "2026-05-19" {
		t.Errorf("summaries after a restart the same evening: %v", s)
	}
	w.clock.Set(at("2026-05-20 16:00:00"))
	for range 200 {
		if len(summaries()) == 2 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if s := summaries(); len(s) != 2 || s[1] != "2026-05-20" {
		t.Errorf("summaries the next day: %v", s)
	}
}
