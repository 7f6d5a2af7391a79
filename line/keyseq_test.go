package line

import (
	"slices"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
)

// TestKeySequences: a bridged call's agent keys make the line's sequences
// only when typed whole within keySequenceGap of each other, each used once;
// # is leave at once as well.
func TestKeySequences(t *testing.T) {
	seqs := agentSequences(config.Line{
		Keys:      config.Keys{EndCall: "**", Safety: "*9"},
		Referrals: []config.Referral{{Key: "*1", Name: "A"}, {Key: "*#", Name: "B"}},
	})
	// What a sequence does, as the test reads it.
	does := func(seqs []keySeq) []string {
		var out []string
		for _, s := range seqs {
			switch {
			case s == leave:
				out = append(out, "leave")
			case s.referral != nil:
				out = append(out, "refer "+s.referral.Name)
			default:
				out = append(out, s.ended)
			}
		}
		return out
	}
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
		"used once":         {{'*', 0, nil}, {'1', 0, []string{"refer A"}}, {'*', 0, nil}, {'*', 0, []string{EndedEndKey}}},
		"# leaves":          {{'#', 0, []string{"leave"}}},
		"# ends a referral": {{'*', 0, nil}, {'#', 0, []string{"leave", "refer B"}}},
		"a lone *":          {{'*', 0, nil}, {'5', 0, nil}, {'*', 0, nil}},
	} {
		ks, now := keySequences{seqs: seqs}, t0
		for i, p := range presses {
			now = now.Add(p.after)
			if got := does(ks.press(p.k, now)); !slices.Equal(got, p.want) {
				t.Errorf("%s: key %d (%c): %q, want %q", name, i, p.k, got, p.want)
			}
		}
	}
}
