package media

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// Leg is one side of a bridge: its RTP session and the codec negotiated on
// it. Its key presses are its session's (Session.ListenKeys), never relayed.
type Leg struct {
	Session *Session
	PT      uint8 // PCMU or PCMA
}

// Bridge relays audio between two legs. Each direction rewrites packets into the
// receiving leg's own stream (its SSRC, sequence and timestamps), so a leg sees one
// continuous stream whatever played before; transcodes PCMU<->PCMA when the legs
// differ; and can mix a whisper into one direction only.
//
// A direction is the sink of its source's session: the reactor's worker that reads it
// hands it each packet, and it writes to the other leg at once. The bridge has
// no goroutine of its own: a whisper while its direction's source is silent is
// sent by the package's pacer (see pacer).
type Bridge struct {
	legs    [2]Leg
	into    [2]direction   // into[i] carries what legs[i] hears
	relayed *atomic.Uint64 // counts the packets relayed; nil: not counted
	alone   task           // sends whispers over silence, at the pacer's ticks
	stop    sync.Once
	wakes   atomic.Uint64 // frames of whisper sent alone (tests check it stays low)
}

// CountInto makes the bridge add each packet it relays to c (for metrics).
func (br *Bridge) CountInto(c *atomic.Uint64) { br.relayed = c }

// NewBridge joins a and b. Key presses are not relayed: each leg's session
// reports its own (Session.ListenKeys), as when it is not bridged.
func NewBridge(a, b Leg) *Bridge {
	br := &Bridge{legs: [2]Leg{a, b}}
	for i := range 2 {
		br.into[i] = direction{br: br, src: br.legs[1-i].Session, dst: br.legs[i], first: true}
	}
	br.alone.run = br.whisperAlone
	return br
}

// Whisper queues samples to be mixed into what leg (0 or 1) hears; the other leg
// hears nothing of it.
func (br *Bridge) Whisper(leg int, samples []int16) {
	br.into[leg].whisper.add(samples)
	pacing.addTask(&br.alone)
}

// Start relays from now on: each session's reader writes into the other leg.
func (br *Bridge) Start() {
	for i, l := range br.legs {
		l.Session.SetSink(&br.into[1-i])
		l.Session.Start()
	}
}

// Stop ends the relay; when it returns no packet of the bridge's is being
// written and the legs are free for prompts. A second Stop does nothing.
func (br *Bridge) Stop() {
	br.stop.Do(func() {
		pacing.removeTask(&br.alone)
		for i, l := range br.legs {
			l.Session.SetSink(nil)
			br.into[1-i].close()
		}
	})
}

// Run relays until ctx ends (nil) or a leg's socket fails (the error), then
// stops.
func (br *Bridge) Run(ctx context.Context) error {
	br.Start()
	defer br.Stop()
	a, b := br.legs[0].Session, br.legs[1].Session
	select {
	case <-ctx.Done():
		return nil
	case <-a.Done():
		return a.Err()
	case <-b.Done():
		return b.Err()
	}
}

// whisperWait is how long a direction may go without a packet before the
// pacer sends its whisper alone (the other side may send no RTP while silent).
const whisperWait = 2 * FrameDuration

// whisperAlone sends a frame of whisper into each direction whose source has
// been silent; false once no whisper is left (the pacer drops the task).
func (br *Bridge) whisperAlone() bool {
	pending := false
	for i := range br.into {
		d := &br.into[i]
		if !d.whisper.pending() {
			continue
		}
		pending = true
		if d.silent(whisperWait) {
			d.sendWhisper(1)
			br.wakes.Add(1)
		}
	}
	return pending
}

// direction is one way through the bridge, into dst. Its lock makes the
// source's reader and Run's whisper one writer on dst.
type direction struct {
	br      *Bridge
	src     *Session
	dst     Leg
	whisper whisper

	mu     sync.Mutex
	closed bool // the bridge has ended: nothing more is written
	first  bool
	lastTS uint32
	frame  [SamplesPerFrame]byte
}

// WriteRTP relays one packet of the source's into dst.
func (d *direction) WriteRTP(pkt *rtp.Packet) {
	if !Supports(pkt.PayloadType) {
		return // comfort noise and the like
	}
	payload := pkt.Payload
	Transcode(pkt.PayloadType, d.dst.PT, payload)
	samples := uint32(len(payload))
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	// Mixed under the lock, so that the whisper's samples go out in the order
	// they are taken, whether here or in sendWhisper.
	d.whisper.mix(d.dst.PT, payload)
	if delta := pkt.Timestamp - d.lastTS; !d.first && delta > 0 && delta < 8000 {
		samples = delta // keep the sender's gaps (lost packets, silence suppression)
	}
	d.first, d.lastTS = false, pkt.Timestamp
	// A send error (the far port closed, ICMP unreachable) is not the end of the
	// call: the SIP side decides that.
	if d.dst.Session.Write(d.dst.PT, pkt.Marker, payload, samples) == nil && d.br.relayed != nil {
		d.br.relayed.Add(1)
	}
}

// silent reports whether the source has sent nothing for wait.
func (d *direction) silent(wait time.Duration) bool { return d.src.Idle() >= wait }

// sendWhisper sends up to n frames of whisper over silence.
func (d *direction) sendWhisper(n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for range n {
		if d.closed || !d.whisper.pending() {
			return
		}
		for i := range d.frame {
			d.frame[i] = Silence(d.dst.PT)
		}
		d.whisper.mix(d.dst.PT, d.frame[:])
		d.dst.Session.Write(d.dst.PT, false, d.frame[:], SamplesPerFrame)
	}
}

// close waits for a packet being written and stops further ones.
func (d *direction) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
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
