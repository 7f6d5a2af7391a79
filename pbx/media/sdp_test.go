package media_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/peerline/peerline/pbx/media"
)

const offerSIPp = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
	"m=audio 6000 RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-11,16\r\n"

func TestParseAndAnswer(t *testing.T) {
	o, err := media.ParseSDP([]byte(offerSIPp))
	if err != nil {
		t.Fatal(err)
	}
	if o.Addr != netip.MustParseAddrPort("127.0.0.1:6000") || o.DTMF != 101 || o.Hold() {
		t.Fatalf("offer = %+v", o)
	}
	if pt, err := o.Choose(); err != nil || pt != media.PCMA {
		t.Fatalf("choose = %d %v, want the offer's first (PCMA)", pt, err)
	}
	l, err := media.Local{Addr: netip.MustParseAddrPort("127.0.0.1:10000"), SessionID: 7, Version: 1}.AnswerTo(o)
	if err != nil {
		t.Fatal(err)
	}
	ans := string(l.Answer(o))
	for _, want := range []string{"m=audio 10000 RTP/AVP 8 101\r\n", "a=rtpmap:101 telephone-event/8000", "a=sendrecv", "c=IN IP4 127.0.0.1"} {
		if !strings.Contains(ans, want) {
			t.Errorf("answer lacks %q:\n%s", want, ans)
		}
	}
	if back, err := media.ParseSDP([]byte(ans)); err != nil || back.Addr.Port() != 10000 {
		t.Errorf("our answer does not parse: %v", err)
	}
}

func TestOddOffers(t *testing.T) {
	video := "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\n" +
		"m=video 5000 RTP/AVP 96\r\nc=IN IP4 10.0.0.1\r\n" +
		"m=audio 5002 RTP/AVP 18 0\r\nc=IN IP4 10.0.0.2\r\na=sendonly\r\n"
	o, err := media.ParseSDP([]byte(video))
	if err != nil {
		t.Fatal(err)
	}
	if o.Addr.String() != "10.0.0.2:5002" || !o.Hold() || o.DTMF != -1 {
		t.Errorf("offer = %+v", o)
	}
	l, _ := media.Local{Addr: netip.MustParseAddrPort("127.0.0.1:10002")}.AnswerTo(o)
	ans := string(l.Answer(o))
	if i, j := strings.Index(ans, "m=video 0 "), strings.Index(ans, "m=audio 10002 RTP/AVP 0\r\n"); i < 0 || j < i || !strings.Contains(ans, "a=recvonly") {
		t.Errorf("answer must refuse video first, then audio, recvonly:\n%s", ans)
	}
	bad := map[string]string{
		"garbage":  "hello",
		"no audio": "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=video 5000 RTP/AVP 96\r\n",
		"no c=":    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n",
		"bad addr": "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 host.example\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n",
	}
	for name, s := range bad {
		if _, err := media.ParseSDP([]byte(s)); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	g729 := "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 5000 RTP/AVP 18\r\n"
	if o, err := media.ParseSDP([]byte(g729)); err != nil {
		t.Fatal(err)
	} else if _, err := o.Choose(); err != media.ErrNoCodec {
		t.Errorf("G.729 only: %v", err)
	}
}

func FuzzParseSDP(f *testing.F) {
	f.Add([]byte(offerSIPp))
	f.Add([]byte("v=0\r\nm=audio 1 RTP/AVP 0\r\n"))
	f.Add([]byte(savpOffer))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := media.ParseSDP(b)
		if err != nil {
			return
		}
		key, kerr := o.Key(media.SRTPOptional)
		if pt, err := o.Choose(); err == nil && kerr == nil {
			l, _ := media.Local{Addr: netip.MustParseAddrPort("127.0.0.1:10000"), Secure: o.Secure}.AnswerTo(o)
			if key != nil {
				ours, err := media.NewCrypto(key.Tag, key.Suite)
				if err != nil {
					t.Fatalf("%q: a key of the offer's suite: %v", b, err)
				}
				l.Crypto = &ours
			}
			if _, err := media.ParseSDP(l.Answer(o)); err != nil {
				t.Fatalf("our answer to %q does not parse (pt %d): %v", b, pt, err)
			}
		}
	})
}
