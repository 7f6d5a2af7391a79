package sip

import (
	"net/netip"
	"testing"
	"time"
)

func TestRouteCacheKeepsAnswersForAWhileAndStaysBounded(t *testing.T) {
	rc := routeCache{m: map[netip.Addr]route{}}
	now := time.Now()
	lo := netip.MustParseAddr("127.0.0.1")
	if got := rc.toward(netip.MustParseAddr("127.0.0.9"), now); got != lo {
		t.Fatalf("toward 127.0.0.9: %v", got)
	}
	// A stale answer is kept until its time is up, then asked again.
	rc.m[netip.MustParseAddr("127.0.0.9")] = route{local: netip.MustParseAddr("192.0.2.7"), until: now.Add(time.Second)}
	if got := rc.toward(netip.MustParseAddr("127.0.0.9"), now); got.String() != "192.0.2.7" {
		t.Errorf("within its time: %v", got)
	}
	if got := rc.toward(netip.MustParseAddr("127.0.0.9"), now.Add(2*time.Second)); got != lo {
		t.Errorf("after its time: %v", got)
	}
	for i := range routeCacheMax + 10 {
		rc.toward(netip.AddrFrom4([4]byte{127, 1, byte(i >> 8), byte(i)}), now)
	}
	if len(rc.m) > routeCacheMax {
		t.Errorf("%d routes kept", len(rc.m))
	}
}
