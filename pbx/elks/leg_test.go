package elks

import (
	"context"
	"testing"
	"time"

	"github.com/peerline/peerline/internal/clock/clocktest"
)

// TestARequestGivenUpOnIsTakenAfreshWhenRetried: 46elks gives up on a
// request that waited too long and retries it; the retry gets the flow's
// action, not the first attempt's failure again.
func TestARequestGivenUpOnIsTakenAfreshWhenRetried(t *testing.T) {
	s := &Server{ctx: context.Background(), clock: clocktest.New(time.Now()), hold: time.Hour,
		legs: map[string]*leg{}, byElks: map[string]*leg{}, base: "https://peerline.example/pbx/elks/s"}
	l := s.newLeg("c1", "peer", "")
	gaveUp, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.turn(gaveUp, 0, ""); err == nil {
		t.Fatal("a request given up on got an answer")
	}
	go l.give(context.Background(), Action{Play: "https://peerline.example/a.wav"})
	a, err := l.turn(context.Background(), 0, "")
	if err != nil || a.Play != "https://peerline.example/a.wav" || a.WhenHangup == "" || a.Next == "" {
		t.Fatalf("the retry: %+v %v", a, err)
	}
	if again, err := l.turn(context.Background(), 0, ""); err != nil || again != a {
		t.Errorf("a second retry: %+v %v, want %+v", again, err, a)
	}
}
