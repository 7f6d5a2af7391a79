package media

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// ErrNoCodec means the offer has no audio stream in a codec we speak.
var ErrNoCodec = errors.New("sdp: no common audio codec (PCMU or PCMA)")

// Offer is what peerline needs from a remote SDP.
type Offer struct {
	Addr      netip.AddrPort // where to send RTP (c= and the audio m= port)
	Codecs    []uint8        // audio payload types, in the remote's order of preference
	DTMF      int            // telephone-event payload type, -1 without
	Direction string         // sendrecv, sendonly, recvonly or inactive
	Secure    bool           // the audio m-line is RTP/SAVP: SRTP or nothing
	Crypto    []Crypto       // the audio m-line's usable SRTP keys, in the remote's order
	media     []mline        // every m-line, so that the answer keeps their number and order
	audio     int            // index of the audio m-line we use
}

type mline struct {
	media   string
	protos  []string
	formats []string
}

// Hold reports whether the remote put the call on hold.
func (o Offer) Hold() bool {
	return o.Direction == "sendonly" || o.Direction == "inactive" || o.Addr.Addr().IsUnspecified()
}

// ParseSDP reads an offer or answer. It uses the first audio m-line with
// RTP/AVP or RTP/SAVP. A malformed a=crypto there is an error (ErrBadCrypto);
// one peerline cannot use is left out of Crypto.
func ParseSDP(b []byte) (Offer, error) {
	var s sdp.SessionDescription
	if err := s.Unmarshal(b); err != nil {
		return Offer{}, fmt.Errorf("sdp: %w", err)
	}
	o := Offer{DTMF: -1, Direction: "sendrecv", audio: -1}
	for i, md := range s.MediaDescriptions {
		o.media = append(o.media, mline{md.MediaName.Media, md.MediaName.Protos, md.MediaName.Formats})
		proto := strings.Join(md.MediaName.Protos, "/")
		if o.audio >= 0 || md.MediaName.Media != "audio" || (proto != "RTP/AVP" && proto != "RTP/SAVP") {
			continue
		}
		o.audio, o.Secure = i, proto == "RTP/SAVP"
		conn := s.ConnectionInformation
		if md.ConnectionInformation != nil {
			conn = md.ConnectionInformation
		}
		if conn == nil || conn.Address == nil {
			return Offer{}, errors.New("sdp: audio without a connection address (c=)")
		}
		ip, err := netip.ParseAddr(conn.Address.Address)
		if err != nil {
			return Offer{}, fmt.Errorf("sdp: c= address %q is not an IP address", conn.Address.Address)
		}
		port := md.MediaName.Port.Value
		if port < 0 || port > 65535 {
			return Offer{}, fmt.Errorf("sdp: audio port %d", port)
		}
		o.Addr = netip.AddrPortFrom(ip, uint16(port))
		if err := o.parseFormats(md); err != nil {
			return Offer{}, err
		}
	}
	if o.audio < 0 {
		return Offer{}, errors.New("sdp: no audio stream (m=audio ... RTP/AVP or RTP/SAVP)")
	}
	return o, nil
}

func (o *Offer) parseFormats(md *sdp.MediaDescription) error {
	for _, f := range md.MediaName.Formats {
		if pt, err := strconv.Atoi(f); err == nil && pt >= 0 && pt < 128 {
			o.Codecs = append(o.Codecs, uint8(pt))
		}
	}
	for _, a := range md.Attributes {
		switch a.Key {
		case "sendrecv", "sendonly", "recvonly", "inactive":
			o.Direction = a.Key
		case "rtpmap":
			pt, enc, _ := strings.Cut(a.Value, " ")
			if n, err := strconv.Atoi(pt); err == nil && strings.HasPrefix(strings.ToLower(enc), "telephone-event/8000") {
				o.DTMF = n
			}
		case "crypto":
			c, err := ParseCrypto(a.Value)
			if errors.Is(err, ErrBadCrypto) {
				return err
			}
			if err == nil {
				o.Crypto = append(o.Crypto, c)
			}
		}
	}
	return nil
}

