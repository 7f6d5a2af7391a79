// Package connlimit guards a TCP listener against connection floods: at most
// PerSource connections from one address and Total in all (more are closed at
// once), connections that stay silent are closed, and errors such as "too many
// open files" make Accept wait and retry instead of ending the server. Slots,
// its counter, also caps SIP calls per source.
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

	slots *Slots
}

// Listen wraps l with lim.
func Listen(l net.Listener, lim Limits) *Listener {
	return &Listener{Listener: l, lim: lim, slots: NewSlots(lim.PerSource, lim.Total)}
}

// Accept returns the next connection within the limits. Temporary failures
// (out of file descriptors, aborted handshakes) are retried with a backoff up to
// a second; only the listener's own closing ends it.
func (l *Listener) Accept() (net.Conn, error) {
	delay := 5 * time.Millisecond
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil, err
			}
			l.refused("accept: " + err.Error())
			time.Sleep(delay)
			delay = min(2*delay, time.Second)
			continue
		}
		delay = 5 * time.Millisecond
		ip := addrOf(c.RemoteAddr())
		if !l.slots.Enter(ip) {
			c.Close()
			l.refused("over the connection cap")
			continue
		}
		return &conn{Conn: c, l: l, ip: ip, wait: l.lim.First}, nil
	}
}

func (l *Listener) refused(why string) {
	if l.OnRefuse != nil {
		l.OnRefuse(why)
	}
}

// Open is how many connections are open now.
func (l *Listener) Open() int { return l.slots.Open() }

// Slots counts what each address holds at once (connections, calls) against a
// cap per address and a cap in all, so that one address cannot take them all.
type Slots struct {
	perSource, total int

	mu   sync.Mutex
	from map[netip.Addr]int
	open int
}

// NewSlots allows perSource slots to one address and total in all.
func NewSlots(perSource, total int) *Slots {
	return &Slots{perSource: perSource, total: total, from: map[netip.Addr]int{}}
}

// Enter takes a slot for ip; false when ip or everyone holds the most allowed.
func (s *Slots) Enter(ip netip.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open >= s.total || s.from[ip] >= s.perSource {
		return false
	}
	s.open++
	s.from[ip]++
	return true
}

// Leave gives back a slot of ip's.
func (s *Slots) Leave(ip netip.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open--
	if s.from[ip]--; s.from[ip] <= 0 {
		delete(s.from, ip)
	}
}

// Open is how many slots are taken.
func (s *Slots) Open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.open
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
	c.once.Do(func() { c.l.slots.Leave(c.ip) })
	return err
}
