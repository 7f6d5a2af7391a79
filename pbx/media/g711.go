// Package media is peerline's small media layer: SDP offer/answer, RTP sessions,
// G.711, tones, WAV prompts and the bridge between two call legs.
package media

// Static RTP payload types of G.711 at 8000 Hz.
const (
	PCMU uint8 = 0
	PCMA uint8 = 8
)

// Silence bytes of each law.
const (
	SilenceU byte = 0xFF
	SilenceA byte = 0xD5
)

// G.711 by lookup: decoding is a 256-entry table per law, encoding a 64 Ki-entry
// table, and transcoding between the laws a 256-entry table each way. The tables
// are built once from the reference algorithms (ITU-T G.711, as in Sun's g711.c).
var (
	ulawToPCM, alawToPCM   [256]int16
	pcmToUlaw, pcmToAlaw   [65536]byte
	ulawToAlaw, alawToUlaw [256]byte
)

func init() {
	for i := range 256 {
		ulawToPCM[i] = decodeUlaw(byte(i))
		alawToPCM[i] = decodeAlaw(byte(i))
	}
	for i := range 65536 {
		s := int16(uint16(i))
		pcmToUlaw[i] = encodeUlaw(s)
		pcmToAlaw[i] = encodeAlaw(s)
	}
	for i := range 256 {
		ulawToAlaw[i] = pcmToAlaw[uint16(ulawToPCM[i])]
		alawToUlaw[i] = pcmToUlaw[uint16(alawToPCM[i])]
	}
}

// Decode converts a G.711 byte of the payload type's law to linear PCM.
func Decode(pt uint8, b byte) int16 {
	if pt == PCMA {
		return alawToPCM[b]
	}
	return ulawToPCM[b]
}

// Encode converts linear PCM to a G.711 byte of the payload type's law.
func Encode(pt uint8, s int16) byte {
	if pt == PCMA {
		return pcmToAlaw[uint16(s)]
	}
	return pcmToUlaw[uint16(s)]
}

// Transcode rewrites a G.711 payload from one law to the other in place.
func Transcode(from, to uint8, payload []byte) {
	switch {
	case from == PCMU && to == PCMA:
		for i, b := range payload {
			payload[i] = ulawToAlaw[b]
		}
	case from == PCMA && to == PCMU:
		for i, b := range payload {
			payload[i] = alawToUlaw[b]
		}
	}
}

// Silence is the silence byte of the payload type's law.
func Silence(pt uint8) byte {
	if pt == PCMA {
		return SilenceA
	}
	return SilenceU
}

const (
	ulawBias = 0x84
	ulawClip = 32635
)

func encodeUlaw(s int16) byte {
	x, sign := int(s), 0
	if x < 0 {
		x, sign = -x, 0x80
	}
	x = min(x, ulawClip) + ulawBias
	exp := 7
	for mask := 0x4000; x&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := (x >> (exp + 3)) & 0x0F
	return ^byte(sign | exp<<4 | mant)
}

func decodeUlaw(u byte) int16 {
	u = ^u
	t := (int(u&0x0F)<<3 + ulawBias) << ((u & 0x70) >> 4)
	if u&0x80 != 0 {
		return int16(ulawBias - t)
	}
	return int16(t - ulawBias)
}

var alawSegEnd = [8]int{0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF}

func encodeAlaw(s int16) byte {
	x, mask := int(s)>>3, 0xD5
	if x < 0 {
		x, mask = -x-1, 0x55
	}
	seg := 0
	for seg < 8 && x > alawSegEnd[seg] {
		seg++
	}
	if seg >= 8 {
		return byte(0x7F ^ mask)
	}
	a := seg << 4
	if seg < 2 {
		a |= (x >> 1) & 0x0F
	} else {
		a |= (x >> seg) & 0x0F
	}
	return byte(a ^ mask)
}

func decodeAlaw(a byte) int16 {
	a ^= 0x55
	t := int(a&0x0F) << 4
	switch seg := int(a&0x70) >> 4; seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t = (t + 0x108) << (seg - 1)
	}
	if a&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}
