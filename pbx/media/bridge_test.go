package media_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/media/mediatest"
)

func session(t testing.TB, ports *media.Ports, remote netip.AddrPort) *media.Session {
	t.Helper()
	c, err := ports.Listen()
	if err != nil {
		t.Fatal(err)
	}
	s := media.NewSession(c, remote)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestBridgeRelaysTonesBothWaysAcrossLaws(t *testing.T) {
	ports := media.NewPorts(netip.MustParseAddr("127.0.0.1"), 31000, 31100)
	caller := mediatest.NewPhone(t, media.PCMU)
	agent := mediatest.NewPhone(t, media.PCMA)
	a, b := session(t, ports, caller.Addr()), session(t, ports, agent.Addr())
	br := media.NewBridge(media.Leg{Session: a, PT: media.PCMU}, media.Leg{Session: b, PT: media.PCMA})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- br.Run(ctx) }()

	go caller.Send(a.LocalAddr(), 1000, 25)
	agent.Send(b.LocalAddr(), 2000, 25)
	time.Sleep(100 * time.Millisecond)
	if !agent.Hears(1000, 0) || agent.Hears(2000, 0) {
		t.Errorf("the agent does not hear the caller's 1 kHz (heard %d samples)", len(agent.Heard()))
	}
	if !caller.Hears(2000, 0) || caller.Hears(1000, 0) {
		t.Errorf("the caller does not hear the agent's 2 kHz (heard %d samples)", len(caller.Heard()))
	}
	// The relayed stream is ours: one SSRC, consecutive sequence numbers, 160 a frame.
	pk := agent.Packets()
	for i := 1; i < len(pk); i++ {
		if pk[i].SSRC != pk[0].SSRC || pk[i].SequenceNumber != pk[i-1].SequenceNumber+1 || pk[i].Timestamp-pk[i-1].Timestamp != 160 {
			t.Fatalf("packet %d: %+v after %+v", i, pk[i], pk[i-1])
		}
	}
	if pk[0].SSRC == 0x1234 {
		t.Error("the caller's SSRC reached the agent")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("bridge ended with %v", err)
	}
}

func TestWhisperReachesOneSideOnly(t *testing.T) {
	ports := media.NewPorts(netip.MustParseAddr("127.0.0.1"), 31200, 31300)
	caller := mediatest.NewPhone(t, media.PCMU)
	agent := mediatest.NewPhone(t, media.PCMU)
	a, b := session(t, ports, caller.Addr()), session(t, ports, agent.Addr())
	br := media.NewBridge(media.Leg{Session: a, PT: media.PCMU}, media.Leg{Session: b, PT: media.PCMU})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go br.Run(ctx)

	tone := make([]int16, 8000) // one second of 3 kHz for the agent's ear
	media.Tone{Freq: 3000, Amp: 8000}.Frame(0, tone)
	br.Whisper(1, tone)
	go caller.Send(a.LocalAddr(), 0, 30) // the caller is silent but sends RTP
	agent.Send(b.LocalAddr(), 0, 30)
	if !agent.Hears(3000, 4000) {
		t.Error("the agent did not hear the whisper")
	}
	if h := caller.Heard(); len(h) > 0 && media.Level(h, 3000) > 0.05 {
		t.Error("the caller heard the whisper")
	}

	// Even with no RTP at all from the caller, the whisper is sent alone.
	br.Whisper(1, tone[:1600])
	before := len(agent.Heard())
	time.Sleep(400 * time.Millisecond)
	if len(agent.Heard()) < before+1600 || !agent.Hears(3000, 1600) {
		t.Errorf("whisper over a silent caller: %d new samples", len(agent.Heard())-before)
	}
	// Once it is out (what the caller's RTP did not carry of the first second is
	// sent alone too), the relay waits for the caller again instead of spinning on
	// a read deadline in the past.
	time.Sleep(time.Second)
	wakes := br.Wakes()
	time.Sleep(200 * time.Millisecond)
	if n := br.Wakes() - wakes; n > 2 {
		t.Errorf("the relay woke %d times in 200 ms with nothing to whisper", n)
	}
}

