package media_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/peerline/peerline/pbx/media"
)

func FuzzParseWAV(f *testing.F) {
	b, err := os.ReadFile("../prompts/greeting.wav")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b[:200])
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEfmt \xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := media.ParseWAV("x", b)
		if err == nil && p.Duration() < 0 {
			t.Fatal("negative duration")
		}
	})
}

func TestParseWAVFormats(t *testing.T) {
	b, _ := os.ReadFile("../prompts/greeting.wav")
	p, err := media.ParseWAV("greeting", b)
	if err != nil || p.Duration() < 3 {
		t.Fatalf("µ-law prompt: %v", err)
	}
	noData := []byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00")
	stereo := append([]byte(nil), noData...)
	stereo[22] = 2
	stereo = append(stereo, "data\x04\x00\x00\x00\x00\x00\x00\x00"...)
	for name, bad := range map[string][]byte{"empty": nil, "not riff": []byte("RIFX0000WAVE"), "no data": noData, "stereo": stereo} {
		if _, err := media.ParseWAV(name, bad); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

// A prompt written as WAV reads back the same.
func TestWAVRoundTrip(t *testing.T) {
	p := &media.Prompt{Name: "x", Samples: []int16{0, 1, -1, 32767, -32768, 1234}}
	back, err := media.ParseWAV("x", p.WAV())
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(back.Samples) != fmt.Sprint(p.Samples) {
		t.Errorf("samples: %v, want %v", back.Samples, p.Samples)
	}
}
