package siptest

import (
	"crypto/tls"
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
	tls  net.Listener // a TLS endpoint's listener, instead of pc
	port int
}

// newTLSEndpoint is an endpoint serving SIP over TLS on 127.0.0.1 with
// server's certificate, and dialing TLS with client's trust.
func newTLSEndpoint(t testing.TB, userAgent string, server, client *tls.Config) *endpoint {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(userAgent), sipgo.WithUserAgenTLSConfig(client))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ua.Close() })
	srv, _ := sipgo.NewServer(ua)
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", server)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return &endpoint{srv: srv, cli: cli, tls: ln, port: ln.Addr().(*net.TCPAddr).Port}
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
func (e *endpoint) serve() {
	if e.tls != nil {
		go e.srv.ServeTLS(e.tls)
		return
	}
	go e.srv.ServeUDP(e.pc)
}

func wait(ch chan struct{}, timeout time.Duration) bool {
	select {
	case <-ch:
		return true
	case <-time.After(timeout):
		return false
	}
}
