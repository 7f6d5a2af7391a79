package media_test

import (
	"testing"

	"github.com/peerline/peerline/pbx/media"
)

func TestG711RoundTrip(t *testing.T) {
	if media.Decode(media.PCMU, media.SilenceU) != 0 || media.Decode(media.PCMA, media.SilenceA) != 8 {
		t.Fatal("silence bytes do not decode to silence")
	}
	for _, pt := range []uint8{media.PCMU, media.PCMA} {
		// Every code decodes and re-encodes to itself (up to the two zeros of µ-law).
		for b := range 256 {
			s := media.Decode(pt, byte(b))
			if got := media.Decode(pt, media.Encode(pt, s)); got != s {
				t.Errorf("pt %d: %#x -> %d -> %d", pt, b, s, got)
			}
		}
		// Quantisation error stays within G.711's steps (about 3% at the top).
		for _, s := range []int16{0, 1, -1, 100, -100, 1000, -1000, 10000, -10000, 32767, -32768} {
			got := media.Decode(pt, media.Encode(pt, s))
			if d := int(got) - int(s); d > 1100 || d < -1100 || (abs(int(s)) > 200 && abs(d)*100 > abs(int(s))*7) {
				t.Errorf("pt %d: %d -> %d", pt, s, got)
			}
		}
	}
	p := []byte{0x00, 0x7F, 0x80, 0xFF, 0x55}
	q := append([]byte(nil), p...)
	media.Transcode(media.PCMU, media.PCMA, q)
	media.Transcode(media.PCMA, media.PCMU, q)
	for i := range p {
		a, b := int(media.Decode(media.PCMU, p[i])), int(media.Decode(media.PCMU, q[i]))
		if abs(a-b)*100 > abs(a)*7+1600 { // 7% or 16, A-law has no exact zero
			t.Errorf("transcode round trip: %#x (%d) -> %#x (%d)", p[i], a, q[i], b)
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
