// Package connlimit guards a TCP listener against connection floods: at most
// PerSource connections from one address and Total in all (more are closed at
// once), connections that stay silent are closed, and errors such as "too many
// open files" make Accept wait and retry instead of ending the server.
package connlimit

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// Limits are a listener's bounds.
type Limits struct {
	PerSource int           // connections at once from one address
	Total     int           // connections at once in all
	First     time.Duration // silence allowed before the first byte; 0: Idle
	Idle      time.Duration // silence allowed later; 0: no limit
}

// Listener is a guarded net.Listener.
type Listener struct {
	net.Listener
	lim Limits
	// OnRefuse, if set, hears of each connection closed at once or each accept
	// error retried (for a rate-limited log line or a metric).
	OnRefuse func(reason string)

	mu     sync.Mutex
	from   map[netip.Addr]int
	total  int
	closed bool
}

// Listen wraps l with lim.
func Listen(l net.Listener, lim Limits) *Listener {
	return &Listener{Listener: l, lim: lim, from: map[netip.Addr]int{}}
}

// Accept returns the next connection within the limits. Temporary failures
// (out of file descriptors, aborted handshakes) are retried with a backoff up to
// a second; only the listener's own closing ends it.
func (l *Listener) Accept() (net.Conn, error) {
	delay := 5 * time.Millisecond
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || l.isClosed() {
				return nil, err
			}
			l.refused("accept: " + err.Error())
			time.Sleep(delay)
			delay = min(2*delay, time.Second)
			continue
		}
		delay = 5 * time.Millisecond
		ip := addrOf(c.RemoteAddr())
		if !l.enter(ip) {
			c.Close()
			l.refused("over the connection cap")
			continue
		}
		return &conn{Conn: c, l: l, ip: ip, wait: l.lim.First}, nil
	}
}

// Close closes the listener; Accept returns net.ErrClosed.
func (l *Listener) Close() error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	return l.Listener.Close()
}

func (l *Listener) isClosed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed
}

func (l *Listener) refused(why string) {
	if l.OnRefuse != nil {
		l.OnRefuse(why)
	}
}

func (l *Listener) enter(ip netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total >= l.lim.Total || l.from[ip] >= l.lim.PerSource {
		return false
	}
	l.total++
	l.from[ip]++
	return true
}

func (l *Listener) leave(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.from[ip]--; l.from[ip] <= 0 {
		delete(l.from, ip)
	}
}

// Open is how many connections are open now.
func (l *Listener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

func addrOf(a net.Addr) netip.Addr {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.AddrPort().Addr().Unmap()
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap.Addr().Unmap()
}

// conn closes itself after silence and counts itself out once closed.
type conn struct {
	net.Conn
	l    *Listener
	ip   netip.Addr
	wait time.Duration // the silence allowed before the next read returns
	once sync.Once
}

// Read ends with io.EOF when the peer stays silent too long, as if it had hung
// up: the server closes the connection quietly.
func (c *conn) Read(b []byte) (int, error) {
	wait := c.wait
	if wait <= 0 {
		wait = c.l.lim.Idle
	}
	if wait > 0 {
		c.Conn.SetReadDeadline(time.Now().Add(wait))
	}
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.wait = c.l.lim.Idle
	}
	if errors.Is(err, os.ErrDeadlineExceeded) && wait > 0 {
		return n, io.EOF
	}
	return n, err
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.leave(c.ip) })
	return err
}
