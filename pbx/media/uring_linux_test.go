package media_test

// A minimal io_uring, enough for the floor relay below: written against the
// kernel's ABI (include/uapi/linux/io_uring.h) with x/sys/unix. It is the one
// shape that batches system calls across a socket per leg; peerline's relay
// does not use it (BenchmarkRelayLoad measures why: it costs more at low
// rates, and no more than the floors of the other shapes at high ones).

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func init() { osFloors = append(osFloors, relayShape{"floor-uring", floorURing}) }

// floorURing is a socket per leg read and written through one io_uring:
// multishot receives into provided buffers, each relayed by a send from the
// same buffer, submitted together with the wait for the next completions.
func floorURing(tb testing.TB, gen []netip.AddrPort) ([]netip.AddrPort, *atomic.Uint64) {
	relayed := new(atomic.Uint64)
	n := len(gen)
	fds := make([]int, n)
	targets := make([]netip.AddrPort, n)
	dst := make([]unix.RawSockaddrInet4, n)
	for i := range fds {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			tb.Fatal(err)
		}
		unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})
		sa, _ := unix.Getsockname(fd)
		targets[i] = netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(sa.(*unix.SockaddrInet4).Port))
		fds[i] = fd
		g := gen[peer(i)]
		dst[i].Family = unix.AF_INET
		dst[i].Addr = g.Addr().As4()
		dst[i].Port = g.Port()>>8 | g.Port()<<8
	}
	const nbuf, bufSize = 4096, 2048
	recvMsgs := make([]unix.Msghdr, n)
	sendMsgs := make([]unix.Msghdr, nbuf)
	iovs := make([]unix.Iovec, nbuf)
	ready := make(chan error)
	var stop atomic.Bool
	tb.Cleanup(func() {
		// The worker waits in the ring for a completion: a datagram of its
		// own wakes it to see the stop, then it closes the ring and sockets.
		stop.Store(true)
		if c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(targets[0])); err == nil {
			c.Write([]byte("stop"))
			c.Close()
		}
	})
	go func() {
		runtime.LockOSThread() // the ring's single issuer is this thread
		defer func() {
			for _, fd := range fds {
				unix.Close(fd)
			}
		}()
		rg, err := newRing(1024, 16384)
		if err != nil {
			ready <- err
			return
		}
		br, err := rg.RegisterBufRing(0, nbuf, bufSize)
		if err != nil {
			rg.Close()
			ready <- err
			return
		}
		defer br.Close()
		defer rg.Close() // before the buffers it receives into go
		get := func() *sqe {
			for {
				if e := rg.Get(); e != nil {
					return e
				}
				rg.Submit(false)
			}
		}
		arm := func(i int) {
			recvMsgs[i].Namelen = unix.SizeofSockaddrInet6
			rg.RecvMultishot(get(), fds[i], &recvMsgs[i], 0, uint64(i))
		}
		for i := range fds {
			arm(i)
		}
		close(ready)
		const sendTag = 1 << 32
		handle := func(c *cqe) {
			if c.UserData&sendTag != 0 {
				br.Put(uint16(c.UserData))
				return
			}
			i := int(c.UserData)
			if id, ok := c.Buffer(); ok {
				payload, trunc := recvmsgOut(br.Buf(id)[:c.Res], unix.SizeofSockaddrInet6)
				if trunc || len(payload) == 0 {
					br.Put(id)
				} else {
					iovs[id].Base = &payload[0]
					iovs[id].SetLen(len(payload))
					m := &sendMsgs[id]
					m.Name = (*byte)(unsafe.Pointer(&dst[peer(i)]))
					m.Namelen = unix.SizeofSockaddrInet4
					m.Iov = &iovs[id]
					m.SetIovlen(1)
					rg.Sendmsg(get(), fds[peer(i)], m, sendTag|uint64(id))
					relayed.Add(1)
				}
			}
			if !c.More() {
				arm(i)
			}
		}
		for !stop.Load() {
			if err := rg.Submit(true); err != nil {
				panic(err)
			}
			rg.Completions(handle)
			br.Publish()
		}
	}()
	if err := <-ready; errors.Is(err, errNoURing) {
		tb.Skip(err)
	} else if err != nil {
		tb.Fatal(err)
	}
	return targets, relayed
}

