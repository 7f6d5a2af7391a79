package rawudp

import (
	"net/netip"
	"testing"
)

// An address set for sending reads back the same, in either family.
func TestAddrRoundTrip(t *testing.T) {
	for _, c := range []struct {
		to   string
		v6   bool
		ok   bool
		back string
	}{
		{"192.0.2.7:5004", false, true, "192.0.2.7:5004"},
		{"192.0.2.7:5004", true, true, "192.0.2.7:5004"}, // IPv4-mapped on an IPv6 socket
		{"[::ffff:192.0.2.7]:5004", false, true, "192.0.2.7:5004"},
		{"[2001:db8::1]:40000", true, true, "[2001:db8::1]:40000"},
		{"[2001:db8::1]:40000", false, false, ""},
	} {
		var a Addr
		if ok := a.Set(netip.MustParseAddrPort(c.to), c.v6); ok != c.ok {
			t.Errorf("Set(%s, v6 %v) = %v", c.to, c.v6, ok)
			continue
		}
		if !c.ok {
			continue
		}
		if got, ok := a.AddrPort(); !ok || got.String() != c.back {
			t.Errorf("Set(%s, v6 %v) reads back %v %v", c.to, c.v6, got, ok)
		}
	}
	var a Addr
	if a.Set(netip.AddrPort{}, true) {
		t.Error("no address was set")
	}
	if _, ok := a.AddrPort(); ok {
		t.Error("an empty address read back")
	}
}
