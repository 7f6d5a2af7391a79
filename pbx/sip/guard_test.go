package sip

import (
	"net/netip"
	"testing"
	"time"
)

// TestGuardStateIsBounded: a flood from more addresses than the guard keeps
// shares one bucket instead of growing the map.
func TestGuardStateIsBounded(t *testing.T) {
	g := newGuard(nil, 50, 200, 200, 10)
	now := time.Now()
	for i := range maxSources + 5000 {
		g.take(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), now)
	}
	if len(g.buckets) > maxSources {
		t.Errorf("%d buckets", len(g.buckets))
	}
}

// TestOneSourceHoldsAtMostThreeQuarters: with max_calls 4, one source gets 3
// calls at once and another the fourth.
func TestOneSourceHoldsAtMostThreeQuarters(t *testing.T) {
	g := newGuard(nil, 50, 200, 200, 4)
	a, b := netip.MustParseAddr("127.0.0.7"), netip.MustParseAddr("127.0.0.1")
	for i := range 3 {
		if !g.calls.Enter(a) {
			t.Fatalf("call %d from a refused", i+1)
		}
	}
	if g.calls.Enter(a) {
		t.Error("a fourth call from a admitted")
	}
	if !g.calls.Enter(b) || g.calls.Enter(b) {
		t.Error("b did not get exactly the last slot")
	}
	g.calls.Leave(a)
	if !g.calls.Enter(a) {
		t.Error("a slot freed by a is not a's again")
	}
}

// TestTheTrunkHasItsOwnRate: the trunk's address carries every caller and may
// send sip.trunk.max_rate; another source is held to the fixed rate.
func TestTheTrunkHasItsOwnRate(t *testing.T) {
	trunk, other := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("198.51.100.7")
	g := newGuard([]netip.Prefix{netip.PrefixFrom(trunk, 32)}, 50, 200, 150, 10)
	now := time.Now()
	count := func(ip netip.Addr) (n int) {
		for range 1000 {
			if g.take(ip, now) {
				n++
			}
		}
		return n
	}
	if n := count(trunk); n != 600 {
		t.Errorf("the trunk's burst: %d, want 600 (4 x 150)", n)
	}
	if n := count(other); n != 200 {
		t.Errorf("another source's burst: %d, want 200", n)
	}
}
