package logging

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Slog bridges the logger to log/slog, for libraries such as sipgo. What they
// log cannot fill the disk or carry a message: an attribute holding raw bytes
// ("data": a whole unparsable SIP message) is logged as its size, so is what
// an error quotes of one (unquoted), and each
// message text is written at most slogBurst times per slogWindow, the rest
// counted and reported once the window has passed. Numbers are masked on
// output, as everywhere.
func Slog(l zerolog.Logger) *slog.Logger {
	return slog.New(&limitedHandler{next: zerolog.NewSlogHandler(l), state: &limits{seen: map[string]*window{}}})
}

const (
	slogBurst  = 5
	slogWindow = time.Minute
	maxTexts   = 1000 // message texts tracked; beyond, old windows are dropped
)

// rawKeys are attributes in which sipgo logs whole messages.
var rawKeys = map[string]bool{"data": true, "msg": true, "message": true, "raw": true, "req": true, "res": true}

type limitedHandler struct {
	next  slog.Handler
	state *limits
}

type limits struct {
	mu   sync.Mutex
	seen map[string]*window
}

type window struct {
	start      time.Time
	n          int
	suppressed int
}

// admit reports whether a record with text may be written at now, and how many
// of the same text were suppressed in the window that just ended.
func (s *limits) admit(text string, now time.Time) (bool, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.seen[text]
	if w == nil || now.Sub(w.start) >= slogWindow {
		if len(s.seen) >= maxTexts {
			for k, v := range s.seen {
				if now.Sub(v.start) >= slogWindow {
					delete(s.seen, k)
				}
			}
		}
		if w == nil && len(s.seen) >= maxTexts {
			return false, 0 // a flood of distinct texts: nothing more this window
		}
		suppressed := 0
		if w != nil {
			suppressed = w.suppressed
		}
		s.seen[text] = &window{start: now, n: 1}
		return true, suppressed
	}
	if w.n < slogBurst {
		w.n++
		return true, 0
	}
	w.suppressed++
	return false, 0
}

func (h *limitedHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *limitedHandler) Handle(ctx context.Context, r slog.Record) error {
	ok, suppressed := h.state.admit(r.Message, time.Now())
	if !ok {
		return nil
	}
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(sized(a))
		return true
	})
	if suppressed > 0 {
		out.AddAttrs(slog.Int("suppressed_before", suppressed))
	}
	return h.next.Handle(ctx, out)
}

// sized replaces a raw message attribute by its size in bytes, and what an
// error quotes of the message it could not parse by that quote's size.
func sized(a slog.Attr) slog.Attr {
	if a.Key == "error" {
		return slog.String(a.Key, unquoted(a.Value.Resolve().String()))
	}
	if !rawKeys[a.Key] {
		return a
	}
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.Int(a.Key+"_bytes", len(v.String()))
	case slog.KindAny:
		if b, ok := v.Any().([]byte); ok {
			return slog.Int(a.Key+"_bytes", len(b))
		}
		if s, ok := v.Any().(interface{ String() string }); ok {
			return slog.Int(a.Key+"_bytes", len(s.String()))
		}
	}
	return a
}

func (h *limitedHandler) WithAttrs(as []slog.Attr) slog.Handler {
	sizedAttrs := make([]slog.Attr, len(as))
	for i, a := range as {
		sizedAttrs[i] = sized(a)
	}
	return &limitedHandler{next: h.next.WithAttrs(sizedAttrs), state: h.state}
}

func (h *limitedHandler) WithGroup(name string) slog.Handler {
	return &limitedHandler{next: h.next.WithGroup(name), state: h.state}
}

// unquoted is an error's text with each quoted part replaced by its size:
// sipgo's parse errors quote what they could not read of the sender's message,
// in Go's double quotes (`field name with no value in header:
// "Max-Forwards\x10 70"`) or in single ones (`transmission beginning '...'
// is not a SIP message`).
func unquoted(text string) string {
	var b strings.Builder
	for {
		i := strings.IndexAny(text, `"'`)
		if i < 0 {
			b.WriteString(text)
			return b.String()
		}
		b.WriteString(text[:i])
		n, rest, ok := quote(text[i:])
		if !ok {
			b.WriteString(text[i:])
			return b.String()
		}
		fmt.Fprintf(&b, "(%d bytes quoted)", n)
		text = rest
	}
}

// quote reads the quoted part text starts with: its length unquoted, and the
// text after it; false when it does not end.
func quote(text string) (int, string, bool) {
	if text[0] == '\'' {
		end := strings.IndexByte(text[1:], '\'')
		if end < 0 {
			return 0, "", false
		}
		return end, text[end+2:], true
	}
	q, err := strconv.QuotedPrefix(text)
	if err != nil {
		return 0, "", false
	}
	u, _ := strconv.Unquote(q)
	return len(u), text[len(q):], true
}
