package media_test

import (
	"context"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/media/mediatest"
)

// TestAStrangerNeitherHearsNorSteersABridgedCall: a third address that finds
// both ports of a bridged call and sends RTP and keys to them gets nothing back,
// is not relayed and presses no key; its packets are counted as dropped.
func TestAStrangerNeitherHearsNorSteersABridgedCall(t *testing.T) {
	ports := media.NewPorts(netip.MustParseAddr("127.0.0.1"), 33000, 33998)
	caller, agent := mediatest.NewPhone(t, media.PCMU), mediatest.NewPhone(t, media.PCMU)
	stranger := mediatest.NewPhoneAt(t, netip.MustParseAddr("127.0.0.5"), media.PCMU)
	a, b := session(t, ports, caller.Addr()), session(t, ports, agent.Addr())
	var dropped atomic.Uint64
	a.CountDropped(&dropped)
	b.CountDropped(&dropped)
	keys := make(chan byte, 8)
	a.ListenKeys(101, keys)
	b.ListenKeys(101, keys)
	br := media.NewBridge(media.Leg{Session: a, PT: media.PCMU}, media.Leg{Session: b, PT: media.PCMU})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go br.Run(ctx)

	// The stranger speaks first, before either peer has sent a packet.
	stranger.Send(a.LocalAddr(), 3000, 5)
	stranger.Send(b.LocalAddr(), 3000, 5)
	stranger.SendKeys(a.LocalAddr(), 101, "*9")
	stranger.SendKeys(b.LocalAddr(), 101, "**")
	go caller.Send(a.LocalAddr(), 1000, 25)
	agent.Send(b.LocalAddr(), 2000, 25)
	stranger.Send(a.LocalAddr(), 3000, 5)
	stranger.Send(b.LocalAddr(), 3000, 5)
	waitFor(t, func() bool { return agent.Hears(1000, 0) && caller.Hears(2000, 0) })
	if n := len(stranger.Heard()); n != 0 {
		t.Errorf("the stranger received %d samples of the call", n)
	}
	if agent.Hears(3000, 0) || caller.Hears(3000, 0) {
		t.Error("the stranger's tone was relayed into the call")
	}
	select {
	case k := <-keys:
		t.Errorf("the stranger pressed %q", k)
	default:
	}
	if a.Remote() != caller.Addr() || b.Remote() != agent.Addr() {
		t.Errorf("latched to %v and %v", a.Remote(), b.Remote())
	}
	if d := dropped.Load(); d < 20 {
		t.Errorf("%d packets counted as dropped, want the stranger's", d)
	}
}

// TestAPeerBehindNATLatchesFromItsHost: a phone whose RTP comes from another
// port of its host than its SDP said (a NAT) is latched and answered there; the
// address its SIP came from counts as its host too.
func TestAPeerBehindNATLatchesFromItsHost(t *testing.T) {
	ports := media.NewPorts(netip.MustParseAddr("127.0.0.1"), 33000, 33998)
	phone := mediatest.NewPhone(t, media.PCMU)
	signalled := netip.MustParseAddrPort("127.0.0.1:9") // what the SDP said
	s := session(t, ports, signalled)
	s.Start()
	phone.Send(s.LocalAddr(), 1000, 3)
	waitFor(t, func() bool { return s.Remote() == phone.Addr() })

	natted := mediatest.NewPhoneAt(t, netip.MustParseAddr("127.0.0.7"), media.PCMU)
	s2 := session(t, ports, netip.MustParseAddrPort("10.1.2.3:4000")) // a private address in the SDP
	s2.AllowHost(netip.MustParseAddr("127.0.0.7"))                    // where its INVITE came from
	s2.Start()
	natted.Send(s2.LocalAddr(), 1000, 3)
	waitFor(t, func() bool { return s2.Remote() == natted.Addr() })
}

// TestPortsAreNotHandedOutInOrder: one call's port tells nothing of the next.
func TestPortsAreNotHandedOutInOrder(t *testing.T) {
	ports := media.NewPorts(netip.MustParseAddr("127.0.0.1"), 34000, 34998)
	inOrder := 0
	prev := 0
	for range 20 {
		c, err := ports.Listen()
		if err != nil {
			t.Fatal(err)
		}
		p := int(c.LocalAddr().Port())
		if p%2 != 0 || p < 34000 || p > 34998 {
			t.Errorf("port %d", p)
		}
		if p == prev+2 {
			inOrder++
		}
		prev = p
		c.Close()
	}
	if inOrder > 3 {
		t.Errorf("%d of 20 ports followed the one before", inOrder)
	}
}

// waitFor waits, bounded, for cond.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
	}
}

// BenchmarkListen is what a leg's RTP socket costs to open and close (the
// case for a pool of pre-opened sockets rests on it).
func BenchmarkListen(b *testing.B) {
	ports := media.NewPorts(netip.MustParseAddr("127.0.0.1"), 37000, 38998)
	for b.Loop() {
		c, err := ports.Listen()
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}
