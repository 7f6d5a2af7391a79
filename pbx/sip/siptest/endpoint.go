package siptest

import (
	"net"
	"testing"
	"time"

	"github.com/emiago/sipgo"
)

// endpoint is a sipgo user agent serving UDP on 127.0.0.1, closed with the test.
// Its handlers are set by the caller; ServeUDP starts after them.
type endpoint struct {
	srv  *sipgo.Server
	cli  *sipgo.Client
	pc   net.PacketConn
	port int
}

func newEndpoint(t testing.TB, userAgent string) *endpoint {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(userAgent))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ua.Close() })
	srv, _ := sipgo.NewServer(ua)
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return &endpoint{srv: srv, cli: cli, pc: pc, port: pc.LocalAddr().(*net.UDPAddr).Port}
}

// serve answers requests once the handlers are in place.
func (e *endpoint) serve() { go e.srv.ServeUDP(e.pc) }

func wait(ch chan struct{}, timeout time.Duration) bool {
	select {
	case <-ch:
		return true
	case <-time.After(timeout):
		return false
	}
}
