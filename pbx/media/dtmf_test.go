package media_test

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/media/mediatest"
	"github.com/pion/rtp"
)

// pcapRTP reads the RTP packets of one of SIPp's DTMF captures (Ethernet, IPv4,
// UDP): real senders' packets, three end packets and all.
func pcapRTP(t testing.TB, key string) []rtp.Packet {
	t.Helper()
	b, err := os.ReadFile("/usr/share/sip-tester/dtmf_2833_" + key + ".pcap")
	if err != nil {
		t.Fatalf("%v (make check installs Debian's sip-tester)", err)
	}
	var out []rtp.Packet
	for off := 24; off+16 <= len(b); {
		n := int(binary.LittleEndian.Uint32(b[off+8:]))
		frame := b[off+16 : off+16+n]
		off += 16 + n
		var p rtp.Packet
		if err := p.Unmarshal(frame[14+20+8:]); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	if len(out) < 4 {
		t.Fatalf("%d packets in the capture of %s", len(out), key)
	}
	return out
}

func detect(pkts []rtp.Packet) string {
	var d media.KeyDetector
	var keys []byte
	for i := range pkts {
		if k := d.Packet(&pkts[i]); k != 0 {
			keys = append(keys, k)
		}
	}
	return string(keys)
}

func TestEachKeyOfSIPpsCapturesCountsOnce(t *testing.T) {
	for _, key := range []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "star", "pound"} {
		want := map[string]string{"star": "*", "pound": "#"}[key]
		if want == "" {
			want = key
		}
		if got := detect(pcapRTP(t, key)); got != want {
			t.Errorf("%s: detected %q, want %q", key, got, want)
		}
	}
}

func TestKeyDetectorToleratesWhatNetworksDo(t *testing.T) {
	five := pcapRTP(t, "5")
	nine := slices.Clone(pcapRTP(t, "9"))
	for i := range nine { // a later press
		nine[i].Timestamp += 8000
	}
	noMarker := slices.Clone(five)
	for i := range noMarker {
		noMarker[i].Marker = false
	}
	reversed := slices.Clone(five)
	slices.Reverse(reversed)
	interleaved := []rtp.Packet{five[0], five[1], nine[0], five[2], nine[1], five[len(five)-1], nine[len(nine)-1], five[3]}
	again := slices.Clone(five) // the same key pressed twice
	for i := range again {
		again[i].Timestamp += 4000
	}
	for name, c := range map[string]struct {
		pkts []rtp.Packet
		want string
	}{
		"repeated end packets":     {append(slices.Clone(five), five[len(five)-1], five[len(five)-1]), "5"},
		"no marker bit":            {noMarker, "5"},
		"start packet lost":        {five[1:], "5"},
		"end packets lost":         {five[:3], "5"},
		"only an end packet":       {five[len(five)-1:], "5"},
		"reordered":                {reversed, "5"},
		"two keys interleaved":     {interleaved, "59"},
		"the same key twice":       {append(slices.Clone(five), again...), "55"},
		"a late packet after more": {append(append(slices.Clone(five), nine...), five[2]), "59"},
	} {
		if got := detect(c.pkts); got != c.want {
			t.Errorf("%s: detected %q, want %q", name, got, c.want)
		}
	}
}

func TestParseTelephoneEvent(t *testing.T) {
	e, err := media.ParseTelephoneEvent([]byte{11, 0x8a, 0x03, 0x20})
	if err != nil || e != (media.TelephoneEvent{Key: '#', End: true, Volume: 10, Duration: 800}) {
		t.Errorf("%+v %v", e, err)
	}
	for _, p := range [][]byte{nil, {1, 2, 3}, {16, 0, 0, 0}, {255, 0, 0, 0}} {
		if _, err := media.ParseTelephoneEvent(p); err == nil {
			t.Errorf("% x parsed", p)
		}
	}
}

func TestParseDTMFInfo(t *testing.T) {
	for _, c := range []struct {
		ct, body string
		want     byte
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5'},
		{"application/dtmf-relay", "signal= *\nduration=100", '*'},
		{"Application/DTMF-Relay; charset=x", "Duration=100\r\nSignal=#", '#'},
		{"application/dtmf-relay", "Signal=10\r\n", '*'},
		{"application/dtmf-relay", "Signal=11", '#'},
		{"application/dtmf-relay", "Signal=d", 'D'},
		{"application/dtmf", "7", '7'},
		{"application/dtmf", " #\r\n", '#'},
	} {
		if got, err := media.ParseDTMFInfo(c.ct, []byte(c.body)); err != nil || got != c.want {
			t.Errorf("%s %q: %q %v, want %q", c.ct, c.body, got, err, c.want)
		}
	}
	for _, c := range [][2]string{
		{"text/plain", "5"}, {"application/dtmf-relay", "Duration=160"}, {"application/dtmf-relay", "Signal=12345"},
		{"application/dtmf", ""}, {"application/dtmf", "55"}, {"application/dtmf", "E"}, {"", ""},
	} {
		if k, err := media.ParseDTMFInfo(c[0], []byte(c[1])); err == nil {
			t.Errorf("%s %q gave %q", c[0], c[1], k)
		}
	}
}

