package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/sip/siptest"
)

// TestProbesOfTheCallPath: the built binary under the floods and junk a
// stranger or a broken trunk can send, bounded and on loopback, while real calls
// from another allowed source go through: an INVITE flood from an allowed
// source, fuzzed SIP, a response carrying a number, idle SIP and HTTP
// connections by the thousand.
func TestProbesOfTheCallPath(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, fmt.Sprintf(`data_dir: %s
http: {listen: 127.0.0.1:0}
sip: {listen: ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"], rtp_ports: "42000-42998", trunk: {allow: ["127.0.0.0/8"]}}
lines: [{id: peer, numbers: [peer], prompts: %s}]
`, filepath.Join(dir, "data"), shortPrompts(t, dir)))
	s := startServer(t, dir, "--config", cfg)
	sipAddr, _ := net.ResolveUDPAddr("udp", s.SIP)
	realCalls := func(n int) int {
		ok := 0
		for i := range n {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			phone := siptest.NewPhone(t, fmt.Sprintf("+4670555100%d", i), media.PCMU)
			if call, err := phone.Call(ctx, "peer", s.SIP); err == nil && call.Status == 200 && phone.WaitBye(10*time.Second) {
				ok++
			}
			cancel()
		}
		return ok
	}

	// An INVITE flood from an allowed source (a broken trunk): it hears 503 with
	// Retry-After once over its rate, never silence, and real calls from another
	// allowed source all go through.
	flood := udpFrom(t, "127.0.0.7")
	var answers struct {
		sync.Mutex
		n503, retryAfter int
	}
	go readAll(flood, func(b []byte) {
		answers.Lock()
		defer answers.Unlock()
		if strings.HasPrefix(string(b), "SIP/2.0 503") {
			answers.n503++
			if strings.Contains(string(b), "Retry-After: 5") {
				answers.retryAfter++
			}
		}
	})
	stop := make(chan struct{})
	go func() {
		for i := 0; i < 3000; i++ {
			select {
			case <-stop:
				return
			default:
			}
			flood.WriteTo(invite(flood.LocalAddr().String(), fmt.Sprintf("flood-%d", i)), sipAddr)
			if i%10 == 0 {
				time.Sleep(20 * time.Millisecond) // about 500 a second
			}
		}
	}()
	ok := realCalls(5)
	close(stop)
	answers.Lock()
	t.Logf("INVITE flood: %d answered 503 (%d with Retry-After); real calls beside it: %d of 5", answers.n503, answers.retryAfter, ok)
	if ok != 5 || answers.n503 == 0 || answers.retryAfter != answers.n503 {
		t.Errorf("beside the flood %d of 5 real calls went through; the flood got %d 503s, %d with Retry-After", ok, answers.n503, answers.retryAfter)
	}
	answers.Unlock()

	// Fuzzed SIP and a provisional response carrying a number, from strangers:
	// the log grows by a small bound and never holds the number or a message.
	before := len(s.log())
	junk := udpFrom(t, "127.0.0.9")
	base := invite(junk.LocalAddr().String(), "fuzz")
	const fuzzed = 5000
	for i := range fuzzed {
		m := append([]byte(nil), base...)
		for range 1 + rand.IntN(8) {
			m[rand.IntN(len(m))] = byte(rand.IntN(256))
		}
		junk.WriteTo(m, sipAddr)
		if i%50 == 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	udpFrom(t, "127.0.0.10").WriteTo([]byte("SIP/2.0 180 Ringing +46701234567\r\nVia: SIP/2.0/UDP 127.0.0.10:5060;branch=z9hG4bK1\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nContent-Length: 0\r\n\r\n"), sipAddr)
	time.Sleep(500 * time.Millisecond)
	logged := s.log()
	grown := len(logged) - before
	t.Logf("fuzz: %d messages wrote %d log bytes (%.2f a message)", fuzzed, grown, float64(grown)/fuzzed)
	if grown > 64<<10 {
		t.Errorf("%d fuzzed messages wrote %d bytes of log", fuzzed, grown)
	}
	for _, l := range strings.Split(logged, "\n") {
		if strings.Contains(l, "1234567") || strings.Contains(l, "Max-Forwards") || strings.Contains(l, "m=audio") {
			t.Errorf("the log holds a number or a raw message: %s", l)
		}
	}

	// Idle connections by the thousand, to SIP over TCP and to HTTP: the process
	// stays up, real calls and /healthz are served.
	tcpSIP := s.SIPTCP
	idle := func(from, to string, n int) int {
		open := 0
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: time.Second}
		for range n {
			c, err := d.Dial("tcp", to)
			if err != nil {
				continue
			}
			t.Cleanup(func() { c.Close() })
			open++
		}
		return open
	}
	web := strings.TrimPrefix(s.URL, "http://")
	t.Logf("idle connections opened: SIP over TCP %d of 1100, HTTP %d of 3000", idle("127.0.0.11", tcpSIP, 1100), idle("127.0.0.12", web, 3000))
	res, err := http.Get(s.URL + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("/healthz beside the idle connections: %v %v", res, err)
	}
	res.Body.Close()
	if ok := realCalls(2); ok != 2 {
		t.Errorf("beside the idle connections %d of 2 real calls went through", ok)
	}
	if s.cmd.ProcessState != nil {
		t.Fatalf("peerline exited:\n%s", tail(s.stderr.String(), 2000))
	}
}

func udpFrom(t *testing.T, ip string) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readAll hands every datagram c receives to f until c is closed.
func readAll(c *net.UDPConn, f func([]byte)) {
	b := make([]byte, 65536)
	for {
		n, _, err := c.ReadFrom(b)
		if err != nil {
			return
		}
		f(b[:n])
	}
}

// invite is an INVITE for the line from addr, with no usable media.
func invite(addr, callID string) []byte {
	sdp := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n"
	return fmt.Appendf(nil, "INVITE sip:peer@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%s\r\n"+
		"From: <sip:+46701112233@127.0.0.1>;tag=%s\r\nTo: <sip:peer@127.0.0.1>\r\nCall-ID: %s\r\nCSeq: 1 INVITE\r\n"+
		"Contact: <sip:x@%s>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
		addr, callID, callID, callID, addr, len(sdp), sdp)
}
