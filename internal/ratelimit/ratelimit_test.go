package ratelimit_test

import (
	"testing"
	"time"

	"github.com/peerline/peerline/internal/ratelimit"
)

func TestBucket(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	b := ratelimit.New(0.5, 3) // one token every 2 s, three at most
	for i := range 3 {
		if !b.Take(t0) {
			t.Fatalf("token %d of a full bucket refused", i+1)
		}
	}
	if b.Take(t0) || b.Wait(t0) != 2*time.Second {
		t.Errorf("empty: take succeeded or wait %s, want 2s", b.Wait(t0))
	}
	if b.Wait(t0.Add(time.Second)) != time.Second || !b.Take(t0.Add(2*time.Second)) {
		t.Error("a token did not come back after 2 s")
	}
	b.Spend(t0.Add(2 * time.Second)) // spending an empty bucket keeps it empty, not below
	if w := b.Wait(t0.Add(2 * time.Second)); w != 2*time.Second {
		t.Errorf("after spending empty: wait %s", w)
	}
	if !b.Take(t0.Add(time.Hour)) || !b.Take(t0.Add(time.Hour)) || !b.Take(t0.Add(time.Hour)) || b.Take(t0.Add(time.Hour)) {
		t.Error("an hour later the bucket holds more than its burst, or less")
	}
}
