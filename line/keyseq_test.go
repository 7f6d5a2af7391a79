package line

import (
	"slices"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
)

// TestKeySequences: a bridged call's agent keys become tokens only as whole
// sequences typed within keySequenceGap of each other, each used once.
func TestKeySequences(t *testing.T) {
	seqs := agentSequences(config.Line{
		Keys:      config.Keys{EndCall: "**", Safety: "*9"},
		Referrals: []config.Referral{{Key: "*1"}, {Key: "*#"}},
	})
	t0 := time.Date(2026, 5, 19, 13, 0, 0, 0, time.UTC)
	type press struct {
		k     byte
		after time.Duration // since the key before
		want  []string
	}
	for name, presses := range map[string][]press{
		"end":               {{'*', 0, nil}, {'*', time.Second, []string{EndedEndKey}}},
		"too slow":          {{'*', 0, nil}, {'*', keySequenceGap + time.Millisecond, nil}},
		"safety":            {{'5', 0, nil}, {'*', 0, nil}, {'9', 0, []string{EndedSafety}}},
		"used once":         {{'*', 0, nil}, {'1', 0, []string{refToken + "0"}}, {'*', 0, nil}, {'*', 0, []string{EndedEndKey}}},
		"# leaves":          {{'#', 0, []string{leaveToken}}},
		"# ends a referral": {{'*', 0, nil}, {'#', 0, []string{leaveToken, refToken + "1"}}},
		"a lone *":          {{'*', 0, nil}, {'5', 0, nil}, {'*', 0, nil}},
	} {
		ks, now := keySequences{seqs: seqs}, t0
		for i, p := range presses {
			now = now.Add(p.after)
			if got := ks.press(p.k, now); !slices.Equal(got, p.want) {
				t.Errorf("%s: key %d (%c): %q, want %q", name, i, p.k, got, p.want)
			}
		}
	}
}
