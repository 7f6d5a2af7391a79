package logging

import (
	"bytes"
	"io"
	"sync"
)

// minDigits is the shortest digit run taken for a phone number. Swedish numbers have
// at least 7 digits after the trunk prefix; shorter runs (ports, counts) stay readable.
const minDigits = 7

// MaskNumber hides the middle of a phone number: "+46701234533" -> "+4670*****33",
// "0701234533" -> "070*****33". Short strings keep only their last two characters.
func MaskNumber(s string) string {
	b := []byte(s)
	maskRun(b)
	return string(b)
}

// maskRun masks b in place, which is one number: a '+' and digits, or digits only.
func maskRun(b []byte) {
	keep := 3
	if len(b) > 0 && b[0] == '+' {
		keep = 5
	}
	if len(b) < minDigits {
		keep = 0
	}
	for i := keep; i < len(b)-2; i++ {
		b[i] = '*'
	}
}

// MaskText masks every run of minDigits or more digits (with an optional leading '+').
func MaskText(s string) string {
	b := []byte(s)
	maskAll(b, nil)
	return string(b)
}

func maskAll(b []byte, public func(string) bool) {
	maskKeys(b)
	for i := 0; i < len(b); {
		if !isDigit(b[i]) {
			i++
			continue
		}
		start := i
		if start > 0 && b[start-1] == '+' {
			start--
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
		if i-start >= minDigits && (public == nil || !public(string(b[start:i]))) {
			maskRun(b[start:i])
		}
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// maskKeys hides SRTP master keys (a=crypto's "inline:" and its base64), which
// reach a log only inside a whole SIP message that sipgo could not parse.
func maskKeys(b []byte) {
	const inline = "inline:"
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte(inline))
		if j < 0 {
			return
		}
		i += j + len(inline)
		for ; i < len(b) && isBase64(b[i]); i++ {
			b[i] = '*'
		}
	}
}

func isBase64(c byte) bool {
	return isDigit(c) || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '+' || c == '/' || c == '='
}

// maskWriter masks numbers in each write; zerolog writes one event per call.
type maskWriter struct {
	mu     sync.Mutex
	w      io.Writer
	buf    []byte
	public func(string) bool // numbers kept in full; nil: none
}

func (m *maskWriter) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.buf = append(m.buf[:0], p...)
	maskAll(m.buf, m.public)
	if _, err := m.w.Write(m.buf); err != nil {
		return 0, err
	}
	return len(p), nil
}
