package phone_test

import (
	"errors"
	"testing"

	"github.com/peerline/peerline/internal/phone"
)

func TestEveryFormReachesE164(t *testing.T) {
	se := phone.PlanFor("SE", phone.E164)
	for _, in := range []string{"+46812345678", "46812345678", "0046812345678", "0812345678", "08-123 456 78", "+46 (0)8 123 456 78"} {
		if got, err := se.Normalize(in); got != "+46812345678" || err != nil {
			t.Errorf("%q: %q, %v", in, got, err)
		}
	}
	no := phone.PlanFor("NO", phone.E164)
	if got, _ := no.Normalize("22123456"); got != "" {
		t.Errorf("a Norwegian number without 0 or code: %q", got)
	}
	if got, _ := no.Normalize("4722123456"); got != "+4722123456" {
		t.Errorf("Norway: %q", got)
	}
	for _, bad := range []string{"", "peer", "+46", "0", "+46abc12345", "4681", "12345678"} {
		if _, err := se.Normalize(bad); !errors.Is(err, phone.ErrBadNumber) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestDialForms(t *testing.T) {
	nat := phone.PlanFor("se", phone.National)
	if got := nat.Dial("+46701234567"); got != "0701234567" {
		t.Errorf("national: %q", got)
	}
	if got := nat.Dial("+4722123456"); got != "+4722123456" {
		t.Errorf("abroad stays E.164: %q", got)
	}
	if got := phone.PlanFor("SE", "").Dial("+46701234567"); got != "+46701234567" {
		t.Errorf("e164: %q", got)
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"+46812345678", "08-123 456 78", "0046", "46", "(0)"} {
		f.Add(s)
	}
	se := phone.PlanFor("SE", phone.E164)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := se.Normalize(s)
		if err != nil {
			return
		}
		if again, err := se.Normalize(got); err != nil || again != got {
			t.Fatalf("%q -> %q -> %q, %v", s, got, again, err)
		}
	})
}
