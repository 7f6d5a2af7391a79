// Package mediatest is a fake phone's media for tests: it sends a tone as RTP and
// records what it hears, so tests can check audio by frequency.
package mediatest

import (
	"math"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peerline/peerline/pbx/media"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// Phone is a UDP endpoint that speaks RTP like a phone.
type Phone struct {
	Conn *net.UDPConn
	PT   uint8

	countOnly bool
	count     atomic.Int64

	mu      sync.Mutex
	heard   []int16
	packets []rtp.Header
	dec     *srtp.Context // SRTP: decrypts what arrives; nil: plain RTP
	enc     *srtp.Context // SRTP: encrypts what is sent, under mu
	bad     int           // packets that failed to decrypt
	stop    chan struct{}
	done    sync.WaitGroup
}

// NewPhone listens on 127.0.0.1 and records what arrives, decoding pt's law.
func NewPhone(t testing.TB, pt uint8) *Phone {
	return NewPhoneAt(t, netip.MustParseAddr("127.0.0.1"), pt)
}

// NewPhoneAt is a phone on another loopback address, such as a stranger's
// 127.0.0.5 (Linux answers the whole of 127.0.0.0/8).
func NewPhoneAt(t testing.TB, ip netip.Addr, pt uint8) *Phone {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
	if err != nil {
		t.Fatal(err)
	}
	p := &Phone{Conn: c, PT: pt, stop: make(chan struct{})}
	p.done.Add(1)
	go p.listen()
	t.Cleanup(p.Close)
	return p
}

// Addr is where the phone receives.
func (p *Phone) Addr() netip.AddrPort { return p.Conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// NewSink is a phone that only counts the packets it gets (for benchmarks).
func NewSink(t testing.TB) *Phone {
	p := NewPhone(t, media.PCMU)
	p.countOnly = true
	return p
}

// Count is how many packets arrived.
func (p *Phone) Count() int { return int(p.count.Load()) }

func (p *Phone) listen() {
	defer p.done.Done()
	buf := make([]byte, 1500)
	for {
		n, err := p.Conn.Read(buf)
		if err != nil {
			return
		}
		p.count.Add(1)
		if p.countOnly {
			continue
		}
		var pkt rtp.Packet
		p.mu.Lock()
		data := buf[:n]
		if p.dec != nil {
			if data, err = p.dec.DecryptRTP(nil, data, nil); err != nil {
				p.bad++
				p.mu.Unlock()
				continue
			}
		}
		if pkt.Unmarshal(data) != nil {
			p.mu.Unlock()
			continue
		}
		p.packets = append(p.packets, pkt.Header)
		if pkt.PayloadType == p.PT {
			for _, b := range pkt.Payload {
				p.heard = append(p.heard, media.Decode(p.PT, b))
			}
		}
		p.mu.Unlock()
	}
}

// Send sends frames of a steady tone at freq to addr, 20 ms apart, in the
// phone's law; freq 0 sends silence.
func (p *Phone) Send(to netip.AddrPort, freq float64, frames int) {
	h := rtp.Header{Version: 2, PayloadType: p.PT, SSRC: 0x1234, SequenceNumber: 100, Timestamp: 1000}
	for n := range frames {
		payload := make([]byte, media.SamplesPerFrame)
		for i := range payload {
			k := n*media.SamplesPerFrame + i
			payload[i] = media.Encode(p.PT, int16(8000*math.Sin(2*math.Pi*freq*float64(k)/8000)))
		}
		p.write(&rtp.Packet{Header: h, Payload: payload}, to)
		h.SequenceNumber++
		h.Timestamp += media.SamplesPerFrame
		time.Sleep(media.FrameDuration)
	}
}

// Encrypt makes the phone speak SRTP: it sends with local's key and takes
// only what remote's key decrypts.
func (p *Phone) Encrypt(local, remote media.Crypto) error {
	enc, err := local.Context(false)
	if err != nil {
		return err
	}
	dec, err := remote.Context(true)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.enc, p.dec = enc, dec
	p.mu.Unlock()
	return nil
}

// Undecryptable is how many packets arrived that the phone's SRTP key did not
// authenticate.
func (p *Phone) Undecryptable() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bad
}

// write sends pkt to to, encrypted when the phone speaks SRTP.
func (p *Phone) write(pkt *rtp.Packet, to netip.AddrPort) {
	b, _ := pkt.Marshal()
	p.mu.Lock()
	if p.enc != nil {
		b, _ = p.enc.EncryptRTP(nil, b, nil)
	}
	p.mu.Unlock()
	p.Conn.WriteToUDPAddrPort(b, to)
}

// Heard returns the samples received so far.
func (p *Phone) Heard() []int16 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int16(nil), p.heard...)
}

// Reset forgets what was heard so far.
func (p *Phone) Reset() {
	p.mu.Lock()
	p.heard, p.packets = nil, nil
	p.mu.Unlock()
}

// Packets returns the RTP headers received so far.
func (p *Phone) Packets() []rtp.Header {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]rtp.Header(nil), p.packets...)
}

// Hears reports whether freq dominates the last n samples heard (n 0: all).
func (p *Phone) Hears(freq float64, n int) bool {
	h := p.Heard()
	if n > 0 && len(h) > n {
		h = h[len(h)-n:]
	}
	return len(h) > 0 && media.Level(h, freq) > 0.5
}

// HeardTone reports whether freq dominated any n samples heard so far, so a
// short prompt followed by other sound is still found.
func (p *Phone) HeardTone(freq float64, n int) bool {
	h := p.Heard()
	for i := 0; i+n <= len(h); i += n / 2 {
		if media.Level(h[i:i+n], freq) > 0.5 {
			return true
		}
	}
	return false
}

// Close stops the phone.
func (p *Phone) Close() {
	select {
	case <-p.stop:
		return
	default:
		close(p.stop)
	}
	p.Conn.Close()
	p.done.Wait()
}

// SendKeys presses keys as RFC 4733 telephone-events of payload type pt (as
// phones do: a start packet with the marker bit, updates, three end packets),
// 100 ms per key with 60 ms between keys.
func (p *Phone) SendKeys(to netip.AddrPort, pt uint8, keys string) {
	h := rtp.Header{Version: 2, PayloadType: pt, SSRC: 0x4321, SequenceNumber: 500, Timestamp: 50000}
	for i := range len(keys) {
		send := func(e media.TelephoneEvent, marker bool) {
			h.Marker = marker
			p.write(&rtp.Packet{Header: h, Payload: e.Marshal()}, to)
			h.SequenceNumber++
		}
		for n := range 5 {
			send(media.TelephoneEvent{Key: keys[i], Volume: 10, Duration: uint16((n + 1) * media.SamplesPerFrame)}, n == 0)
			time.Sleep(media.FrameDuration)
		}
		for range 3 {
			send(media.TelephoneEvent{Key: keys[i], End: true, Volume: 10, Duration: 800}, false)
		}
		h.Timestamp += 1600 // the next press starts 200 ms later
		time.Sleep(60 * time.Millisecond)
	}
}
