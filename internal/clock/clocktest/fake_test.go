package clocktest_test

import (
	"testing"
	"time"

	"github.com/peerline/peerline/internal/clock/clocktest"
)

func TestFakeRunsTimersInOrder(t *testing.T) {
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	c := clocktest.New(start)
	var got []string
	c.AfterFunc(2*time.Minute, func() { got = append(got, "b@"+c.Now().Format("15:04")) })
	c.AfterFunc(time.Minute, func() {
		got = append(got, "a@"+c.Now().Format("15:04"))
		c.AfterFunc(30*time.Second, func() { got = append(got, "a2@"+c.Now().Format("15:04:05")) })
	})
	stopped := c.AfterFunc(90*time.Second, func() { got = append(got, "never") })
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop should succeed once")
	}
	c.Advance(5 * time.Minute)
	want := []string{"a@10:01", "a2@10:01:30", "b@10:02"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	if !c.Now().Equal(start.Add(5 * time.Minute)) {
		t.Errorf("now = %v", c.Now())
	}
}
