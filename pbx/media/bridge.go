package media

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// Leg is one side of a bridge: its RTP session and what was negotiated on it.
type Leg struct {
	Session *Session
	PT      uint8 // PCMU or PCMA
	DTMF    int   // telephone-event payload type, -1 without
}

// Bridge relays audio between two legs. Each direction rewrites packets into the
// receiving leg's own stream (its SSRC, sequence and timestamps), so a leg sees one
// continuous stream whatever played before; transcodes PCMU<->PCMA when the legs
// differ; and can mix a whisper into one direction only.
type Bridge struct {
	legs    [2]Leg
	whisper [2]whisper
	relayed *atomic.Uint64 // counts the packets relayed; nil: not counted
	wakes   atomic.Uint64  // reads cut short for a whisper (tests check it stays low)
}

// CountInto makes the bridge add each packet it relays to c (for metrics).
func (br *Bridge) CountInto(c *atomic.Uint64) { br.relayed = c }

// NewBridge joins a and b. Key presses are not relayed: each leg's session
// reports its own (Session.ListenKeys), as when it is not bridged.
func NewBridge(a, b Leg) *Bridge {
	return &Bridge{legs: [2]Leg{a, b}}
}

// Whisper queues samples to be mixed into what leg (0 or 1) hears; the other leg
// hears nothing of it. The relay towards leg may be waiting for a packet from a
// silent far end: its read is cut short so that it sends the whisper alone.
func (br *Bridge) Whisper(leg int, samples []int16) {
	br.whisper[leg].add(samples)
	br.legs[1-leg].Session.conn.SetReadDeadline(time.Now())
}

// Run relays until ctx ends (nil) or a leg's socket fails (the error).
func (br *Bridge) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	for from := range 2 {
		go func() { errc <- br.relay(ctx, from, 1-from) }()
	}
	var err error
	pending := 2
	select {
	case err = <-errc:
		pending--
	case <-ctx.Done():
	}
	cancel()
	// A relay blocked in a read only sees the cancellation when the read returns.
	for _, l := range br.legs {
		l.Session.conn.SetReadDeadline(time.Now())
	}
	for ; pending > 0; pending-- {
		<-errc
	}
	for _, l := range br.legs {
		l.Session.conn.SetReadDeadline(time.Time{})
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// whisperWait is how long a direction waits for a packet before it sends the
// whisper alone (the other side may send no RTP while silent).
// It then sends that much whisper at once, so the whisper keeps its pace.
const whisperWait = 2 * FrameDuration

func (br *Bridge) relay(ctx context.Context, from, to int) error {
	src, dst := br.legs[from], br.legs[to]
	w := &br.whisper[to]
	buf := make([]byte, 1500)
	frame := make([]byte, SamplesPerFrame)
	var pkt rtp.Packet
	var lastTS uint32
	first := true
	deadline := false // a whisper deadline is set on src's socket
	for ctx.Err() == nil {
		if w.pending() {
			src.Session.conn.SetReadDeadline(time.Now().Add(whisperWait))
			deadline = true
		}
		err := src.Session.Read(buf, &pkt)
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded): // (errors.As into a net.Error would allocate per packet)
			for range whisperWait / FrameDuration { // silence from src: send the whisper alone
				if ctx.Err() != nil || !w.pending() {
					break
				}
				for i := range frame {
					frame[i] = Silence(dst.PT)
				}
				w.mix(dst.PT, frame)
				dst.Session.Write(dst.PT, false, frame, SamplesPerFrame)
			}
			br.wakes.Add(1)
			if !w.pending() { // the whisper is out: wait for src again, or every read would fail at once
				src.Session.conn.SetReadDeadline(time.Time{})
				deadline = false
			}
			continue
		case err != nil:
			return err
		}
		if deadline {
			src.Session.conn.SetReadDeadline(time.Time{})
			deadline = false
		}
		if int(pkt.PayloadType) == src.DTMF {
			src.Session.key(&pkt)
			continue
		}
		if !Supports(pkt.PayloadType) {
			continue // comfort noise and the like
		}
		payload := pkt.Payload
		Transcode(pkt.PayloadType, dst.PT, payload)
		w.mix(dst.PT, payload)
		samples := uint32(len(payload))
		if d := pkt.Timestamp - lastTS; !first && d > 0 && d < 8000 {
			samples = d // keep the sender's gaps (lost packets, silence suppression)
		}
		first, lastTS = false, pkt.Timestamp
		// A send error (the far port closed, ICMP unreachable) is not the end of the
		// call: the SIP side decides that.
		if dst.Session.Write(dst.PT, pkt.Marker, payload, samples) == nil && br.relayed != nil {
			br.relayed.Add(1)
		}
	}
	return ctx.Err()
}

// whisper is a queue of samples to mix into one direction. n mirrors
// len(samples) so that the relay's per-packet checks take no lock while the
// queue is empty, as it nearly always is.
type whisper struct {
	n       atomic.Int64
	mu      sync.Mutex
	samples []int16
}

func (w *whisper) add(s []int16) {
	w.mu.Lock()
	w.samples = append(w.samples, s...)
	w.n.Store(int64(len(w.samples)))
	w.mu.Unlock()
}

func (w *whisper) pending() bool { return w.n.Load() > 0 }

// mix adds the next len(payload) whisper samples into payload, in pt's law.
func (w *whisper) mix(pt uint8, payload []byte) {
	if !w.pending() {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	n := min(len(payload), len(w.samples))
	for i := range n {
		v := int32(Decode(pt, payload[i])) + int32(w.samples[i])
		payload[i] = Encode(pt, int16(max(-32768, min(32767, v))))
	}
	w.samples = w.samples[n:]
	w.n.Store(int64(len(w.samples)))
}
