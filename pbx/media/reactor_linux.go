package media

import (
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/peerline/peerline/internal/rawudp"
	"golang.org/x/sys/unix"
)

// The reactor reads every session's socket from a small fixed set of
// goroutines, one per shard, each draining its own epoll set and reading a
// ready socket with one recvmmsg. A goroutine blocked in a read per leg is
// woken by Go's netpoller for every packet, and its stack is the bulk of a
// call's memory. Level-triggered epoll reports only sockets with data, so no
// read comes back empty, and one worker per shard keeps each socket's packets
// in order.
//
// The worker never blocks in epoll_wait itself: the runtime hands a P held by
// a thread blocked in a system call to another thread. The epoll set's own
// descriptor is pollable, so Go's netpoller waits on it, and the worker asks
// it for events without waiting; under 200 bridged calls that took 6.5-6.6 s
// of CPU where a worker blocked in epoll_wait took 6.8-7.3 s.
type reactor struct {
	once   sync.Once
	err    error
	shards []*shard
	next   atomic.Uint32
}

var reacting reactor

// shard is one epoll set and its worker.
type shard struct {
	epfd int
	file *os.File // epfd, as Go's netpoller waits on it
	mu   sync.Mutex
	// by descriptor: a stale event for a descriptor closed and reused meanwhile
	// finds the new socket (read by this same worker) or nothing.
	sessions map[int32]*Session
}

// batchSize is how many datagrams one recvmmsg takes at most.
const batchSize = 8

// maxShards bounds the workers: past a few, more only add wake-ups.
const maxShards = 4

// start makes the shards; one that cannot be made leaves the others to do
// the work, and without any every session fails to start (r.err).
func (r *reactor) start() {
	for range min(runtime.GOMAXPROCS(0), maxShards) {
		sh, rc, err := newShard()
		if err != nil {
			r.err = err
			break
		}
		r.shards = append(r.shards, sh)
		go sh.run(rc)
	}
	if len(r.shards) > 0 {
		r.err = nil
	}
}

func newShard() (*shard, syscall.RawConn, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, nil, os.NewSyscallError("epoll_create1", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil { // so that os.NewFile gives the set to the netpoller
		unix.Close(fd)
		return nil, nil, os.NewSyscallError("fcntl", err)
	}
	sh := &shard{epfd: fd, file: os.NewFile(uintptr(fd), "rtp-epoll"), sessions: map[int32]*Session{}}
	rc, err := sh.file.SyscallConn()
	if err != nil {
		sh.file.Close()
		return nil, nil, err
	}
	return sh, rc, nil
}

// add makes the reactor read s's socket from now on.
func (r *reactor) add(s *Session) error {
	r.once.Do(r.start)
	if r.err != nil {
		return r.err
	}
	c := s.sock
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if c.closed {
		return nil
	}
	sh := r.shards[int(r.next.Add(1))%len(r.shards)]
	sh.mu.Lock()
	sh.sessions[int32(c.fd)] = s
	sh.mu.Unlock()
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(c.fd)}
	if err := unix.EpollCtl(sh.epfd, unix.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
		sh.remove(c.fd)
		return os.NewSyscallError("epoll_ctl", err)
	}
	c.shard = sh
	return nil
}

// remove forgets fd; closing it takes it out of the epoll set.
func (sh *shard) remove(fd int) {
	sh.mu.Lock()
	delete(sh.sessions, int32(fd))
	sh.mu.Unlock()
}

func (sh *shard) run(rc syscall.RawConn) {
	events := make([]unix.EpollEvent, 128)
	b := newBatch()
	// Read calls the function until it returns true (never); false parks the
	// worker until the netpoller sees the epoll set readable. The netpoller
	// watches edges, and a packet that arrives meanwhile makes one, so the
	// worker may park once it took fewer events than it asked for; only a
	// socket that filled a whole batch (more may wait, and waiting data makes
	// no new edge) has it ask again first. Asking until an epoll_wait found
	// nothing made a fifth more epoll_wait calls.
	err := rc.Read(func(uintptr) bool {
		for {
			n, e := rawudp.EpollPoll(sh.epfd, events)
			if e != 0 {
				panic(fmt.Sprintf("rtp reactor: epoll_wait: %v", e)) // a bad epoll fd is a bug
			}
			now := time.Now().UnixNano()
			more := n == len(events)
			for _, ev := range events[:n] {
				sh.mu.Lock()
				s := sh.sessions[ev.Fd]
				sh.mu.Unlock()
				if s != nil && s.readBatch(b, now) == batchSize {
					more = true
				}
			}
			if !more {
				return false
			}
		}
	})
	panic(fmt.Sprintf("rtp reactor: %v", err)) // the set is never closed
}

// batch is a worker's recvmmsg set-up and scratch, reused for every read.
type batch struct {
	hdrs  [batchSize]unix.Mmsghdr
	iovs  [batchSize]unix.Iovec
	names [batchSize]rawudp.Addr
	bufs  [batchSize][1500]byte
	scratch
}

func newBatch() *batch {
	b := &batch{}
	for i := range b.hdrs {
		b.iovs[i].Base = &b.bufs[i][0]
		b.iovs[i].SetLen(len(b.bufs[i]))
		b.hdrs[i].Hdr.Iov = &b.iovs[i]
		b.hdrs[i].Hdr.SetIovlen(1)
	}
	return b
}

// recv reads up to batchSize datagrams; 0 when the socket is closed or had
// nothing after all.
func (c *Socket) recv(b *batch) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if c.closed {
		return 0, nil
	}
	for i := range b.hdrs {
		b.hdrs[i].Hdr.Name, b.hdrs[i].Hdr.Namelen = b.names[i].Name()
		b.hdrs[i].Hdr.Flags = 0
	}
	switch n, e := rawudp.RecvMmsg(uintptr(c.fd), b.hdrs[:]); e {
	case 0:
		return n, nil
	case unix.EAGAIN:
		return 0, nil
	default:
		return 0, os.NewSyscallError("recvmmsg", e)
	}
}

// datagram is the i-th datagram of the last recv and where it came from;
// ok is false for one cut short (larger than a buffer: no RTP of ours).
func (b *batch) datagram(i int) (data []byte, from netip.AddrPort, ok bool) {
	h := &b.hdrs[i]
	if h.Hdr.Flags&unix.MSG_TRUNC != 0 {
		return nil, from, false
	}
	if from, ok = b.names[i].AddrPort(); !ok {
		return nil, from, false
	}
	return b.bufs[i][:h.Len], from, true
}

// readBatch reads what s's socket holds and handles each datagram; a socket
// that fails ends the session's reading. It returns how many datagrams it read.
func (s *Session) readBatch(b *batch, now int64) int {
	n, err := s.sock.recv(b)
	if err != nil {
		s.sock.rmu.Lock()
		s.sock.detach()
		s.sock.rmu.Unlock()
		s.finish(err)
		return 0
	}
	for i := range n {
		if data, from, ok := b.datagram(i); ok {
			s.receive(data, from, now, &b.scratch)
		}
	}
	return n
}

// startReading hands s to the reactor.
func (s *Session) startReading() {
	if err := reacting.add(s); err != nil {
		s.finish(err)
	}
}