// Operations, flags and offsets from include/uapi/linux/io_uring.h.
const (
	opSendmsg = 9
	opRecvmsg = 10

	sqeBufferSelect = 1 << 5

	recvMultishot = 1 << 1

	cqeFBuffer = 1 << 0
	cqeFMore   = 1 << 1

	setupCQSize       = 1 << 3
	setupSubmitAll    = 1 << 7
	setupSingleIssuer = 1 << 12
	setupDeferTaskrun = 1 << 13
	featSingleMmap    = 1 << 0
	featNodrop        = 1 << 1
	enterGetEvents    = 1 << 0
	registerPbufRing  = 22
	offSQRing         = 0
	offSQEs           = 0x10000000
	recvmsgOutSize    = 16
	bufRingEntrySize  = 16
	bufRingTailOffset = 14
	sqeSize           = 64
	cqeSize           = 16
	paramsSize        = 120
)

// The kernel's struct sizes, checked when this compiles.
var (
	_ [sqeSize]byte    = [unsafe.Sizeof(sqe{})]byte{}
	_ [cqeSize]byte    = [unsafe.Sizeof(cqe{})]byte{}
	_ [paramsSize]byte = [unsafe.Sizeof(params{})]byte{}
)

// errNoURing is returned when the kernel lacks what the ring needs.
var errNoURing = errors.New("io_uring: not supported by this kernel")

type params struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFD uint32
	resv                                                                   [3]uint32
	sqOff                                                                  struct {
		head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
		userAddr                                                        uint64
	}
	cqOff struct {
		head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
		userAddr                                                        uint64
	}
}

// sqe is a submission queue entry.
type sqe struct {
	Opcode      uint8
	Flags       uint8
	Ioprio      uint16
	Fd          int32
	Off         uint64
	Addr        uint64
	Len         uint32
	OpFlags     uint32
	UserData    uint64
	BufIndex    uint16
	Personality uint16
	FileIndex   uint32
	Addr3       uint64
	_           uint64
}

// cqe is a completion queue entry.
type cqe struct {
	UserData uint64
	Res      int32
	Flags    uint32
}

// More reports whether a multishot request goes on after this completion.
func (c *cqe) More() bool { return c.Flags&cqeFMore != 0 }

// Buffer is the provided buffer a receive filled; ok is false for none.
func (c *cqe) Buffer() (id uint16, ok bool) {
	return uint16(c.Flags >> 16), c.Flags&cqeFBuffer != 0
}

// ring is an io_uring instance. Only the thread that made it may use it
// (single issuer), so its owner locks its goroutine to its thread.
type ring struct {
	fd      int
	ringMem []byte
	sqeMem  []byte

	sqHead, sqTail *uint32
	sqMask         uint32
	sqArray        unsafe.Pointer
	sqes           unsafe.Pointer
	sqLocal        uint32 // entries handed out, not yet made visible
	sqEntries      uint32

	cqHead, cqTail *uint32
	cqMask         uint32
	cqes           unsafe.Pointer
}

// newRing makes a ring of entries submission slots and cqEntries completion ones.
func newRing(entries, cqEntries uint32) (*ring, error) {
	var p params
	p.flags = setupCQSize | setupSubmitAll | setupSingleIssuer | setupDeferTaskrun
	p.cqEntries = cqEntries
	fd, _, e := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if e != 0 {
		if e == unix.ENOSYS || e == unix.EINVAL || e == unix.EPERM {
			return nil, fmt.Errorf("%w: io_uring_setup: %v", errNoURing, e)
		}
		return nil, os.NewSyscallError("io_uring_setup", e)
	}
	r := &ring{fd: int(fd)}
	if p.features&featSingleMmap == 0 || p.features&featNodrop == 0 {
		r.Close()
		return nil, fmt.Errorf("%w: features %#x", errNoURing, p.features)
	}
	sqSize := uintptr(p.sqOff.array) + uintptr(p.sqEntries)*4
	cqSize := uintptr(p.cqOff.cqes) + uintptr(p.cqEntries)*cqeSize
	size := max(sqSize, cqSize)
	mem, err := unix.Mmap(r.fd, offSQRing, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		r.Close()
		return nil, os.NewSyscallError("mmap", err)
	}
	r.ringMem = mem
	sqes, err := unix.Mmap(r.fd, offSQEs, int(p.sqEntries)*sqeSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		r.Close()
		return nil, os.NewSyscallError("mmap", err)
	}
	r.sqeMem = sqes
	base := unsafe.Pointer(&mem[0])
	r.sqHead = (*uint32)(unsafe.Add(base, p.sqOff.head))
	r.sqTail = (*uint32)(unsafe.Add(base, p.sqOff.tail))
	r.sqMask = *(*uint32)(unsafe.Add(base, p.sqOff.ringMask))
	r.sqArray = unsafe.Add(base, p.sqOff.array)
	r.sqes = unsafe.Pointer(&sqes[0])
	r.sqEntries = p.sqEntries
	r.sqLocal = *r.sqTail
	r.cqHead = (*uint32)(unsafe.Add(base, p.cqOff.head))
	r.cqTail = (*uint32)(unsafe.Add(base, p.cqOff.tail))
	r.cqMask = *(*uint32)(unsafe.Add(base, p.cqOff.ringMask))
	r.cqes = unsafe.Add(base, p.cqOff.cqes)
	return r, nil
}

