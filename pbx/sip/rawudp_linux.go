package sip

import (
	"net"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawUDP is the SIP listener's UDP socket with its reads and writes made as
// raw system calls (RawSyscall6), still waiting through Go's netpoller. The
// socket never blocks, so the scheduler need not hear of each call: through
// Syscall6 the first one after an idle moment woke the runtime's monitor
// thread, which then polled every 20 µs while the call went on (the same
// reason as pbx/media's rawSyscalls).
type rawUDP struct {
	*net.UDPConn
	rc syscall.RawConn
	v6 bool // an AF_INET6 socket (a wildcard listen is dual-stack)
}

// rawPacketConn wraps pc when it is a UDP socket; anything else is returned
// as it is.
func rawPacketConn(pc net.PacketConn) net.PacketConn {
	uc, ok := pc.(*net.UDPConn)
	if !ok {
		return pc
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		return pc
	}
	domain := -1
	rc.Control(func(fd uintptr) { domain, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DOMAIN) })
	if domain != unix.AF_INET && domain != unix.AF_INET6 {
		return pc
	}
	return &rawUDP{UDPConn: uc, rc: rc, v6: domain == unix.AF_INET6}
}

// ReadFrom reads one datagram, as net.UDPConn's does.
func (c *rawUDP) ReadFrom(b []byte) (int, net.Addr, error) {
	var (
		n     int
		from  unix.RawSockaddrAny
		errno syscall.Errno
	)
	err := c.rc.Read(func(fd uintptr) bool {
		for {
			fromlen := uint32(unsafe.Sizeof(from))
			r, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, fd, uintptr(bufPtr(b)), uintptr(len(b)), 0,
				uintptr(unsafe.Pointer(&from)), uintptr(unsafe.Pointer(&fromlen)))
			if e == unix.EINTR {
				continue
			}
			n, errno = int(r), e
			return e != unix.EAGAIN
		}
	})
	if err == nil && errno != 0 {
		err = os.NewSyscallError("recvfrom", errno)
	}
	if err != nil {
		return 0, nil, &net.OpError{Op: "read", Net: "udp", Source: c.LocalAddr(), Err: err}
	}
	return n, udpAddr(&from), nil
}

// WriteTo sends one datagram to addr, as net.UDPConn's does.
func (c *rawUDP) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok || ua.Zone != "" || (!c.v6 && ua.IP.To4() == nil) || ua.IP.To16() == nil {
		return c.UDPConn.WriteTo(b, addr) // its own error, or a scoped address
	}
	var (
		sa4   unix.RawSockaddrInet4
		sa6   unix.RawSockaddrInet6
		sa    unsafe.Pointer
		salen uintptr
	)
	if c.v6 {
		sa6.Family = unix.AF_INET6
		copy(sa6.Addr[:], ua.IP.To16())
		putPort(&sa6.Port, ua.Port)
		sa, salen = unsafe.Pointer(&sa6), unix.SizeofSockaddrInet6
	} else {
		sa4.Family = unix.AF_INET
		copy(sa4.Addr[:], ua.IP.To4())
		putPort(&sa4.Port, ua.Port)
		sa, salen = unsafe.Pointer(&sa4), unix.SizeofSockaddrInet4
	}
	var (
		n     int
		errno syscall.Errno
	)
	err := c.rc.Write(func(fd uintptr) bool {
		for {
			r, _, e := unix.RawSyscall6(unix.SYS_SENDTO, fd, uintptr(bufPtr(b)), uintptr(len(b)), 0, uintptr(sa), salen)
			if e == unix.EINTR {
				continue
			}
			n, errno = int(r), e
			return e != unix.EAGAIN
		}
	})
	if err == nil && errno != 0 {
		err = os.NewSyscallError("sendto", errno)
	}
	if err != nil {
		return 0, &net.OpError{Op: "write", Net: "udp", Source: c.LocalAddr(), Addr: addr, Err: err}
	}
	return n, nil
}

// bufPtr is where b starts; nil for an empty b.
func bufPtr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}

// putPort stores port in a raw socket address, in network byte order.
func putPort(dst *uint16, port int) {
	p := (*[2]byte)(unsafe.Pointer(dst))
	p[0], p[1] = byte(port>>8), byte(port)
}

// udpAddr is the sender's address in from.
func udpAddr(from *unix.RawSockaddrAny) *net.UDPAddr {
	switch from.Addr.Family {
	case unix.AF_INET:
		a := (*unix.RawSockaddrInet4)(unsafe.Pointer(from))
		p := (*[2]byte)(unsafe.Pointer(&a.Port))
		return &net.UDPAddr{IP: net.IPv4(a.Addr[0], a.Addr[1], a.Addr[2], a.Addr[3]), Port: int(p[0])<<8 | int(p[1])}
	case unix.AF_INET6:
		a := (*unix.RawSockaddrInet6)(unsafe.Pointer(from))
		p := (*[2]byte)(unsafe.Pointer(&a.Port))
		ip := make(net.IP, net.IPv6len)
		copy(ip, a.Addr[:])
		ua := &net.UDPAddr{IP: ip, Port: int(p[0])<<8 | int(p[1])}
		if a.Scope_id != 0 {
			if ifi, err := net.InterfaceByIndex(int(a.Scope_id)); err == nil {
				ua.Zone = ifi.Name
			}
		}
		return ua
	}
	return &net.UDPAddr{}
}
