package mediatest

import (
	"encoding/binary"
	"time"

	"github.com/peerline/peerline/pbx/media"
)

// ToneWAV is an 8 kHz 16-bit PCM WAV file of a steady tone, usable as a prompt.
func ToneWAV(freq float64, d time.Duration) []byte {
	samples := make([]int16, int(d.Seconds()*8000))
	media.Tone{Freq: freq, Amp: 8000}.Frame(0, samples)
	b := []byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data")
	b = binary.LittleEndian.AppendUint32(b, uint32(2*len(samples)))
	for _, s := range samples {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)-8))
	return b
}
