package media_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/media/mediatest"
	"github.com/pion/rtp"
)

// A key from RFC 4568's own example, and one of 46 bytes for the AES-256 suites.
const (
	key30 = "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"
	key46 = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLg=="
)

func TestParseCrypto(t *testing.T) {
	c, err := media.ParseCrypto("1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^20|")
	if err == nil {
		t.Fatal("an empty key parameter passed")
	}
	c, err = media.ParseCrypto("1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^20")
	if err != nil || c.Tag != 1 || c.Suite != "AES_CM_128_HMAC_SHA1_80" {
		t.Fatalf("RFC 4568's example: %v %v", c, err)
	}
	if back, err := media.ParseCrypto(c.Attribute()); err != nil || back.Attribute() != c.Attribute() {
		t.Errorf("the attribute does not round-trip: %v", err)
	}
	if s := fmt.Sprintf("%v %+v %s", c, c, c); strings.Contains(s, key30[:10]) {
		t.Errorf("a printed crypto shows its key: %s", s)
	}
	for _, v := range []string{
		"2 AES_CM_128_HMAC_SHA1_32 inline:" + key30,
		"3 AES_CM_128_HMAC_SHA1_80 inline:" + strings.TrimRight(key30, "="), // unpadded
		"4 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|1048576",
	} {
		if _, err := media.ParseCrypto(v); err != nil {
			t.Errorf("%q: %v", v, err)
		}
	}
	for v, want := range map[string]error{
		"":                          media.ErrBadCrypto,
		"1 AES_CM_128_HMAC_SHA1_80": media.ErrBadCrypto,
		"x AES_CM_128_HMAC_SHA1_80 inline:" + key30:                       media.ErrBadCrypto,
		"1234567890 AES_CM_128_HMAC_SHA1_80 inline:k":                     media.ErrBadCrypto,
		"1 AES_CM_128_HMAC_SHA1_80 uri:" + key30:                          media.ErrBadCrypto,
		"1 AES_CM_128_HMAC_SHA1_80 inline:!!!!":                           media.ErrBadCrypto,
		"1 AES_CM_128_HMAC_SHA1_80 inline:AAAA":                           media.ErrBadCrypto, // 3 bytes
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|x":                media.ErrBadCrypto,
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|1:x":              media.ErrBadCrypto,
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|1|2|3":            media.ErrBadCrypto,
		"1 F8_128_HMAC_SHA1_80 inline:" + key30:                           media.ErrCryptoUnsupported,
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^20|1:4":         media.ErrCryptoUnsupported,
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + ";inline:" + key30:  media.ErrCryptoUnsupported,
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " UNENCRYPTED_SRTP": media.ErrCryptoUnsupported,
		"1 AES_256_CM_HMAC_SHA1_80 inline:" + key30:                       media.ErrBadCrypto,
	} {
		_, err := media.ParseCrypto(v)
		if !errors.Is(err, want) {
			t.Errorf("%q: %v, want %v", v, err, want)
		}
		if err != nil && strings.Contains(err.Error(), key30[:10]) {
			t.Errorf("%q: the error quotes the key: %v", v, err)
		}
	}
	if c, err := media.ParseCrypto("1 AES_256_CM_HMAC_SHA1_80 inline:" + key46); err != nil {
		t.Errorf("AES-256: %v %v", c, err)
	}
}

func FuzzParseCrypto(f *testing.F) {
	f.Add("1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^20|1:4")
	f.Add("1 AES_CM_128_HMAC_SHA1_32 inline:" + key30 + " KDR=1")
	f.Add("99 AES_256_CM_HMAC_SHA1_80 inline:" + key46 + ";inline:x")
	f.Fuzz(func(t *testing.T, v string) {
		c, err := media.ParseCrypto(v)
		if err != nil {
			if !errors.Is(err, media.ErrBadCrypto) && !errors.Is(err, media.ErrCryptoUnsupported) {
				t.Fatalf("%q: an error of no kind: %v", v, err)
			}
			return
		}
		if _, err := c.Context(true); err != nil {
			t.Fatalf("%q parsed but makes no context: %v", v, err)
		}
		if back, err := media.ParseCrypto(c.Attribute()); err != nil || back.Attribute() != c.Attribute() {
			t.Fatalf("%q does not round-trip: %v", v, err)
		}
	})
}

const savpOffer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
	"m=audio 6000 RTP/SAVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n" +
	"a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:" + key30 + "\r\n" + // 30 bytes, where the suite needs 46: malformed
	"a=crypto:2 F8_128_HMAC_SHA1_80 inline:" + key30 + "\r\n" +
	"a=crypto:3 AES_CM_128_HMAC_SHA1_32 inline:" + key30 + "\r\n"

