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
	e := newUA(t, userAgent, sipgo.WithUserAgenTLSConfig(client))
	ln, err := tls.Listen("tcp", "127.0.0.1:0", server)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	e.tls, e.port = ln, ln.Addr().(*net.TCPAddr).Port
	return e
}

func newEndpoint(t testing.TB, userAgent string) *endpoint {
	t.Helper()
	e := newUA(t, userAgent)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	e.pc, e.port = pc, pc.LocalAddr().(*net.UDPAddr).Port
	return e
}

// newUA is an endpoint's user agent, server and client, not yet listening.
func newUA(t testing.TB, userAgent string, opts ...sipgo.UserAgentOption) *endpoint {
	t.Helper()
	ua, err := sipgo.NewUA(append([]sipgo.UserAgentOption{sipgo.WithUserAgent(userAgent)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ua.Close() })
	srv, _ := sipgo.NewServer(ua)
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	return &endpoint{srv: srv, cli: cli}
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
