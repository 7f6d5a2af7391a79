package roster_test

import (
	"os"
	"strings"
	"testing"

	"github.com/peerline/peerline/roster"
)

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"070-123 45 67", "+46 (0)70 123 45 67", "0046701234567", "+", "00", "(0)", "0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := roster.NormalizePhone(s)
		if err != nil {
			return
		}
		if !strings.HasPrefix(n, "+") || len(n) < 9 || len(n) > 16 || strings.Trim(n[1:], "0123456789") != "" {
			t.Fatalf("%q -> %q is not E.164", s, n)
		}
		if again, err := roster.NormalizePhone(n); err != nil || again != n {
			t.Fatalf("not idempotent: %q -> %q -> %q %v", s, n, again, err)
		}
	})
}

func FuzzParseImport(f *testing.F) {
	b, err := os.ReadFile("../deploy/examples/roster.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("agents: [{id: a, active: maybe}]"))
	f.Add([]byte("schedule: {peer: [{agent: a, days: [funday]}]}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		roster.ParseImport(b) // must not panic; errors are fine
	})
}