// Close unmaps and closes the ring; its requests end with it.
func (r *ring) Close() error {
	if r.sqeMem != nil {
		unix.Munmap(r.sqeMem)
	}
	if r.ringMem != nil {
		unix.Munmap(r.ringMem)
	}
	return unix.Close(r.fd)
}

// Get is the next free submission entry, zeroed; nil when the queue is full
// (Submit, then ask again).
func (r *ring) Get() *sqe {
	head := atomic.LoadUint32(r.sqHead)
	if r.sqLocal-head >= r.sqEntries {
		return nil
	}
	i := r.sqLocal & r.sqMask
	*(*uint32)(unsafe.Add(r.sqArray, uintptr(i)*4)) = i
	r.sqLocal++
	e := (*sqe)(unsafe.Add(r.sqes, uintptr(i)*sqeSize))
	*e = sqe{}
	return e
}

// Submit submits the queued entries and, when wait, blocks until at least
// one completion is there. It also runs the ring's deferred work, which is
// where receives complete.
func (r *ring) Submit(wait bool) error {
	atomic.StoreUint32(r.sqTail, r.sqLocal)
	var atLeast uintptr
	if wait {
		atLeast = 1
	}
	for {
		// What the kernel has not taken yet, also after an interrupted call.
		n := r.sqLocal - atomic.LoadUint32(r.sqHead)
		var e syscall.Errno
		if wait {
			_, _, e = unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(n), atLeast, enterGetEvents, 0, 0)
		} else {
			_, _, e = unix.RawSyscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(n), 0, enterGetEvents, 0, 0)
		}
		switch e {
		case 0:
			return nil
		case unix.EINTR, unix.EAGAIN, unix.EBUSY:
			if !wait {
				return nil
			}
		default:
			return os.NewSyscallError("io_uring_enter", e)
		}
	}
}

// Completions calls f for every completion there, then frees them.
func (r *ring) Completions(f func(*cqe)) {
	head := *r.cqHead
	tail := atomic.LoadUint32(r.cqTail)
	for ; head != tail; head++ {
		f((*cqe)(unsafe.Add(r.cqes, uintptr(head&r.cqMask)*cqeSize)))
	}
	atomic.StoreUint32(r.cqHead, head)
}

// RecvMultishot asks for every datagram fd receives, each into a buffer of
// group, with the address in msg's name room; user tags the completions.
func (r *ring) RecvMultishot(e *sqe, fd int, msg *unix.Msghdr, group uint16, user uint64) {
	e.Opcode = opRecvmsg
	e.Fd = int32(fd)
	e.Addr = uint64(uintptr(unsafe.Pointer(msg)))
	e.Ioprio = recvMultishot
	e.Flags = sqeBufferSelect
	e.BufIndex = group
	e.UserData = user
}

// Sendmsg sends msg on fd; msg and what it points to must stay until the
// completion.
func (r *ring) Sendmsg(e *sqe, fd int, msg *unix.Msghdr, user uint64) {
	e.Opcode = opSendmsg
	e.Fd = int32(fd)
	e.Addr = uint64(uintptr(unsafe.Pointer(msg)))
	e.Len = 1
	e.UserData = user
}