func FuzzTelephoneEvent(f *testing.F) {
	f.Add([]byte{1, 0x0a, 0x01, 0x40})
	f.Add([]byte{11, 0x8a, 0x08, 0xc0, 0xff})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, p []byte) {
		e, err := media.ParseTelephoneEvent(p)
		if err != nil {
			return
		}
		if !strings.Contains(media.Keys, string(e.Key)) {
			t.Fatalf("key %q", e.Key)
		}
		if again, err := media.ParseTelephoneEvent(e.Marshal()); err != nil || again != e {
			t.Fatalf("round trip: %+v %+v %v", e, again, err)
		}
		var d media.KeyDetector
		pkt := rtp.Packet{Payload: p}
		if d.Packet(&pkt) != e.Key || d.Packet(&pkt) != 0 {
			t.Fatal("one packet twice is not one key")
		}
	})
}

func FuzzDTMFInfo(f *testing.F) {
	f.Add("application/dtmf-relay", "Signal=5\r\nDuration=160")
	f.Add("application/dtmf", "#")
	f.Fuzz(func(t *testing.T, ct, body string) {
		k, err := media.ParseDTMFInfo(ct, []byte(body))
		if err == nil && !strings.Contains(media.Keys, string(k)) {
			t.Fatalf("key %q from %q %q", k, ct, body)
		}
	})
}

func TestASessionReportsEachKeyOnce(t *testing.T) {
	ports := media.NewPorts(netip.MustParseAddr("127.0.0.1"), 32000, 32998)
	phone := mediatest.NewPhone(t, media.PCMU)
	s := session(t, ports, phone.Addr())
	keys := make(chan byte, 8)
	s.ListenKeys(101, keys)
	s.Start()
	for _, k := range []string{"1", "1", "pound"} { // 1 twice: the second capture repeats the first press
		for _, p := range pcapRTP(t, k) {
			b, _ := p.Marshal()
			phone.Conn.WriteTo(b, net.UDPAddrFromAddrPort(s.LocalAddr()))
		}
	}
	var got []byte
	for len(got) < 2 {
		select {
		case k := <-keys:
			got = append(got, k)
		case <-time.After(5 * time.Second):
			t.Fatalf("keys: %q", got)
		}
	}
	select {
	case k := <-keys:
		got = append(got, k)
	case <-time.After(100 * time.Millisecond):
	}
	if string(got) != "1#" {
		t.Errorf("keys %q, want 1#", got)
	}
}

func TestABridgedSessionReportsKeys(t *testing.T) {
	ports := media.NewPorts(netip.MustParseAddr("127.0.0.1"), 32000, 32998)
	caller, agent := mediatest.NewPhone(t, media.PCMU), mediatest.NewPhone(t, media.PCMU)
	a, b := session(t, ports, caller.Addr()), session(t, ports, agent.Addr())
	keys := make(chan byte, 8)
	a.ListenKeys(101, keys)
	br := media.NewBridge(media.Leg{Session: a, PT: media.PCMU}, media.Leg{Session: b, PT: media.PCMU})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go br.Run(ctx)
	for _, p := range pcapRTP(t, "7") {
		b, _ := p.Marshal()
		caller.Conn.WriteTo(b, net.UDPAddrFromAddrPort(a.LocalAddr()))
	}
	waitKey(t, keys, '7', "from the bridged caller")
}

// waitKey waits (bounded) for the next key reported on keys and checks it.
func waitKey(t *testing.T, keys <-chan byte, want byte, when string) {
	t.Helper()
	select {
	case k := <-keys:
		if k != want {
			t.Errorf("key %q %s, want %q", k, when, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no key %s", when)
	}
}

// TestTheSameCaptureTwiceIsTwoPresses: SIPp replays a key's capture with its
// recorded timestamp, so "1" pressed twice has one timestamp; a press is new
// when its event has been quiet for a while, and its repeated packets are not.
func TestTheSameCaptureTwiceIsTwoPresses(t *testing.T) {
	one := pcapRTP(t, "1")
	var d media.KeyDetector
	at := time.Date(2026, 11, 23, 13, 0, 0, 0, time.UTC)
	press := func() string {
		var keys []byte
		for i := range one {
			if k := d.PacketAt(&one[i], at); k != 0 {
				keys = append(keys, k)
			}
			at = at.Add(20 * time.Millisecond)
		}
		return string(keys)
	}
	if got := press(); got != "1" {
		t.Fatalf("first press: %q", got)
	}
	at = at.Add(100 * time.Millisecond) // a late duplicate of the last packet
	if d.PacketAt(&one[len(one)-1], at) != 0 {
		t.Error("a late duplicate counted as a press")
	}
	at = at.Add(500 * time.Millisecond)
	if got := press(); got != "1" {
		t.Errorf("the same capture half a second later: %q", got)
	}
}

// BenchmarkKeyDetector is the cost of each telephone-event packet a leg receives.
func BenchmarkKeyDetector(b *testing.B) {
	var pkts []rtp.Packet
	for _, k := range []string{"1", "2", "3", "pound"} {
		pkts = append(pkts, pcapRTP(b, k)...)
	}
	var d media.KeyDetector
	at := time.Date(2026, 11, 23, 13, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		d.PacketAt(&pkts[i%len(pkts)], at)
		at = at.Add(20 * time.Millisecond)
	}
}

func BenchmarkParseDTMFInfo(b *testing.B) {
	body := []byte("Signal=5\r\nDuration=160\r\n")
	b.ReportAllocs()
	for b.Loop() {
		media.ParseDTMFInfo("application/dtmf-relay", body)
	}
}
