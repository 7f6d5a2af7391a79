package secret_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/peerline/peerline/internal/secret"
)

func TestHashVerify(t *testing.T) {
	h := secret.Hash("862491")
	if !strings.HasPrefix(h, "$argon2id$v=19$") || strings.Contains(h, "862491") {
		t.Fatalf("hash = %s", h)
	}
	if err := secret.Verify(h, "862491"); err != nil {
		t.Fatal(err)
	}
	if err := secret.Verify(h, "862492"); !errors.Is(err, secret.ErrMismatch) {
		t.Fatalf("wrong PIN: %v", err)
	}
	if h == secret.Hash("862491") {
		t.Error("same hash twice: salt missing")
	}
	for _, bad := range []string{"", "$argon2id$v=19$m=1,t=0,p=1$AA$AA", "$bcrypt$x$y$z$w", "$argon2id$v=19$m=x$AA$AA"} {
		if err := secret.Verify(bad, "1"); err == nil || errors.Is(err, secret.ErrMismatch) {
			t.Errorf("Verify(%q) = %v, want a damaged-hash error", bad, err)
		}
	}
}

func TestToken(t *testing.T) {
	a, b := secret.Token("pl_"), secret.Token("pl_")
	if a == b || !strings.HasPrefix(a, "pl_") || len(a) < 40 {
		t.Fatalf("tokens %q %q", a, b)
	}
	if secret.TokenHash(a) == secret.TokenHash(b) || len(secret.TokenHash(a)) != 64 {
		t.Fatal("token hashes")
	}
}

// BenchmarkVerify is what each PIN or password check costs (argon2id, on purpose).
func BenchmarkVerify(b *testing.B) {
	h := secret.Hash("275931")
	b.ReportAllocs()
	for b.Loop() {
		secret.Verify(h, "275931")
	}
}
