package logging_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/logging"
)

// TestSlogWritesSizesAndRateLimits: a raw message is logged as its size, a text
// repeated a thousand times is written a handful of times, and numbers are masked.
func TestSlogWritesSizesAndRateLimits(t *testing.T) {
	var out bytes.Buffer
	log, err := logging.New(config.Log{Level: "debug", Format: "json"}, &out, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := logging.Slog(log)
	raw := "INVITE sip:peer@x SIP/2.0\r\nFrom: <sip:+46701234567@x>\r\nMax-Forwards: 70\r\n\r\n"
	for range 1000 {
		s.Error("failed to parse", "data", raw, "error", "bad")
	}
	s.Info("SIP/2.0 180 Ringing +46701234567")
	got := out.String()
	if n := strings.Count(got, "failed to parse"); n != 5 {
		t.Errorf("%d of 1000 lines written, want 5", n)
	}
	if strings.Contains(got, "Max-Forwards") || strings.Contains(got, "1234567") {
		t.Errorf("raw message or number in the log:\n%s", got)
	}
	if !strings.Contains(got, `"data_bytes":`) {
		t.Errorf("no size of the message:\n%s", got)
	}
	if len(got) > 2000 {
		t.Errorf("%d bytes for a thousand messages", len(got))
	}
}
