package logging_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/logging"
)

// TestSlogWritesSizesAndRateLimits: a raw message is logged as its size, a text
// repeated a thousand times is written a handful of times, and numbers are masked.
func TestSlogWritesSizesAndRateLimits(t *testing.T) {
	s, out := jsonSlog(t)
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

// TestSlogErrorsQuoteNoMessage: an error that quotes the message it could not
// parse (as sipgo's do) is logged with the quote's size instead.
func TestSlogErrorsQuoteNoMessage(t *testing.T) {
	s, out := jsonSlog(t)
	s.Error("failed to parse", "error", errors.New(`field name with no value in header: "Max-Forwards\x10 70"`))
	s.Error("failed to read", "error", `bad "From: <sip:a@b>" and "unterminated`)
	s.Error("failed to read", "error", "transmission beginning 'GET /x' is not a SIP message")
	got := out.String()
	for _, leak := range []string{"Max-Forwards", "sip:a@b", "GET /x"} {
		if strings.Contains(got, leak) {
			t.Errorf("the log quotes the message (%s):\n%s", leak, got)
		}
	}
	for _, want := range []string{"in header: (16 bytes quoted)", "bad (15 bytes quoted) and", "unterminated", "beginning (6 bytes quoted) is not"} {
		if !strings.Contains(got, want) {
			t.Errorf("the log lacks %q:\n%s", want, got)
		}
	}
}

// FuzzSlogError: any error text is logged without a panic, and what sipgo
// quotes of a message (Go's quotes, as %q writes them) never reaches the log.
func FuzzSlogError(f *testing.F) {
	f.Add(`field name with no value in header: "Max-Forwards\x10 70"`, "Secret")
	f.Add("transmission beginning 'GET' is not", "Via")
	f.Add(`"unterminated 'also`, "From")
	f.Fuzz(func(t *testing.T, text, quoted string) {
		s, out := jsonSlog(t)
		s.Error("any", "error", text)
		out.Reset()
		s.Error("quoted", "error", "bad header: "+strconv.Quote(quoted)+" here")
		if want := fmt.Sprintf(`"error":"bad header: (%d bytes quoted) here"`, len(quoted)); !strings.Contains(out.String(), want) {
			t.Fatalf("%q: the log has not %s: %s", quoted, want, out.String())
		}
	})
}

// jsonSlog is the slog bridge over a JSON logger at debug, and what it wrote.
func jsonSlog(t *testing.T) (*slog.Logger, *bytes.Buffer) {
	t.Helper()
	out := &bytes.Buffer{}
	log, err := logging.New(config.Log{Level: "debug", Format: "json"}, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	return logging.Slog(log), out
}
