package sip

import (
	"net"
	"os"
	"syscall"

	"github.com/peerline/peerline/internal/rawudp"
	"golang.org/x/sys/unix"
)

// rawUDP is the SIP listener's UDP socket with its reads and writes made as
// raw system calls (internal/rawudp says why), still waiting through Go's
// netpoller.
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
		from  rawudp.Addr
		errno syscall.Errno
	)
	err := c.rc.Read(func(fd uintptr) bool {
		n, errno = rawudp.RecvFrom(fd, b, &from)
		return errno != unix.EAGAIN
	})
	if err == nil && errno != 0 {
		err = os.NewSyscallError("recvfrom", errno)
	}
	if err != nil {
		return 0, nil, &net.OpError{Op: "read", Net: "udp", Source: c.LocalAddr(), Err: err}
	}
	ap, _ := from.AddrPort()
	return n, net.UDPAddrFromAddrPort(ap), nil
}

// WriteTo sends one datagram to addr, as net.UDPConn's does.
func (c *rawUDP) WriteTo(b []byte, addr net.Addr) (int, error) {
	var to rawudp.Addr
	ua, ok := addr.(*net.UDPAddr)
	if !ok || ua.Zone != "" || !to.Set(ua.AddrPort(), c.v6) {
		return c.UDPConn.WriteTo(b, addr) // its own error, or a scoped address
	}
	var errno syscall.Errno
	err := c.rc.Write(func(fd uintptr) bool {
		errno = rawudp.SendTo(fd, b, &to)
		return errno != unix.EAGAIN
	})
	if err == nil && errno != 0 {
		err = os.NewSyscallError("sendto", errno)
	}
	if err != nil {
		return 0, &net.OpError{Op: "write", Net: "udp", Source: c.LocalAddr(), Addr: addr, Err: err}
	}
	return len(b), nil
}
