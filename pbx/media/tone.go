package media

import (
	"math"
	"time"
)

// Tone is a sine of Freq Hz, on for On and off for Off in turn (Off 0: steady).
type Tone struct {
	Freq    float64
	Amp     float64 // peak, in 16-bit PCM units
	On, Off time.Duration
}

// Ringback is the Swedish ringing tone: 425 Hz, 1 s on, 5 s off.
var Ringback = Tone{Freq: 425, Amp: 6000, On: time.Second, Off: 5 * time.Second}

// Frame fills dst with the tone's samples for 20 ms frame n since the tone began.
func (t Tone) Frame(n int, dst []int16) {
	start := n * len(dst)
	period, on := samplesIn(t.On+t.Off), samplesIn(t.On)
	for i := range dst {
		k := start + i
		if t.Off > 0 && k%period >= on {
			dst[i] = 0
			continue
		}
		dst[i] = int16(t.Amp * math.Sin(2*math.Pi*t.Freq*float64(k)/8000))
	}
}

// Level is the Goertzel power of freq in samples, relative to the total power
// (0..1): near 1 for a pure tone at freq, near 0 when freq is absent.
func Level(samples []int16, freq float64) float64 {
	if len(samples) == 0 {
		return 0
	}
	coeff := 2 * math.Cos(2*math.Pi*freq/8000)
	var s1, s2, total float64
	for _, x := range samples {
		v := float64(x)
		s1, s2 = v+coeff*s1-s2, s1
		total += v * v
	}
	if total == 0 {
		return 0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * power / (float64(len(samples)) * total)
}

func samplesIn(d time.Duration) int { return int(int64(d) * 8000 / int64(time.Second)) }
