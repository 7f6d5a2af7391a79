package media_test

import (
	"net/netip"
	"runtime"
	"testing"

	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/media/mediatest"
)

// TestReadingTakesNoGoroutinePerSession: a hundred sessions being read add
// no goroutine of their own (the reactor's few workers serve them all).
func TestReadingTakesNoGoroutinePerSession(t *testing.T) {
	ports := media.NewPorts(netip.MustParseAddr("127.0.0.1"), 35000, 35998)
	phone := mediatest.NewPhone(t, media.PCMU)
	first := session(t, ports, phone.Addr())
	first.Start() // the reactor's workers exist from here on
	before := runtime.NumGoroutine()
	sinks := make([]*countSink, 100)
	for i := range sinks {
		s := session(t, ports, phone.Addr())
		sinks[i] = &countSink{}
		s.SetSink(sinks[i])
		s.Start()
		phone.Send(s.LocalAddr(), 1000, 1)
	}
	if n := runtime.NumGoroutine() - before; n > 2 {
		t.Errorf("100 sessions added %d goroutines", n)
	}
	waitFor(t, func() bool {
		for _, s := range sinks {
			if s.n.Load() == 0 {
				return false
			}
		}
		return true
	})
}
