package media_test

import (
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
	for name, bad := range map[string][]byte{"empty": nil, "not riff": []byte("RIFX0000WAVE"), "no data": b[:60]} {
		if _, err := media.ParseWAV(name, bad); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}
