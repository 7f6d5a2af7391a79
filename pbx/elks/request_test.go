package elks

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// form reads a request body kept from 46elks's documentation.
func form(t testing.TB, name string) url.Values {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	v, err := url.ParseQuery(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDocumentedRequestsParse(t *testing.T) {
	c, err := ParseCall(form(t, "receive-call.form"))
	if err != nil || c.ID != "c45072a1eeafebccc3dffbd4d27b5ebcc" || c.Direction != "incoming" ||
		c.From != "+46706861004" || c.To != "+46706860000" {
		t.Errorf("receive-call: %+v %v", c, err)
	}
	if c, err := ParseCall(form(t, "outgoing-answered.form")); err != nil || c.Direction != "outgoing" || c.To != "+46700000000" {
		t.Errorf("an outgoing call answered: %+v %v", c, err)
	}
	if r, err := ParseResult(form(t, "ivr-result.form")); err != nil || r.Result != "1234" {
		t.Errorf("ivr result: %+v %v", r, err)
	}
	if r, err := ParseResult(form(t, "connect-result.form")); err != nil || r.Result != "busy" {
		t.Errorf("connect result: %+v %v", r, err)
	}
	if id, err := ParseHangup(form(t, "whenhangup.form")); err != nil || id != "c595183c042b1e43d1c8e79b9fd5cbcab" {
		t.Errorf("whenhangup: %q %v", id, err)
	}
}

func TestAWithheldNumberIsNoNumber(t *testing.T) {
	for _, from := range []string{"", "anonymous", "+anonymous", "0701234567", "+46"} {
		v := form(t, "receive-call.form")
		v.Set("from", from)
		if c, err := ParseCall(v); err != nil || c.From != "" {
			t.Errorf("from %q: %+v %v", from, c, err)
		}
	}
}

func TestBadRequestsSayWhichField(t *testing.T) {
	cases := []struct {
		name, field, value, want string
		parse                    func(url.Values) error
	}{
		{"receive-call.form", "callid", "c-1/../x", "callid", callErr},
		{"receive-call.form", "direction", "sideways", "direction", callErr},
		{"receive-call.form", "to", "peer", "to", callErr},
		{"ivr-result.form", "result", "12<script>", "result", resultErr},
		{"ivr-result.form", "callid", strings.Repeat("a", 65), "callid", resultErr},
		{"whenhangup.form", "id", "", "id", hangupErr},
	}
	for _, c := range cases {
		v := form(t, c.name)
		v.Set(c.field, c.value)
		err := c.parse(v)
		var fe *FieldError
		if !errors.Is(err, ErrInvalid) || !errors.As(err, &fe) || fe.Field != c.want {
			t.Errorf("%s with %s=%q: %v", c.name, c.field, c.value, err)
		}
	}
}

func callErr(v url.Values) error   { _, err := ParseCall(v); return err }
func resultErr(v url.Values) error { _, err := ParseResult(v); return err }
func hangupErr(v url.Values) error { _, err := ParseHangup(v); return err }

// FuzzParse: whatever a request carries, the parsers return a value or an
// error wrapping ErrInvalid, and never panic.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"receive-call.form", "outgoing-answered.form", "ivr-result.form", "connect-result.form", "whenhangup.form"} {
		b, _ := os.ReadFile(filepath.Join("testdata", name))
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, body string) {
		v, err := url.ParseQuery(body)
		if err != nil || len(body) > maxForm {
			return
		}
		for _, parse := range []func(url.Values) error{callErr, resultErr, hangupErr} {
			if err := parse(v); err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("an error that is not ErrInvalid: %v", err)
			}
		}
		if c, err := ParseCall(v); err == nil && (c.From != "" && !numberPattern.MatchString(c.From)) {
			t.Fatalf("a caller that is no number: %q", c.From)
		}
	})
}
