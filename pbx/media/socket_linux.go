package media

import (
	"net"
	"net/netip"
	"os"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawSyscalls: the reactor's reads and epoll_wait and every send are system
// calls on non-blocking descriptors, made with RawSyscall6: they return at
// once, so the Go scheduler need not know of them. Through Syscall6 each one
// entered and left a "syscall" state, and the first after an idle moment woke
// the runtime's monitor thread (sysmon), which then polled every 20 µs while
// the work went on. Raw, a relayed packet costs 8-10 µs of CPU instead of
// 13-17 at 5,000 packets a second (BenchmarkRelayLoad), and 10 % less at 50,000.

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

	sa4 unix.RawSockaddrInet4 // the address scratch for send
	sa6 unix.RawSockaddrInet6
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
// call is raw (rawSyscalls).
func (c *Socket) send(p []byte, to netip.AddrPort) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closed {
		return net.ErrClosed
	}
	var sa unsafe.Pointer
	var salen uintptr
	if c.v6 {
		c.sa6.Family, c.sa6.Addr = unix.AF_INET6, to.Addr().As16()
		putPort(&c.sa6.Port, to.Port())
		sa, salen = unsafe.Pointer(&c.sa6), unix.SizeofSockaddrInet6
	} else {
		if !to.Addr().Is4() {
			return errFamily
		}
		c.sa4.Family, c.sa4.Addr = unix.AF_INET, to.Addr().As4()
		putPort(&c.sa4.Port, to.Port())
		sa, salen = unsafe.Pointer(&c.sa4), unix.SizeofSockaddrInet4
	}
	var buf unsafe.Pointer
	if len(p) > 0 {
		buf = unsafe.Pointer(&p[0])
	}
	for {
		_, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(c.fd), uintptr(buf), uintptr(len(p)), 0, uintptr(sa), salen)
		switch e {
		case 0, unix.EAGAIN:
			return nil
		case unix.EINTR:
			continue
		default:
			return os.NewSyscallError("sendto", e)
		}
	}
}

// putPort stores port in a raw socket address, in network byte order.
func putPort(dst *uint16, port uint16) {
	b := (*[2]byte)(unsafe.Pointer(dst))
	b[0], b[1] = byte(port>>8), byte(port)
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
