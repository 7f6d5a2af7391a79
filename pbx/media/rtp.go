package media

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// SamplesPerFrame is 20 ms at 8000 Hz; G.711 has one byte per sample.
const (
	SamplesPerFrame = 160
	FrameDuration   = 20 * time.Millisecond
)

// ErrNoPorts means every port of the RTP range is in use.
var ErrNoPorts = errors.New("rtp: no free port in the range")

// errFamily: an IPv4 socket cannot send to an IPv6 peer.
var errFamily = errors.New("rtp: the peer's address family differs from the socket's")

// Ports hands out even UDP ports from a range at random: one call's SDP must not
// tell where the next call's media will be, and a port just freed is unlikely to
// be reused at once (late packets of the old call would land in the new).
type Ports struct {
	ip     netip.Addr
	lo, hi int
}

// NewPorts returns an allocator for [lo, hi] on ip.
func NewPorts(ip netip.Addr, lo, hi int) *Ports {
	lo += lo % 2
	return &Ports{ip: ip, lo: lo, hi: hi}
}

// Listen opens a UDP socket on a random free even port: a few random tries,
// then every port of the range from a random start.
func (p *Ports) Listen() (*Socket, error) {
	n := (p.hi-p.lo)/2 + 1
	try := func(i int) *Socket {
		c, err := listenUDP(netip.AddrPortFrom(p.ip, uint16(p.lo+2*(i%n))))
		if err != nil {
			return nil
		}
		return c
	}
	for range min(n, 8) {
		if c := try(rand.IntN(n)); c != nil {
			return c, nil
		}
	}
	start := rand.IntN(n)
	for i := range n {
		if c := try(start + i); c != nil {
			return c, nil
		}
	}
	return nil, ErrNoPorts
}

// Session is one RTP stream pair on one UDP socket: what we send (our SSRC,
// sequence and timestamp) and what we receive from the remote. The remote address
// comes from SDP. Only the call's peer is heard: packets from the signalled
// address are taken, and so is the first packet from the signalled host or the
// peer's SIP address on another port, which then becomes the remote (symmetric
// RTP, so that calls through NAT work). Everything else is dropped and counted:
// a stranger who finds the port can neither listen nor press keys.
//
// From Start until Close the reactor reads the socket (one reader, whatever
// the session is doing). The session notes that the peer is alive, reports key
// presses, and hands the audio to its sink (a bridge's direction) or drops it
// when there is none, so the socket is never handed from one reader to another.
type Session struct {
	sock *Socket

	mu       sync.Mutex
	remote   netip.AddrPort
	latched  bool
	hosts    []netip.Addr // the peer's signalling addresses, where a latch may come from
	dropped  *atomic.Uint64
	keys     chan<- byte // where the reader reports key presses; nil: nowhere
	detector KeyDetector

	dtmfPT atomic.Int32 // telephone-event payload type; -1 without
	sink   atomic.Pointer[sinkRef]

	start sync.Once
	end   sync.Once
	done  chan struct{} // closed when the reading has ended
	err   error         // why the reading ended, when it failed; set before done closes

	// Outgoing stream: only the one writer (the bridge or a player) touches these.
	ssrc uint32
	seq  uint16
	ts   uint32
	out  []byte
	hdr  rtp.Header

	// SRTP, when Encrypt set it: the reader owns srtpIn, the writer srtpOut
	// and sealed (the encrypted packet).
	srtpIn, srtpOut *srtp.Context
	sealed          []byte

	lastRecv atomic.Int64 // unix nanoseconds of the last packet received
}

// A Sink takes the audio a session reads from its peer (key presses are not
// passed on). It runs on the session's reader and must not block; pkt and its
// payload are only valid during the call, and the sink may change the payload.
type Sink interface {
	WriteRTP(pkt *rtp.Packet)
}

type sinkRef struct{ Sink }

// outCap fits a G.711 frame's packet with its SRTP tag; a larger one (a
// 60 ms frame) grows the buffer once. 1,500 bytes a leg was a tenth of a
// call's memory.
const outCap = 12 + SamplesPerFrame + 16

// NewSession wraps an open socket; remote is where the SDP says to send.
func NewSession(sock *Socket, remote netip.AddrPort) *Session {
	s := &Session{sock: sock, remote: unmap(remote), ssrc: rand.Uint32(), seq: uint16(rand.Uint32()),
		ts: rand.Uint32(), out: make([]byte, 0, outCap), done: make(chan struct{})}
	s.dtmfPT.Store(-1)
	s.lastRecv.Store(time.Now().UnixNano())
	return s
}

// LocalAddr is the socket's address.
func (s *Session) LocalAddr() netip.AddrPort { return s.sock.LocalAddr() }

// SetRemote changes where packets go (a re-INVITE moved the media).
func (s *Session) SetRemote(a netip.AddrPort) {
	s.mu.Lock()
	s.remote, s.latched = unmap(a), false
	s.mu.Unlock()
}

// AllowHost lets the first packet from host latch the session: the address the
// peer's SIP came from, which a phone behind NAT sends its RTP from too.
func (s *Session) AllowHost(host netip.Addr) {
	if !host.IsValid() {
		return
	}
	s.mu.Lock()
	s.hosts = append(s.hosts, host.Unmap())
	s.mu.Unlock()
}

// CountDropped makes the session count the packets it drops in n.
func (s *Session) CountDropped(n *atomic.Uint64) {
	s.mu.Lock()
	s.dropped = n
	s.mu.Unlock()
}

// peer reports whether a packet from from may be the peer's: it comes from
// where we send, or (before the session latched) from the peer's host. latch
// says it would move the remote there.
func (s *Session) peer(from netip.AddrPort) (ok, latch bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if from == s.remote {
		return true, !s.latched
	}
	if !s.latched && (from.Addr() == s.remote.Addr() || slices.Contains(s.hosts, from.Addr())) {
		return true, true
	}
	return false, false
}