func TestNegotiateSRTP(t *testing.T) {
	if _, err := media.ParseSDP([]byte(savpOffer)); !errors.Is(err, media.ErrBadCrypto) {
		t.Fatalf("an offer with a malformed a=crypto: %v", err)
	}
	offer := strings.Replace(savpOffer, "a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:"+key30+"\r\n", "", 1)
	o, err := media.ParseSDP([]byte(offer))
	if err != nil || !o.Secure || len(o.Crypto) != 1 || o.Crypto[0].Tag != 3 {
		t.Fatalf("offer = %+v %v; want SAVP with tag 3 only (F8 is skipped)", o, err)
	}
	plain, _ := media.ParseSDP([]byte(offerSIPp))
	bestEffort, _ := media.ParseSDP([]byte(strings.Replace(offerSIPp, "a=rtpmap:8", "a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:"+key30+"\r\na=rtpmap:8", 1)))
	onlyF8, _ := media.ParseSDP([]byte(strings.Replace(offer, "a=crypto:3 AES_CM_128_HMAC_SHA1_32 inline:"+key30+"\r\n", "", 1)))
	for _, c := range []struct {
		name string
		o    media.Offer
		p    media.Policy
		tag  int // 0: plain
		want error
	}{
		{"SAVP, optional", o, media.SRTPOptional, 3, nil},
		{"SAVP, required", o, media.SRTPRequired, 3, nil},
		{"SAVP, none", o, media.SRTPNone, 0, media.ErrSRTPOff},
		{"SAVP with no usable key", onlyF8, media.SRTPOptional, 0, media.ErrSRTPRequired},
		{"plain, optional", plain, media.SRTPOptional, 0, nil},
		{"plain, required", plain, media.SRTPRequired, 0, media.ErrSRTPRequired},
		{"AVP with a key, optional", bestEffort, media.SRTPOptional, 7, nil},
		{"AVP with a key, none", bestEffort, media.SRTPNone, 0, nil},
	} {
		k, err := c.o.Key(c.p)
		if !errors.Is(err, c.want) || (k == nil) != (c.tag == 0) || (k != nil && k.Tag != c.tag) {
			t.Errorf("%s: key %v, %v; want tag %d, %v", c.name, k, err, c.tag, c.want)
		}
	}

	// Our answer to the SAVP offer: SAVP, the offer's tag and suite, a key of our own.
	k, _ := o.Key(media.SRTPRequired)
	ours, err := media.NewCrypto(k.Tag, k.Suite)
	if err != nil {
		t.Fatal(err)
	}
	l, _ := media.Local{Addr: netip.MustParseAddrPort("127.0.0.1:10000"), Secure: o.Secure, Crypto: &ours}.AnswerTo(o)
	ans := string(l.Answer(o))
	if !strings.Contains(ans, "m=audio 10000 RTP/SAVP 0 101\r\n") || !strings.Contains(ans, "a=crypto:3 AES_CM_128_HMAC_SHA1_32 inline:") {
		t.Fatalf("answer:\n%s", ans)
	}
	// The offerer reads our answer: the key it offered is taken.
	mine, _ := media.NewCrypto(3, "AES_CM_128_HMAC_SHA1_32")
	back, _ := media.ParseSDP([]byte(ans))
	if got, err := (media.Local{Crypto: &mine}).Agree(back, media.SRTPRequired); err != nil || got.Tag != 3 {
		t.Errorf("agree: %v %v", got, err)
	}
	other, _ := media.NewCrypto(9, media.OfferedSuite)
	if _, err := (media.Local{Crypto: &other}).Agree(back, media.SRTPOptional); !errors.Is(err, media.ErrSRTPRequired) {
		t.Errorf("a SAVP answer with another tag than ours: %v", err)
	}
	if got, err := (media.Local{Crypto: &other}).Agree(plain, media.SRTPOptional); err != nil || got != nil {
		t.Errorf("a plain answer to an optional offer: %v %v", got, err)
	}
	if _, err := (media.Local{Crypto: &other}).Agree(plain, media.SRTPRequired); !errors.Is(err, media.ErrSRTPRequired) {
		t.Errorf("a plain answer to a required offer: %v", err)
	}
}

