package logging_test

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/logging"
)

func TestMaskNumber(t *testing.T) {
	tests := map[string]string{
		"+46701234533": "+4670*****33",
		"0701234533":   "070*****33",
		"123":          "*23",
		"":             "",
	}
	for in, want := range tests {
		if got := logging.MaskNumber(in); got != want {
			t.Errorf("MaskNumber(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskText(t *testing.T) {
	in := `From: <sip:+46701234533@trunk>;tag=1 port 5060 at 2026-11-22T10:00:00.123+01:00 call 0812345678`
	want := `From: <sip:+4670*****33@trunk>;tag=1 port 5060 at 2026-11-22T10:00:00.123+01:00 call 081*****78`
	if got := logging.MaskText(in); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestLoggerMasksEverything(t *testing.T) {
	for _, format := range []string{"console", "json"} {
		var buf bytes.Buffer
		line := func(n string) bool { return strings.TrimPrefix(n, "+") == "46812345678" || n == "0812345678" }
		log, err := logging.New(config.Log{Level: "debug", Format: format}, &buf, line)
		if err != nil {
			t.Fatal(err)
		}
		log.Info().Str("msg_body", "INVITE sip:peer@x From: +46701234533").Str("to", "+46812345678").Msg("call from 0701234533 to 0812345678")
		logging.Slog(log).Info("sipgo", "raw", "Contact: <sip:46701234533@10.0.0.1>\r\n\r\nm=audio 4000 RTP/SAVP 0\r\n"+
			"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20\r\n")
		out := buf.String()
		for _, n := range []string{"46701234533", "0701234533", "PS1uQCVee", "aVBR"} {
			if strings.Contains(out, n) {
				t.Errorf("%s log contains %s:\n%s", format, n, out)
			}
		}
		if !strings.Contains(out, "+46812345678") || !strings.Contains(out, "to 0812345678") {
			t.Errorf("%s log masks the line's own (public) number:\n%s", format, out)
		}
		if !strings.Contains(out, "+4670*****33") {
			t.Errorf("%s log lost the masked form:\n%s", format, out)
		}
	}
}

func FuzzMaskText(f *testing.F) {
	f.Add("+46701234533 and 0701234533")
	f.Add("+++1234567")
	f.Fuzz(func(t *testing.T, s string) {
		got := logging.MaskText(s)
		if len(got) != len(s) {
			t.Fatalf("length changed: %q -> %q", s, got)
		}
		run := 0
		for i := 0; i < len(got); i++ {
			if got[i] >= '0' && got[i] <= '9' {
				run++
				if run >= 7 {
					t.Fatalf("%q keeps a run of 7 digits: %q", s, got)
				}
			} else {
				run = 0
			}
		}
	})
}

// TestWithAddsTheFieldToEachEvent: With's field is in every event of the
// logger and of loggers made from it, masked like the rest, and not in the
// parent's.
func TestWithAddsTheFieldToEachEvent(t *testing.T) {
	var buf bytes.Buffer
	log, err := logging.New(config.Log{Level: "info", Format: "json"}, &buf, func(string) bool { return false })
	if err != nil {
		t.Fatal(err)
	}
	call := logging.With(log, "call", "ABC")
	agent := logging.With(call, "agent", "0701234533")
	call.Info().Msg("one")
	agent.Warn().Str("x", "y").Msg("two")
	call.Debug().Msg("not written")
	log.Info().Msg("three")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines:\n%s", len(lines), buf.String())
	}
	for i, want := range []struct{ has, hasNot []string }{
		{has: []string{`"call":"ABC"`, `"message":"one"`}, hasNot: []string{`"agent"`}},
		{has: []string{`"call":"ABC"`, `"agent":"070*****33"`, `"x":"y"`}},
		{has: []string{`"message":"three"`}, hasNot: []string{`"call"`}},
	} {
		for _, s := range want.has {
			if !strings.Contains(lines[i], s) {
				t.Errorf("line %d lacks %s: %s", i, s, lines[i])
			}
		}
		for _, s := range want.hasNot {
			if strings.Contains(lines[i], s) {
				t.Errorf("line %d has %s: %s", i, s, lines[i])
			}
		}
	}
}

// BenchmarkLine is one call's "call in" line, masked, in each format: the
// console format decodes each JSON event again to lay it out.
func BenchmarkLine(b *testing.B) {
	for _, format := range []string{"console", "json"} {
		b.Run(format, func(b *testing.B) {
			log, err := logging.New(config.Log{Level: "info", Format: format}, io.Discard, func(string) bool { return false })
			if err != nil {
				b.Fatal(err)
			}
			log = logging.With(log, "call", "GEZDGNBVGY3TQOJQ")
			b.ReportAllocs()
			for b.Loop() {
				log.Info().Str("line", "stodlinjen").Str("to", "+46812345678").Str("from", "+4670*****33").Bool("srtp", false).Msg("call in")
			}
		})
	}
}