// Choose picks the first codec of the offer that peerline speaks.
func (o Offer) Choose() (uint8, error) {
	for _, pt := range o.Codecs {
		if pt == PCMU || pt == PCMA {
			return pt, nil
		}
	}
	return 0, ErrNoCodec
}

// Local describes our side of a media session.
type Local struct {
	Addr      netip.AddrPort
	Codecs    []uint8 // in our order of preference
	DTMF      int     // telephone-event payload type, -1 without
	SessionID uint64
	Version   uint64  // a new value on every change
	Direction string  // "" means sendrecv
	Secure    bool    // RTP/SAVP: the other side must encrypt
	Crypto    *Crypto // our SRTP key, sent as a=crypto; nil: plain RTP
}

// Offer writes our offer: PCMU and PCMA with telephone-event.
func (l Local) Offer() []byte { return l.marshal(nil) }

// Answer writes the answer to o: the same m-lines in the same order, the audio
// one with our chosen codec and the offer's telephone-event type, others refused.
func (l Local) Answer(o Offer) []byte { return l.marshal(&o) }

func (l Local) marshal(o *Offer) []byte {
	var b strings.Builder
	ip := l.Addr.Addr()
	family := "IP4"
	if ip.Is6() && !ip.Is4In6() {
		family = "IP6"
	}
	fmt.Fprintf(&b, "v=0\r\no=peerline %d %d IN %s %s\r\ns=peerline\r\nc=IN %s %s\r\nt=0 0\r\n",
		l.SessionID, l.Version, family, ip, family, ip)
	if o == nil {
		l.audio(&b)
		return []byte(b.String())
	}
	for i, m := range o.media {
		if i == o.audio {
			l.audio(&b)
			continue
		}
		fmt.Fprintf(&b, "m=%s 0 %s %s\r\n", m.media, strings.Join(m.protos, "/"), strings.Join(m.formats, " "))
	}
	return []byte(b.String())
}

func (l Local) audio(b *strings.Builder) {
	formats := make([]string, 0, len(l.Codecs)+1)
	for _, pt := range l.Codecs {
		formats = append(formats, strconv.Itoa(int(pt)))
	}
	if l.DTMF >= 0 {
		formats = append(formats, strconv.Itoa(l.DTMF))
	}
	proto := "RTP/AVP"
	if l.Secure {
		proto = "RTP/SAVP"
	}
	fmt.Fprintf(b, "m=audio %d %s %s\r\n", l.Addr.Port(), proto, strings.Join(formats, " "))
	for _, pt := range l.Codecs {
		name := map[uint8]string{PCMU: "PCMU", PCMA: "PCMA"}[pt]
		fmt.Fprintf(b, "a=rtpmap:%d %s/8000\r\n", pt, name)
	}
	if l.DTMF >= 0 {
		fmt.Fprintf(b, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\n", l.DTMF, l.DTMF)
	}
	if l.Crypto != nil {
		fmt.Fprintf(b, "a=crypto:%s\r\n", l.Crypto.Attribute())
	}
	fmt.Fprintf(b, "a=ptime:20\r\na=%s\r\n", cmp(l.Direction, "sendrecv"))
}

// AnswerTo fills l for an answer to o: the chosen codec and the offer's DTMF type.
func (l Local) AnswerTo(o Offer) (Local, error) {
	pt, err := o.Choose()
	if err != nil {
		return l, err
	}
	l.Codecs = []uint8{pt}
	l.DTMF = o.DTMF
	if o.Direction == "sendonly" {
		l.Direction = "recvonly"
	} else if o.Direction == "inactive" {
		l.Direction = "inactive"
	}
	return l, nil
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// DefaultDTMF is the telephone-event payload type peerline offers.
const DefaultDTMF = 101

// Supports reports whether pt is a codec peerline speaks.
func Supports(pt uint8) bool { return pt == PCMU || pt == PCMA }
