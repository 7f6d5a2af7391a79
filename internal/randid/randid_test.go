package randid_test

import (
	"regexp"
	"testing"

	"github.com/peerline/peerline/internal/logging"
	"github.com/peerline/peerline/internal/randid"
)

// The log prints every id whole, and ids keep their shape: hex or base32 of
// the bytes asked for, each one new.
func TestIDsPassTheLogsMaskWhole(t *testing.T) {
	shapes := []struct {
		name string
		make func() string
		re   *regexp.Regexp
	}{
		{"hex 16", func() string { return randid.Hex(16) }, regexp.MustCompile(`^[0-9a-f]{32}$`)},
		{"hex 8", func() string { return randid.Hex(8) }, regexp.MustCompile(`^[0-9a-f]{16}$`)},
		{"base32 10", func() string { return randid.Base32(10) }, regexp.MustCompile(`^[A-Z2-7]{16}$`)},
	}
	for _, s := range shapes {
		seen := map[string]bool{}
		for range 5000 { // a third of random 32-digit hex ids held a masked run
			id := s.make()
			if !s.re.MatchString(id) || seen[id] {
				t.Fatalf("%s: %q (seen before: %v)", s.name, id, seen[id])
			}
			seen[id] = true
			if masked := logging.MaskText("id=" + id); masked != "id="+id {
				t.Fatalf("%s: the log shows %q as %q", s.name, id, masked)
			}
		}
	}
}