// latch makes from the remote: the peer's packets come from there (symmetric RTP).
func (s *Session) latch(from netip.AddrPort) {
	s.mu.Lock()
	if !s.latched {
		s.remote, s.latched = from, true
	}
	s.mu.Unlock()
}

// drop counts a packet that was not the peer's.
func (s *Session) drop() {
	s.mu.Lock()
	if s.dropped != nil {
		s.dropped.Add(1)
	}
	s.mu.Unlock()
}

// Remote is where packets go now.
func (s *Session) Remote() netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.remote
}

// unmap makes an IPv4-mapped IPv6 address plain IPv4, so that the two compare equal.
func unmap(a netip.AddrPort) netip.AddrPort { return netip.AddrPortFrom(a.Addr().Unmap(), a.Port()) }

// scratch is what handling a datagram needs besides the datagram: the packet
// it is parsed into and, on an encrypted session, room for the plain text.
// The reader owns it.
type scratch struct {
	pkt   rtp.Packet
	plain [1500]byte
}

// receive handles one datagram from from, read at now (unix nanoseconds).
// What is not RTP, not the peer's or (SRTP) not authenticated by the peer's
// key is dropped; only a packet that passed all of that latches the session.
func (s *Session) receive(data []byte, from netip.AddrPort, now int64, sc *scratch) {
	if len(data) < 12 || data[0]>>6 != 2 {
		return
	}
	from = unmap(from)
	ok, latch := s.peer(from)
	pkt := &sc.pkt
	if ok && s.srtpIn != nil {
		var err error
		data, err = s.srtpIn.DecryptRTP(sc.plain[:], data, &pkt.Header)
		ok = err == nil
	}
	if !ok {
		s.drop()
		return
	}
	if pkt.Unmarshal(data) != nil {
		return
	}
	if latch {
		s.latch(from)
	}
	s.lastRecv.Store(now)
	if int32(pkt.PayloadType) == s.dtmfPT.Load() {
		s.key(pkt)
		return
	}
	if r := s.sink.Load(); r != nil {
		r.WriteRTP(pkt)
	}
}

// Write sends one packet of our stream: the timestamp advances by samples, the
// sequence number by one.
func (s *Session) Write(pt uint8, marker bool, payload []byte, samples uint32) error {
	s.ts += samples
	s.seq++
	return s.writeAt(pt, marker, payload, s.ts)
}

// writeAt sends a packet of our stream with the given timestamp.
func (s *Session) writeAt(pt uint8, marker bool, payload []byte, ts uint32) error {
	// The header is the session's own: built on the stack it escaped (SRTP
	// takes its address) and cost an allocation per packet.
	h := &s.hdr
	*h = rtp.Header{Version: 2, PayloadType: pt, Marker: marker, SequenceNumber: s.seq, Timestamp: ts, SSRC: s.ssrc}
	out, err := h.MarshalTo(s.out[:h.MarshalSize()])
	if err != nil {
		return err
	}
	s.out = append(s.out[:out], payload...)
	to := s.Remote()
	if !to.IsValid() || to.Port() == 0 {
		return nil // on hold or not yet known: nothing to send to
	}
	pkt := s.out
	if s.srtpOut != nil {
		if s.sealed, err = s.srtpOut.EncryptRTP(s.sealed[:0], s.out, h); err != nil {
			return err
		}
		pkt = s.sealed
	}
	return s.sock.send(pkt, to)
}

// Start starts reading the session, once: from then on the peer latches,
// counts as alive for the RTP timeout, presses keys and is heard by the sink.
// The drivers start it when the call first has media; a bridge starts it too.
func (s *Session) Start() { s.start.Do(s.startReading) }

// finish ends the reading, once: err is why (nil when the session was closed).
func (s *Session) finish(err error) {
	s.end.Do(func() {
		s.err = err
		close(s.done)
	})
}

// SetSink makes the reader hand the peer's audio to k; nil drops it.
func (s *Session) SetSink(k Sink) {
	if k == nil {
		s.sink.Store(nil)
		return
	}
	s.sink.Store(&sinkRef{k})
}

// Done is closed when the reading has ended: the session was closed, or its
// socket failed (Err says why).
func (s *Session) Done() <-chan struct{} { return s.done }

// Err is why the reading ended, when it failed; nil after Close. Valid once Done is closed.
func (s *Session) Err() error { return s.err }

// ListenKeys makes the session report key presses (RFC 4733 telephone-events
// of payload type pt) on keys, whether it is bridged or not; a full channel
// drops the key. A press is reported once.
func (s *Session) ListenKeys(pt int, keys chan<- byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = keys
	s.dtmfPT.Store(int32(pt))
}

// key reports pkt's key press, if it is a new one.
func (s *Session) key(pkt *rtp.Packet) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys == nil {
		return
	}
	if k := s.detector.Packet(pkt); k != 0 {
		select {
		case s.keys <- k:
		default:
		}
	}
}

// Touch restarts the idle time, as when the call is answered: a phone sends no
// RTP while it rings.
func (s *Session) Touch() { s.lastRecv.Store(time.Now().UnixNano()) }

// Idle is how long ago the last packet arrived.
func (s *Session) Idle() time.Duration { return time.Since(time.Unix(0, s.lastRecv.Load())) }

// Close closes the socket and so ends the reading.
func (s *Session) Close() error {
	err := s.sock.Close()
	s.finish(nil)
	return err
}

func (s *Session) String() string { return fmt.Sprintf("rtp %s<->%s", s.LocalAddr(), s.Remote()) }
