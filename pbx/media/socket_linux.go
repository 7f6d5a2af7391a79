package media

import (
	"net"
	"net/netip"
	"os"
	"sync"

	"github.com/peerline/peerline/internal/rawudp"
	"golang.org/x/sys/unix"
)

// Socket is a non-blocking UDP socket kept out of Go's netpoller: the reactor
// (reactor_linux.go) reads it in batches, and the session's writer sends on it.
// A closed socket's descriptor number is soon another socket's, so it is only
// used under a lock that Close takes whole.
type Socket struct {
	fd    int
	local netip.AddrPort
	v6    bool

	rmu    sync.Mutex // the reactor's read
	wmu    sync.Mutex // a write, and the address scratch below
	closed bool       // under both locks
	shard  *shard     // where the reactor polls it; nil until the session starts

	to rawudp.Addr // the address scratch for send
}

// listenUDP opens a socket bound to ap.
func listenUDP(ap netip.AddrPort) (*Socket, error) {
	c := &Socket{v6: ap.Addr().Is6() && !ap.Addr().Is4In6()}
	family := unix.AF_INET
	if c.v6 {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	var sa unix.Sockaddr
	if c.v6 {
		// Dual stack: an IPv6 socket on :: hears IPv4 peers too.
		unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0)
		sa = &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
	} else {
		sa = &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().Unmap().As4()}
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("bind", err)
	}
	c.fd, c.local = fd, ap
	if ap.Port() == 0 {
		got, err := unix.Getsockname(fd)
		if err != nil {
			unix.Close(fd)
			return nil, os.NewSyscallError("getsockname", err)
		}
		c.local = sockaddrPort(got)
	}
	return c, nil
}

func sockaddrPort(sa unix.Sockaddr) netip.AddrPort {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port))
	}
	return netip.AddrPort{}
}

// LocalAddr is where the socket is bound.
func (c *Socket) LocalAddr() netip.AddrPort { return c.local }

// send sends one datagram to to. A full send buffer drops it, as the network
// would: a relay must not block on one leg. The socket never blocks, so the
// call is raw (internal/rawudp).
func (c *Socket) send(p []byte, to netip.AddrPort) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closed {
		return net.ErrClosed
	}
	if !c.to.Set(to, c.v6) {
		return errFamily
	}
	switch e := rawudp.SendTo(uintptr(c.fd), p, &c.to); e {
	case 0, unix.EAGAIN:
		return nil
	default:
		return os.NewSyscallError("sendto", e)
	}
}

// Close closes the socket; the reactor no longer polls it.
func (c *Socket) Close() error {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closed {
		return net.ErrClosed
	}
	c.closed = true
	c.detach()
	return os.NewSyscallError("close", unix.Close(c.fd))
}

// detach takes the socket out of the reactor; c.rmu is held.
func (c *Socket) detach() {
	if c.shard != nil {
		c.shard.remove(c.fd)
		unix.EpollCtl(c.shard.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
		c.shard = nil
	}
}
