package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
)

// Prompt is a recorded announcement, as linear PCM at 8000 Hz.
type Prompt struct {
	Name    string
	Samples []int16

	once    [2]sync.Once
	encoded [2][]byte // PCMU, PCMA
	wavOnce sync.Once
	wav     []byte
}

// ErrWAV is wrapped by every error about a WAV file.
var ErrWAV = errors.New("not a usable WAV prompt (need 8000 Hz mono: 16-bit PCM, µ-law or A-law)")

// ParseWAV reads an 8 kHz mono WAV file: 16-bit PCM, µ-law or A-law.
func ParseWAV(name string, b []byte) (*Prompt, error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%s: %w: no RIFF/WAVE header", name, ErrWAV)
	}
	var format, channels, bits uint16
	var rate uint32
	var data []byte
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:p+8]))
		body := b[p+8 : min(len(b), p+8+size)]
		switch id {
		case "fmt ":
			if len(body) < 16 {
				return nil, fmt.Errorf("%s: %w: short fmt chunk", name, ErrWAV)
			}
			format, channels = binary.LittleEndian.Uint16(body[0:2]), binary.LittleEndian.Uint16(body[2:4])
			rate, bits = binary.LittleEndian.Uint32(body[4:8]), binary.LittleEndian.Uint16(body[14:16])
		case "data":
			data = body
		}
		p += 8 + size + size%2
		if size < 0 || p < 0 {
			break
		}
	}
	if rate != 8000 || channels != 1 || data == nil {
		return nil, fmt.Errorf("%s: %w: %d Hz, %d channel(s)", name, ErrWAV, rate, channels)
	}
	p := &Prompt{Name: name}
	switch {
	case format == 1 && bits == 16:
		p.Samples = make([]int16, len(data)/2)
		for i := range p.Samples {
			p.Samples[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
		}
	case format == 7 || format == 6: // µ-law, A-law
		pt := map[uint16]uint8{7: PCMU, 6: PCMA}[format]
		p.Samples = make([]int16, len(data))
		for i, c := range data {
			p.Samples[i] = Decode(pt, c)
		}
	default:
		return nil, fmt.Errorf("%s: %w: format %d, %d bits", name, ErrWAV, format, bits)
	}
	return p, nil
}

// Payload is the prompt encoded in pt's law, made once per law.
func (p *Prompt) Payload(pt uint8) []byte {
	i := 0
	if pt == PCMA {
		i = 1
	}
	p.once[i].Do(func() {
		out := make([]byte, len(p.Samples))
		for j, s := range p.Samples {
			out[j] = Encode(pt, s)
		}
		p.encoded[i] = out
	})
	return p.encoded[i]
}

// Duration is how long the prompt plays.
func (p *Prompt) Duration() float64 { return float64(len(p.Samples)) / 8000 }

// SampleRate is the prompts' rate: G.711's 8000 Hz.
const SampleRate = 8000

// WAV is p as a WAV file: 8 kHz, 16-bit, mono PCM, as a PBX fetches a prompt;
// made once.
func (p *Prompt) WAV() []byte {
	p.wavOnce.Do(func() { p.wav = p.encodeWAV() })
	return p.wav
}

func (p *Prompt) encodeWAV() []byte {
	data := len(p.Samples) * 2
	b := make([]byte, 44+data)
	copy(b, "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+data))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1) // PCM
	binary.LittleEndian.PutUint16(b[22:], 1) // mono
	binary.LittleEndian.PutUint32(b[24:], SampleRate)
	binary.LittleEndian.PutUint32(b[28:], SampleRate*2)
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(data))
	for i, s := range p.Samples {
		binary.LittleEndian.PutUint16(b[44+2*i:], uint16(s))
	}
	return b
}