// encrypted is a session and a phone that speak SRTP to each other.
func encrypted(t testing.TB, ports *media.Ports, phone *mediatest.Phone) *media.Session {
	t.Helper()
	s := session(t, ports, phone.Addr())
	ours, _ := media.NewCrypto(1, media.OfferedSuite)
	theirs, _ := media.NewCrypto(1, media.OfferedSuite)
	if err := s.Encrypt(ours, theirs); err != nil {
		t.Fatal(err)
	}
	if err := phone.Encrypt(theirs, ours); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestBridgeBetweenSRTPAndPlain: an encrypted caller and a plain agent hear
// each other, the whisper reaches the encrypted side, keys pressed over SRTP
// are heard, and nothing in clear reaches the encrypted leg.
func TestBridgeBetweenSRTPAndPlain(t *testing.T) {
	ports := media.NewPorts(netip.MustParseAddr("127.0.0.1"), 32000, 32100)
	caller, agent := mediatest.NewPhone(t, media.PCMU), mediatest.NewPhone(t, media.PCMA)
	a, b := encrypted(t, ports, caller), session(t, ports, agent.Addr())
	keys := make(chan byte, 4)
	a.ListenKeys(media.DefaultDTMF, keys)
	br := media.NewBridge(media.Leg{Session: a, PT: media.PCMU}, media.Leg{Session: b, PT: media.PCMA})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go br.Run(ctx)

	go caller.Send(a.LocalAddr(), 1000, 25)
	agent.Send(b.LocalAddr(), 2000, 25)
	waitFor(t, func() bool { return agent.Hears(1000, 1600) && caller.HeardTone(2000, 1600) })
	tone := make([]int16, 4000)
	media.Tone{Freq: 3000, Amp: 8000}.Frame(0, tone)
	br.Whisper(0, tone) // over the agent's silence: sent alone
	waitFor(t, func() bool { return caller.HeardTone(3000, 1600) })
	caller.SendKeys(a.LocalAddr(), media.DefaultDTMF, "5")
	waitKey(t, keys, '5', "a key over SRTP")
	if n := caller.Undecryptable(); n != 0 {
		t.Errorf("%d packets to the encrypted leg were not its SRTP", n)
	}
}

// TestSRTPRefusesForgedPackets: plain RTP, SRTP under another key and a replay
// from the peer's own address are dropped and counted; none latches the
// session or is heard.
func TestSRTPRefusesForgedPackets(t *testing.T) {
	ports := media.NewPorts(netip.MustParseAddr("127.0.0.1"), 32200, 32300)
	peer := mediatest.NewPhone(t, media.PCMU)
	s := encrypted(t, ports, peer)
	var dropped atomic.Uint64
	s.CountDropped(&dropped)
	heard := &sink{}
	s.SetSink(heard)
	s.Start()

	stranger := mediatest.NewPhoneAt(t, netip.MustParseAddr("127.0.0.1"), media.PCMU) // same host, as a latch would allow
	stranger.Send(s.LocalAddr(), 1000, 3)
	wrong, _ := media.NewCrypto(1, media.OfferedSuite)
	stranger.Encrypt(wrong, wrong)
	stranger.Send(s.LocalAddr(), 1000, 3)
	waitFor(t, func() bool { return dropped.Load() >= 6 })
	if heard.n.Load() != 0 || s.Remote() != peer.Addr() {
		t.Fatalf("forged packets were heard (%d) or moved the remote to %s", heard.n.Load(), s.Remote())
	}
	peer.Send(s.LocalAddr(), 1000, 3)
	waitFor(t, func() bool { return heard.n.Load() == 3 })
	peer.Send(s.LocalAddr(), 1000, 3) // the same sequence numbers again: a replay
	waitFor(t, func() bool { return dropped.Load() >= 9 })
	if heard.n.Load() != 3 {
		t.Errorf("replayed packets were heard: %d", heard.n.Load())
	}
}

// BenchmarkRelaySRTP is BenchmarkRelay with SRTP on both legs: decrypt, relay
// (PCMU to PCMA), encrypt. The source's packets are encrypted before the clock
// starts, so that only peerline's side is measured.
func BenchmarkRelaySRTP(b *testing.B) {
	ports := media.NewPorts(netip.MustParseAddr("127.0.0.1"), 32400, 32500)
	sink := mediatest.NewSink(b)
	src := mediatest.NewPhone(b, media.PCMU)
	a, c := session(b, ports, src.Addr()), session(b, ports, sink.Addr())
	srcKey, _ := media.NewCrypto(1, media.OfferedSuite)
	ours, _ := media.NewCrypto(1, media.OfferedSuite)
	a.Encrypt(ours, srcKey)
	c.Encrypt(ours, ours)
	enc, _ := srcKey.Context(false)
	pkts := make([][]byte, b.N)
	for i := range pkts {
		plain, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(i), Timestamp: uint32(160 * i), SSRC: 0x1234},
			Payload: make([]byte, 160)}).Marshal()
		pkts[i], _ = enc.EncryptRTP(nil, plain, nil)
	}
	relay(b, a, c, src, sink, func(i int) []byte { return pkts[i] })
}

type sink struct{ n atomic.Int64 }

func (k *sink) WriteRTP(*rtp.Packet) { k.n.Add(1) }
