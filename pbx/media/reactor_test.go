package media_test

import (
	"context"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/media/mediatest"
	"github.com/pion/rtp"
)

type countSink struct{ n atomic.Int64 }

func (c *countSink) WriteRTP(*rtp.Packet) { c.n.Add(1) }

// TestClosingUnderAFlood: sessions closed while a stranger floods their ports
// end cleanly, and the sessions opened next (on reused descriptors) hear their
// own peer only.
func TestClosingUnderAFlood(t *testing.T) {
	ports := media.NewPorts(netip.MustParseAddr("127.0.0.1"), 36000, 36998)
	stranger := mediatest.NewPhoneAt(t, netip.MustParseAddr("127.0.0.7"), media.PCMU)
	var old []*media.Session
	for range 40 {
		s := session(t, ports, netip.MustParseAddrPort("127.0.0.1:9"))
		s.SetSink(&countSink{})
		s.Start()
		old = append(old, s)
	}
	stop := make(chan struct{})
	flooded := make(chan struct{})
	go func() {
		defer close(flooded)
		for {
			for _, s := range old {
				select {
				case <-stop:
					return
				default:
				}
				stranger.Send(s.LocalAddr(), 500, 1)
			}
		}
	}()
	for _, s := range old {
		s.Close()
		select {
		case <-s.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("a closed session's reading did not end")
		}
		if s.Err() != nil {
			t.Errorf("a closed session failed: %v", s.Err())
		}
	}
	phone := mediatest.NewPhone(t, media.PCMU)
	var dropped atomic.Uint64
	fresh := make([]*countSink, 20)
	for i := range fresh {
		s := session(t, ports, phone.Addr())
		s.CountDropped(&dropped)
		fresh[i] = &countSink{}
		s.SetSink(fresh[i])
		s.Start()
		phone.Send(s.LocalAddr(), 1000, 3)
	}
	close(stop)
	<-flooded
	waitFor(t, func() bool {
		for _, c := range fresh {
			if c.n.Load() < 3 {
				return false
			}
		}
		return true
	})
	for i, c := range fresh {
		if n := c.n.Load(); n != 3 {
			t.Errorf("session %d heard %d packets; its phone sent 3", i, n)
		}
	}
}

// TestAnIPv6Session: a range on an IPv6 address opens IPv6 sockets (it
// panicked building an IPv4 address for them), and the session plays and hears.
func TestAnIPv6Session(t *testing.T) {
	ip := netip.MustParseAddr("::1")
	ports := media.NewPorts(ip, 36000, 36998)
	phone := mediatest.NewPhoneAt(t, ip, media.PCMU)
	s := session(t, ports, phone.Addr())
	if s.LocalAddr().Addr() != ip {
		t.Fatalf("bound to %v", s.LocalAddr())
	}
	sink := &countSink{}
	s.SetSink(sink)
	s.Start()
	p := &media.Prompt{Name: "beep", Samples: make([]int16, 1600)}
	if err := media.Play(context.Background(), s, media.PCMU, p); err != nil {
		t.Fatal(err)
	}
	phone.Send(s.LocalAddr(), 1000, 3)
	waitFor(t, func() bool { return len(phone.Heard()) >= 1600 && sink.n.Load() == 3 })
}