func TestPlayPromptAndRingback(t *testing.T) {
	ports := media.NewPorts(netip.MustParseAddr("127.0.0.1"), 31400, 31500)
	phone := mediatest.NewPhone(t, media.PCMA)
	s := session(t, ports, phone.Addr())
	p := &media.Prompt{Name: "beep", Samples: make([]int16, 4000)}
	media.Tone{Freq: 1000, Amp: 8000}.Frame(0, p.Samples)
	if err := media.Play(context.Background(), s, media.PCMA, p); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	media.PlayTone(ctx, s, media.PCMA, media.Ringback)
	time.Sleep(50 * time.Millisecond)
	h := phone.Heard()
	if len(h) < 4000+3000 || media.Level(h[:4000], 1000) < 0.5 || media.Level(h[4000:], 425) < 0.5 {
		t.Errorf("heard %d samples; prompt %.2f at 1 kHz, ringback %.2f at 425 Hz", len(h),
			media.Level(h[:min(4000, len(h))], 1000), media.Level(h[min(4000, len(h)):], 425))
	}
	if pk := phone.Packets(); !pk[0].Marker {
		t.Error("first packet without the marker bit")
	}
}

// BenchmarkRelay measures one packet through the bridge: read, transcode, rewrite,
// send, over loopback sockets.
func BenchmarkRelay(b *testing.B) {
	ports := media.NewPorts(netip.MustParseAddr("127.0.0.1"), 31600, 31700)
	sink := mediatest.NewSink(b)
	src := mediatest.NewPhone(b, media.PCMU)
	a, c := session(b, ports, src.Addr()), session(b, ports, sink.Addr())
	pkt := []byte{0x80, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0x12, 0x34}
	pkt = append(pkt, make([]byte, 160)...)
	relay(b, a, c, src, sink, func(i int) []byte {
		pkt[2], pkt[3] = byte(i>>8), byte(i)
		return pkt
	})
}

// relay bridges a (PCMU, fed by src) to c (PCMA, heard by sink) and sends
// b.N packets of packet(i) through it.
func relay(b *testing.B, a, c *media.Session, src, sink *mediatest.Phone, packet func(i int) []byte) {
	br := media.NewBridge(media.Leg{Session: a, PT: media.PCMU}, media.Leg{Session: c, PT: media.PCMA})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go br.Run(ctx)
	to := a.LocalAddr()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		src.Conn.WriteToUDPAddrPort(packet(i), to)
		if i%64 == 63 { // let the bridge keep up so the socket buffer does not drop
			for sink.Count() < i-64 {
				time.Sleep(50 * time.Microsecond)
			}
		}
	}
	for deadline := time.Now().Add(2 * time.Second); sink.Count() < b.N-100 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(sink.Count())/float64(b.N), "delivered/op")
}

// TestASessionOutlivesItsBridges: one reader serves a session through a bridge,
// the time between bridges (a prompt, keys) and the next bridge; a bridge
// stopped writes nothing more, and closing a leg ends a bridge without error.
func TestASessionOutlivesItsBridges(t *testing.T) {
	ports := media.NewPorts(netip.MustParseAddr("127.0.0.1"), 31800, 31900)
	caller, agent := mediatest.NewPhone(t, media.PCMU), mediatest.NewPhone(t, media.PCMU)
	a, b := session(t, ports, caller.Addr()), session(t, ports, agent.Addr())
	keys := make(chan byte, 8)
	b.ListenKeys(101, keys)
	bridge := func() (context.CancelFunc, chan error) {
		br := media.NewBridge(media.Leg{Session: a, PT: media.PCMU}, media.Leg{Session: b, PT: media.PCMU})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- br.Run(ctx) }()
		return cancel, done
	}
	stop, done := bridge()
	caller.Send(a.LocalAddr(), 1000, 10)
	waitFor(t, func() bool { return agent.Hears(1000, 0) })
	stop()
	if err := <-done; err != nil {
		t.Fatalf("first bridge: %v", err)
	}
	heard := len(agent.Heard())
	caller.Send(a.LocalAddr(), 1000, 10) // unbridged: dropped, not relayed
	agent.SendKeys(b.LocalAddr(), 101, "4")
	waitKey(t, keys, '4', "between bridges")
	time.Sleep(50 * time.Millisecond)
	if n := len(agent.Heard()) - heard; n != 0 {
		t.Errorf("the agent heard %d samples with no bridge", n)
	}

	_, done = bridge()
	agent.Reset()
	caller.Send(a.LocalAddr(), 1500, 10)
	waitFor(t, func() bool { return agent.Hears(1500, 0) })
	a.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("a closed leg ended the bridge with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("closing a leg did not end the bridge")
	}
}
