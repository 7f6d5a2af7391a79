package rawudp

import (
	"net/netip"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Addr is room for a raw IPv4 or IPv6 socket address: one to send to, or one
// a datagram came from.
type Addr struct {
	raw unix.RawSockaddrInet6 // the larger of the two; an IPv4 one lies over its start
	len uint32
}

// Set makes a the address of to for a socket of the IPv6 family (v6; an
// IPv4 peer is IPv4-mapped) or the IPv4 one; false when an IPv4 socket
// cannot reach to, or to is no address.
func (a *Addr) Set(to netip.AddrPort, v6 bool) bool {
	if !to.Addr().IsValid() {
		return false
	}
	if v6 {
		a.raw.Family, a.raw.Addr = unix.AF_INET6, to.Addr().As16()
		putPort(&a.raw.Port, to.Port())
		a.len = unix.SizeofSockaddrInet6
		return true
	}
	ip := to.Addr().Unmap()
	if !ip.Is4() {
		return false
	}
	v4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(&a.raw))
	v4.Family, v4.Addr = unix.AF_INET, ip.As4()
	putPort(&v4.Port, to.Port())
	a.len = unix.SizeofSockaddrInet4
	return true
}

// AddrPort is the address a holds (IPv4-mapped ones as IPv4); false for
// another family.
func (a *Addr) AddrPort() (netip.AddrPort, bool) {
	switch a.raw.Family {
	case unix.AF_INET:
		v4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(&a.raw))
		return netip.AddrPortFrom(netip.AddrFrom4(v4.Addr), port(&v4.Port)), true
	case unix.AF_INET6:
		ip := netip.AddrFrom16(a.raw.Addr).Unmap()
		if a.raw.Scope_id != 0 && ip.Is6() {
			ip = ip.WithZone(strconv.FormatUint(uint64(a.raw.Scope_id), 10))
		}
		return netip.AddrPortFrom(ip, port(&a.raw.Port)), true
	}
	return netip.AddrPort{}, false
}

// Name is where a receive writes the address, and how much room it has
// (recvmmsg's msg_name and msg_namelen).
func (a *Addr) Name() (*byte, uint32) {
	return (*byte)(unsafe.Pointer(&a.raw)), uint32(unsafe.Sizeof(a.raw))
}

// SendTo sends p on the non-blocking socket fd to a.
func SendTo(fd uintptr, p []byte, a *Addr) syscall.Errno {
	for {
		_, _, e := unix.RawSyscall6(unix.SYS_SENDTO, fd, uintptr(bufPtr(p)), uintptr(len(p)), 0,
			uintptr(unsafe.Pointer(&a.raw)), uintptr(a.len))
		if e != unix.EINTR {
			return e
		}
	}
}

// RecvFrom reads one datagram from the non-blocking socket fd into p, and
// where it came from into from.
func RecvFrom(fd uintptr, p []byte, from *Addr) (int, syscall.Errno) {
	for {
		from.len = uint32(unsafe.Sizeof(from.raw))
		n, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, fd, uintptr(bufPtr(p)), uintptr(len(p)), 0,
			uintptr(unsafe.Pointer(&from.raw)), uintptr(unsafe.Pointer(&from.len)))
		if e != unix.EINTR {
			return int(n), e
		}
	}
}

// RecvMmsg reads up to len(hdrs) datagrams from the non-blocking socket fd
// at once.
func RecvMmsg(fd uintptr, hdrs []unix.Mmsghdr) (int, syscall.Errno) {
	for {
		n, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&hdrs[0])), uintptr(len(hdrs)),
			unix.MSG_DONTWAIT, 0, 0)
		if e != unix.EINTR {
			return int(n), e
		}
	}
}

// EpollPoll takes the ready events of the epoll set epfd without waiting.
func EpollPoll(epfd int, events []unix.EpollEvent) (int, syscall.Errno) {
	for {
		n, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])),
			uintptr(len(events)), 0, 0, 0)
		if e != unix.EINTR {
			return int(n), e
		}
	}
}

func bufPtr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}

// putPort and port write and read a port in network byte order.
func putPort(dst *uint16, p uint16) {
	b := (*[2]byte)(unsafe.Pointer(dst))
	b[0], b[1] = byte(p>>8), byte(p)
}

func port(src *uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(src))
	return uint16(b[0])<<8 | uint16(b[1])
}
