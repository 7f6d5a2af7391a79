package webhook_test

import (
	"bytes"
	"testing"

	"github.com/peerline/peerline/internal/input"
	"github.com/peerline/peerline/pbx/webhook"
)

// The decoders never panic, and what they accept is valid: every error names
// a field.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"call_id":"elks-1","from":"+46701234567","to":"+46812345678"}`,
		`{"seq":1,"result":"done"}`, `{"seq":0,"result":"ringing"}`, `{"seq":2,"result":"failed","cause":"x"}`,
		`{"event":"dtmf","digit":"5"}`, `{"event":"failed","cause":"busy"}`, `{"event":"hangup"}`,
		`{"seq":"1"}`, `{"seq":1,`, `[]`, `null`, `{} {}`, `{"call_id":"a b"}`, "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		check := func(err error) {
			if fe, ok := input.As(err); err != nil && (!ok || fe.Field == "") {
				t.Fatalf("%q: an error without a field: %v", b, err)
			}
		}
		c, err := webhook.DecodeNewCall(bytes.NewReader(b))
		check(err)
		if err == nil && (c.CallID == "" || c.To == "") {
			t.Fatalf("%q: accepted a call without id or number: %+v", b, c)
		}
		r, err := webhook.DecodeResult(bytes.NewReader(b))
		check(err)
		if err == nil && (r.Seq < 0 || r.Result == "") {
			t.Fatalf("%q: accepted %+v", b, r)
		}
		e, err := webhook.DecodeEvent(bytes.NewReader(b))
		check(err)
		if err == nil && e.Event == "dtmf" && len(e.Digit) != 1 {
			t.Fatalf("%q: accepted %+v", b, e)
		}
	})
}
