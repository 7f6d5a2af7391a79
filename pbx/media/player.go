package media

import (
	"context"
	"sync"
	"time"
)

// Play sends the prompt on s at real-time pace; it returns when the prompt has
// played or ctx ends (barge-in cancels ctx).
func Play(ctx context.Context, s *Session, pt uint8, p *Prompt) error {
	payload := p.Payload(pt)
	if len(payload) == 0 {
		return ctx.Err() // nothing to wait a tick for
	}
	off := 0
	return stream(ctx, s, pt, func(frame []byte) bool {
		if off >= len(payload) {
			return false
		}
		n := copy(frame, payload[off:])
		for i := n; i < len(frame); i++ {
			frame[i] = Silence(pt)
		}
		off += len(frame)
		return true
	})
}

// Loop plays p over and over, seamlessly, until ctx ends (hold music). An
// empty prompt is silence.
func Loop(ctx context.Context, s *Session, pt uint8, p *Prompt) error {
	payload := p.Payload(pt)
	if len(payload) == 0 {
		payload = []byte{Silence(pt)}
	}
	off := 0
	return stream(ctx, s, pt, func(frame []byte) bool {
		for i := range frame {
			frame[i] = payload[off]
			off = (off + 1) % len(payload)
		}
		return true
	})
}

// PlayTone sends the tone on s until ctx ends.
func PlayTone(ctx context.Context, s *Session, pt uint8, t Tone) error {
	pcm := make([]int16, SamplesPerFrame)
	n := 0
	return stream(ctx, s, pt, func(frame []byte) bool {
		t.Frame(n, pcm)
		n++
		for i, v := range pcm {
			frame[i] = Encode(pt, v)
		}
		return true
	})
}

// stream sends a frame every 20 ms while next fills one, and returns when
// next has no more or ctx ends; once it has returned, nothing more is written
// for it. The first packet of a talk spurt carries the marker bit. The frames
// go out from the package's one pacer (see pacer), not a ticker per stream.
func stream(ctx context.Context, s *Session, pt uint8, next func(frame []byte) bool) error {
	p := &paced{s: s, pt: pt, next: next, marker: true, done: make(chan error, 1)}
	pacing.add(p)
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		if pacing.remove(p) {
			return ctx.Err()
		}
		return <-p.done // it ended on its own just now
	}
}

// pacer sends the frames of every prompt, tone and hold music being played,
// all from one goroutine on one 20 ms ticker that runs only while something
// plays. A ticker and a goroutine per playing leg cost more in wake-ups than
// the packets themselves (a greeting cost 36 µs a packet against 20 µs for a
// relayed one).
type pacer struct {
	mu      sync.Mutex
	streams map[*paced]struct{}
	tasks   map[*task]struct{} // bridges' whispers over silence, mixes
	running bool
}

// pacing is the process's pacer.
var pacing = pacer{streams: map[*paced]struct{}{}, tasks: map[*task]struct{}{}}

// task is work done at every tick while run reports true (then it is dropped
// until added again).
type task struct{ run func() bool }

// addTask runs t at every tick from the next on; adding it twice is once.
func (pc *pacer) addTask(t *task) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	pc.tasks[t] = struct{}{}
	pc.start()
}

// removeTask drops t; when it returns t is not running.
func (pc *pacer) removeTask(t *task) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	delete(pc.tasks, t)
}

// start runs the ticker's goroutine unless it runs; pc.mu is held.
func (pc *pacer) start() {
	if !pc.running {
		pc.running = true
		go pc.run()
	}
}

// paced is one stream being played.
type paced struct {
	s      *Session
	pt     uint8
	next   func(frame []byte) bool
	marker bool
	frame  [SamplesPerFrame]byte
	done   chan error // gets the end, once
}

func (pc *pacer) add(p *paced) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	pc.streams[p] = struct{}{}
	pc.start()
}

// remove takes p out; false when it had ended already. Under the lock, so no
// frame of p's is being written when it returns.
func (pc *pacer) remove(p *paced) bool {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	_, ok := pc.streams[p]
	delete(pc.streams, p)
	return ok
}

func (pc *pacer) run() {
	tick := time.NewTicker(FrameDuration)
	defer tick.Stop()
	for range tick.C {
		if !pc.tick() {
			return
		}
	}
}

// tick sends one frame of every stream and runs every task; false when
// nothing plays any more
// (the goroutine ends; the next add starts another).
func (pc *pacer) tick() bool {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	for p := range pc.streams {
		if more, err := p.step(); !more {
			delete(pc.streams, p)
			p.done <- err
		}
	}
	for t := range pc.tasks {
		if !t.run() {
			delete(pc.tasks, t)
		}
	}
	if len(pc.streams) == 0 && len(pc.tasks) == 0 {
		pc.running = false
		return false
	}
	return true
}

// step sends p's next frame; more is false when p has ended (err says why).
func (p *paced) step() (more bool, err error) {
	if !p.next(p.frame[:]) {
		return false, nil
	}
	if err := p.s.Write(p.pt, p.marker, p.frame[:], SamplesPerFrame); err != nil {
		return false, err
	}
	p.marker = false
	return true, nil
}
