package media

import (
	"context"
	"time"
)

// Play sends the prompt on s at real-time pace; it returns when the prompt has
// played or ctx ends (barge-in cancels ctx).
func Play(ctx context.Context, s *Session, pt uint8, p *Prompt) error {
	payload := p.Payload(pt)
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

// stream sends a frame every 20 ms while next fills one. The first packet of a
// talk spurt carries the marker bit.
func stream(ctx context.Context, s *Session, pt uint8, next func(frame []byte) bool) error {
	frame := make([]byte, SamplesPerFrame)
	tick := time.NewTicker(FrameDuration)
	defer tick.Stop()
	marker := true
	for next(frame) {
		if err := s.Write(pt, marker, frame, SamplesPerFrame); err != nil {
			return err
		}
		marker = false
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}
