package media

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pion/rtp"
)

// Keys are the DTMF keys in RFC 4733 event order: event 0-9 are the digits,
// 10 is *, 11 is #, 12-15 are A-D.
const Keys = "0123456789*#ABCD"

// ErrDTMF is wrapped by every error about a DTMF payload or body.
var ErrDTMF = errors.New("not a DTMF key")

// TelephoneEvent is one RFC 4733 telephone-event payload.
type TelephoneEvent struct {
	Key      byte   // one of Keys
	End      bool   // the E bit: the key was released
	Volume   uint8  // 0-63, in -dBm0
	Duration uint16 // in timestamp units (1/8000 s) since the event began
}

// ParseTelephoneEvent reads an RFC 4733 payload (4 bytes; more are ignored, as
// RFC 4733 allows redundant events to follow). Events beyond 15 (tones such as
// flash hook) are refused.
func ParseTelephoneEvent(p []byte) (TelephoneEvent, error) {
	if len(p) < 4 {
		return TelephoneEvent{}, fmt.Errorf("telephone-event of %d bytes: %w", len(p), ErrDTMF)
	}
	if int(p[0]) >= len(Keys) {
		return TelephoneEvent{}, fmt.Errorf("telephone-event %d: %w", p[0], ErrDTMF)
	}
	return TelephoneEvent{Key: Keys[p[0]], End: p[1]&0x80 != 0, Volume: p[1] & 0x3f,
		Duration: uint16(p[2])<<8 | uint16(p[3])}, nil
}

// Marshal is the 4-byte payload of e.
func (e TelephoneEvent) Marshal() []byte {
	b := []byte{byte(strings.IndexByte(Keys, e.Key)), e.Volume & 0x3f, byte(e.Duration >> 8), byte(e.Duration)}
	if e.End {
		b[1] |= 0x80
	}
	return b
}

// recentEvents is how many past events a KeyDetector remembers, so that a late
// or repeated packet of one of them is not taken for a new key press.
const recentEvents = 8

// repressGap is how long an event must have been silent before a packet with its
// timestamp and key counts as a new press. Phones give each press a new
// timestamp; a replayed recording (SIPp's DTMF captures) repeats it, and its
// repeated and late packets come within a few tens of milliseconds.
const repressGap = 400 * time.Millisecond

// KeyDetector turns a stream of telephone-event packets into key presses, each
// counted once. All packets of one press share an RTP timestamp (RFC 4733 2.5.1),
// so a press is known by its timestamp and key, not by the marker bit or the end
// packets: a missing marker, a lost start or end packet, the three repeated end
// packets and reordering all leave one press one press.
type KeyDetector struct {
	seen [recentEvents]pressed
	n    int // how many of seen are filled
	next int // where the next one goes
}

type pressed struct {
	ts   uint32
	key  byte
	last int64 // unix nanoseconds of its latest packet (eight time.Times were 192 of a session's 608 bytes)
}

// Packet reports the key of a new press, or 0 when pkt belongs to a press
// already reported or is not a key.
func (d *KeyDetector) Packet(pkt *rtp.Packet) byte { return d.PacketAt(pkt, time.Now()) }

// PacketAt is Packet for a packet that arrived at now.
func (d *KeyDetector) PacketAt(pkt *rtp.Packet, now time.Time) byte {
	e, err := ParseTelephoneEvent(pkt.Payload)
	if err != nil {
		return 0
	}
	at := now.UnixNano()
	for i := range d.seen[:d.n] {
		p := &d.seen[i]
		if p.ts == pkt.Timestamp && p.key == e.Key {
			if time.Duration(at-p.last) < repressGap {
				p.last = at
				return 0
			}
			p.last = at // the same recording again: a new press
			return e.Key
		}
	}
	d.seen[d.next] = pressed{ts: pkt.Timestamp, key: e.Key, last: at}
	d.next = (d.next + 1) % recentEvents
	d.n = min(d.n+1, recentEvents)
	return e.Key
}

// ParseDTMFInfo reads the key of a SIP INFO body: application/dtmf-relay
// ("Signal=5\r\nDuration=160") or application/dtmf ("5"). Signals 10 and 11,
// which some phones send for * and #, are accepted too.
func ParseDTMFInfo(contentType string, body []byte) (byte, error) {
	ct, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(contentType)), ";")
	var signal string
	switch strings.TrimSpace(ct) {
	case "application/dtmf-relay":
		for _, line := range strings.FieldsFunc(string(body), func(r rune) bool { return r == '\r' || r == '\n' }) {
			k, v, ok := strings.Cut(line, "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
				signal = strings.TrimSpace(v)
				break
			}
		}
	case "application/dtmf":
		signal = strings.TrimSpace(string(body))
	default:
		return 0, fmt.Errorf("INFO body of type %q: %w", contentType, ErrDTMF)
	}
	if len(signal) == 1 {
		if i := strings.IndexByte(Keys, strings.ToUpper(signal)[0]); i >= 0 {
			return Keys[i], nil
		}
	}
	if n, err := strconv.Atoi(signal); err == nil && n >= 10 && n < len(Keys) {
		return Keys[n], nil
	}
	return 0, fmt.Errorf("INFO signal %q: %w", signal, ErrDTMF)
}
