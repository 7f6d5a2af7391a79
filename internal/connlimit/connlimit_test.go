package connlimit_test

import (
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peerline/peerline/internal/connlimit"
)

// serve echoes on a guarded listener until the test ends.
func serve(t *testing.T, lim connlimit.Limits) (*connlimit.Listener, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := connlimit.Listen(ln, lim)
	var refused atomic.Int32
	l.OnRefuse = func(string) { refused.Add(1) }
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	return l, &refused
}

func dialFrom(t *testing.T, ip, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// alive reports whether c still echoes.
func alive(c net.Conn) bool {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("x")); err != nil {
		return false
	}
	b := make([]byte, 1)
	_, err := c.Read(b)
	return err == nil
}

func TestOneSourceCannotTakeEveryConnection(t *testing.T) {
	l, refused := serve(t, connlimit.Limits{PerSource: 3, Total: 5})
	var flood []net.Conn
	for range 10 {
		flood = append(flood, dialFrom(t, "127.0.0.5", l.Addr().String()))
	}
	for deadline := time.Now().Add(10 * time.Second); refused.Load() < 7; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("refused %d of the flood's 10, want 7", refused.Load())
		}
	}
	if !alive(flood[0]) {
		t.Error("a connection within the cap was closed")
	}
	if c := dialFrom(t, "127.0.0.1", l.Addr().String()); !alive(c) {
		t.Error("another source was shut out by the flood")
	}
}

func TestASilentConnectionIsClosed(t *testing.T) {
	l, _ := serve(t, connlimit.Limits{PerSource: 10, Total: 10, First: 100 * time.Millisecond, Idle: 300 * time.Millisecond})
	silent := dialFrom(t, "127.0.0.1", l.Addr().String())
	silent.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := silent.Read(make([]byte, 1)); err == nil {
		t.Fatal("a silent connection got data")
	}
	for deadline := time.Now().Add(10 * time.Second); l.Open() != 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still counted", l.Open())
		}
	}
	talker := dialFrom(t, "127.0.0.1", l.Addr().String())
	if !alive(talker) {
		t.Fatal("a talking connection was closed")
	}
}
