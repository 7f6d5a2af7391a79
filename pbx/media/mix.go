package media

import (
	"context"
	"errors"
	"sync"

	"github.com/pion/rtp"
)

// Mix is a conference of a few legs (a warm referral's caller, agent and the
// service): each leg hears the sum of the others, never itself. Unlike the
// two-party Bridge, which relays each packet as it comes, a mix must add
// packets that arrive apart, so it runs on the pacer's 20 ms ticks: each source's
// reader decodes into a short queue, and every tick takes a frame from each
// queue (silence when one is empty), sums them and sends each leg its mix,
// encoded in its own law. The queues hold at most maxQueued frames, so a
// source that sends in bursts costs at most that much delay.
type Mix struct {
	task task
	stop sync.Once
	legs []Leg
	in   []mixIn
	out  []whisper // whispers, one per leg
	sum  [SamplesPerFrame]int32
	pcm  [][SamplesPerFrame]int16
	enc  [SamplesPerFrame]byte
}

// maxQueued is how many frames a source may be ahead of the mix.
const maxQueued = 3

// ErrMixSize is returned for a mix of fewer than two legs.
var ErrMixSize = errors.New("a mix needs at least two legs")

// NewMix joins legs into one conversation.
func NewMix(legs ...Leg) (*Mix, error) {
	if len(legs) < 2 {
		return nil, ErrMixSize
	}
	m := &Mix{legs: legs, in: make([]mixIn, len(legs)), out: make([]whisper, len(legs)),
		pcm: make([][SamplesPerFrame]int16, len(legs))}
	return m, nil
}

// Whisper queues samples for leg i alone, over what it hears of the others.
func (m *Mix) Whisper(i int, samples []int16) { m.out[i].add(samples) }

// Start mixes from now on, a frame at each of the pacer's ticks.
func (m *Mix) Start() {
	for i, l := range m.legs {
		l.Session.SetSink(&m.in[i])
		l.Session.Start()
	}
	m.task.run = func() bool { m.Tick(); return true }
	pacing.addTask(&m.task)
}

// Stop ends the mix; when it returns no packet of the mix's is being written
// and the legs are free again. A second Stop does nothing.
func (m *Mix) Stop() {
	m.stop.Do(func() {
		pacing.removeTask(&m.task)
		for _, l := range m.legs {
			l.Session.SetSink(nil)
		}
	})
}

// Run mixes until ctx ends (nil) or a leg's socket fails (the error), then
// stops.
func (m *Mix) Run(ctx context.Context) error {
	m.Start()
	defer m.Stop()
	ctx, cancel := context.WithCancel(ctx) // the watchers below end with Run
	defer cancel()
	failed := make(chan error, len(m.legs))
	for _, l := range m.legs {
		go func() {
			select {
			case <-l.Session.Done():
				failed <- l.Session.Err()
			case <-ctx.Done():
			}
		}()
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-failed:
		return err
	}
}

// Tick mixes and sends one frame to every leg (Run calls it every 20 ms).
func (m *Mix) Tick() {
	clear(m.sum[:])
	for i := range m.in {
		m.in[i].take(&m.pcm[i])
		for k, v := range m.pcm[i] {
			m.sum[k] += int32(v)
		}
	}
	for i, l := range m.legs {
		for k := range m.enc {
			v := m.sum[k] - int32(m.pcm[i][k]) // all but the leg's own voice
			m.enc[k] = Encode(l.PT, int16(max(-32768, min(32767, v))))
		}
		m.out[i].mix(l.PT, m.enc[:])
		l.Session.Write(l.PT, false, m.enc[:], SamplesPerFrame)
	}
}

// mixIn is one source's queue of decoded samples, filled by its session's
// reader and emptied by the mix's tick.
type mixIn struct {
	mu      sync.Mutex
	samples []int16
}

// WriteRTP decodes a packet of the source's into the queue.
func (q *mixIn) WriteRTP(pkt *rtp.Packet) {
	if !Supports(pkt.PayloadType) {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.samples == nil {
		q.samples = make([]int16, 0, (maxQueued+1)*SamplesPerFrame)
	}
	if over := len(q.samples) + len(pkt.Payload) - maxQueued*SamplesPerFrame; over > 0 {
		// The oldest go, so the mix stays near live.
		q.samples = q.samples[:copy(q.samples, q.samples[min(over, len(q.samples)):])]
	}
	for _, b := range pkt.Payload {
		q.samples = append(q.samples, Decode(pkt.PayloadType, b))
	}
}

// take fills frame with the next frame of the queue, silence where it runs out.
func (q *mixIn) take(frame *[SamplesPerFrame]int16) {
	q.mu.Lock()
	n := copy(frame[:], q.samples)
	q.samples = append(q.samples[:0], q.samples[n:]...)
	q.mu.Unlock()
	clear(frame[n:])
}
