package sip

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/peerline/peerline/pbx/media"
)

// TestTheRTPWatchForgetsEndedLegs: a leg that ended is dropped at the next
// check, without a hangup; a live one that is silent for too long is hung up.
func TestTheRTPWatchForgetsEndedLegs(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	w := newRTPWatch(ctx, time.Hour)
	w.once.Do(func() {}) // the test runs the checks, not the watch's ticker
	hungUp := make(chan string, 2)
	newLeg := func(name string) (*leg, context.CancelFunc) {
		sock, err := media.NewPorts(netip.MustParseAddr("127.0.0.1"), 32000, 32998).Listen()
		if err != nil {
			t.Fatal(err)
		}
		s := media.NewSession(sock, netip.MustParseAddrPort("127.0.0.1:9"))
		t.Cleanup(func() { s.Close() })
		l := &leg{session: s}
		l.ctx, l.end = context.WithCancel(ctx)
		w.add(l, func() { hungUp <- name })
		return l, l.end
	}
	_, endGone := newLeg("ended")
	live, _ := newLeg("live")
	endGone()
	w.check()
	w.mu.Lock()
	_, kept := w.legs[live]
	n := len(w.legs)
	w.mu.Unlock()
	if n != 1 || !kept {
		t.Fatalf("after the check the watch holds %d legs (the live one: %v), want the live one only", n, kept)
	}
	w.timeout = 0 // every live leg is silent for too long now
	w.check()
	select {
	case name := <-hungUp:
		if name != "live" {
			t.Errorf("hung up the %s leg", name)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the silent leg was not hung up")
	}
	select {
	case name := <-hungUp:
		t.Errorf("hung up the %s leg too", name)
	default:
	}
}