// recvmsgOut reads a multishot receive's buffer: the payload after the
// header and the name room of nameLen bytes (the floor sends to the peer
// signalled, not to the sender); trunc is true when the datagram did not fit.
func recvmsgOut(buf []byte, nameLen int) (payload []byte, trunc bool) {
	if len(buf) < recvmsgOutSize+nameLen {
		return nil, true
	}
	plen := int(*(*uint32)(unsafe.Pointer(&buf[8])))
	flags := *(*uint32)(unsafe.Pointer(&buf[12]))
	rest := buf[recvmsgOutSize+nameLen:]
	if plen > len(rest) {
		return rest, true
	}
	return rest[:plen], flags&unix.MSG_TRUNC != 0
}

// bufRing is a ring of provided buffers the kernel receives into.
type bufRing struct {
	mem   []byte // the ring's entries, page-aligned
	bufs  []byte // the buffers, size each
	size  int
	mask  uint16
	tail  *uint16
	local uint16
}

// RegisterBufRing gives the ring n (a power of two) buffers of size bytes as
// group.
func (r *ring) RegisterBufRing(group uint16, n, size int) (*bufRing, error) {
	mem, err := unix.Mmap(-1, 0, n*bufRingEntrySize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANONYMOUS|unix.MAP_PRIVATE|unix.MAP_POPULATE)
	if err != nil {
		return nil, os.NewSyscallError("mmap", err)
	}
	bufs, err := unix.Mmap(-1, 0, n*size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANONYMOUS|unix.MAP_PRIVATE|unix.MAP_POPULATE)
	if err != nil {
		unix.Munmap(mem)
		return nil, os.NewSyscallError("mmap", err)
	}
	reg := struct {
		ringAddr    uint64
		ringEntries uint32
		bgid        uint16
		flags       uint16
		resv        [3]uint64
	}{ringAddr: uint64(uintptr(unsafe.Pointer(&mem[0]))), ringEntries: uint32(n), bgid: group}
	_, _, e := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), registerPbufRing, uintptr(unsafe.Pointer(&reg)), 1, 0, 0)
	if e != 0 {
		unix.Munmap(mem)
		unix.Munmap(bufs)
		if e == unix.EINVAL {
			return nil, fmt.Errorf("%w: register buffer ring: %v", errNoURing, e)
		}
		return nil, os.NewSyscallError("io_uring_register", e)
	}
	br := &bufRing{mem: mem, bufs: bufs, size: size, mask: uint16(n - 1), tail: (*uint16)(unsafe.Pointer(&mem[bufRingTailOffset]))}
	for i := range n {
		br.Put(uint16(i))
	}
	br.Publish()
	return br, nil
}

// Close unmaps the buffers; the ring that used them is closed.
func (br *bufRing) Close() {
	unix.Munmap(br.bufs)
	unix.Munmap(br.mem)
}

// Buf is buffer id's memory.
func (br *bufRing) Buf(id uint16) []byte {
	off := int(id) * br.size
	return br.bufs[off : off+br.size : off+br.size]
}

// Put gives buffer id back to the kernel; Publish makes it visible.
func (br *bufRing) Put(id uint16) {
	e := unsafe.Pointer(&br.mem[int(br.local&br.mask)*bufRingEntrySize])
	*(*uint64)(e) = uint64(uintptr(unsafe.Pointer(&br.bufs[int(id)*br.size])))
	*(*uint32)(unsafe.Add(e, 8)) = uint32(br.size)
	*(*uint16)(unsafe.Add(e, 12)) = id
	br.local++
}

// Publish makes the buffers put since the last call the kernel's.
func (br *bufRing) Publish() {
	atomicStore16(br.tail, br.local)
}

// atomicStore16 is a release store of the 16-bit tail at p: the tail shares
// an aligned 32-bit word with entry 0's buffer id, which only this thread
// writes, so the word is read and stored whole.
func atomicStore16(p *uint16, v uint16) {
	w := (*uint32)(unsafe.Add(unsafe.Pointer(p), -2))
	old := atomic.LoadUint32(w)
	atomic.StoreUint32(w, old&0xffff|uint32(v)<<16)
}
