package media_test

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/media/mediatest"
)

// TestMixEachHearsTheOthers: three legs, each sending its own tone (PCMU and
// PCMA mixed), each hears the other two and never itself; a whisper reaches
// one leg alone.
func TestMixEachHearsTheOthers(t *testing.T) {
	ports := media.NewPorts(netip.MustParseAddr("127.0.0.1"), 31400, 31500)
	pts := []uint8{media.PCMU, media.PCMA, media.PCMU}
	freqs := []float64{1000, 2000, 3000}
	var phones []*mediatest.Phone
	var legs []media.Leg
	for _, pt := range pts {
		p := mediatest.NewPhone(t, pt)
		phones = append(phones, p)
		legs = append(legs, media.Leg{Session: session(t, ports, p.Addr()), PT: pt})
	}
	m, err := media.NewMix(legs...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	var wg sync.WaitGroup
	for i, p := range phones {
		wg.Go(func() { p.Send(legs[i].Session.LocalAddr(), freqs[i], 40) })
	}
	wg.Wait()
	for i, p := range phones {
		h := p.Heard()
		if len(h) < 4000 {
			t.Fatalf("phone %d heard only %d samples", i, len(h))
		}
		h = h[len(h)/2:]
		for j, f := range freqs {
			level := media.Level(h, f)
			switch {
			case i == j && level > 0.05:
				t.Errorf("phone %d hears itself (%.2f of %v Hz)", i, level, f)
			case i != j && level < 0.3:
				t.Errorf("phone %d hears %v Hz at only %.2f", i, f, level)
			}
		}
	}
	// A whisper for the agent (leg 1) alone, over silence.
	for _, p := range phones {
		p.Reset()
	}
	tone := make([]int16, 4000)
	media.Tone{Freq: 1500, Amp: 8000}.Frame(0, tone)
	m.Whisper(1, tone)
	time.Sleep(400 * time.Millisecond)
	if h := phones[1].Heard(); len(h) == 0 || media.Level(h, 1500) < 0.5 {
		t.Error("the agent did not hear the whisper")
	}
	for _, i := range []int{0, 2} {
		if h := phones[i].Heard(); len(h) > 0 && media.Level(h, 1500) > 0.05 {
			t.Errorf("phone %d heard the agent's whisper", i)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("the mix ended with %v", err)
	}
	if _, err := media.NewMix(legs[0]); err == nil {
		t.Error("a mix of one leg")
	}
}

// BenchmarkMixTick is the CPU of one 20 ms frame of a three-party mix: decode
// what came in, sum, subtract each leg's own, encode three frames and send
// them (to a port nobody reads); compare BenchmarkRelay, one packet relayed.
func BenchmarkMixTick(b *testing.B) {
	ports := media.NewPorts(netip.MustParseAddr("127.0.0.1"), 31600, 31700)
	sink := mediatest.NewSink(b)
	var legs []media.Leg
	for _, pt := range []uint8{media.PCMU, media.PCMA, media.PCMU} {
		legs = append(legs, media.Leg{Session: session(b, ports, sink.Addr()), PT: pt})
	}
	m, _ := media.NewMix(legs...)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		m.Tick()
	}
}
