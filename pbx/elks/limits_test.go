package elks

import (
	"strings"
	"testing"

	"github.com/peerline/peerline/config"
)

func TestLimitsNameWhatTheDefaultLineLoses(t *testing.T) {
	cfg := config.Default()
	if en, sv := Limits(cfg); en != nil || sv != nil {
		t.Fatalf("limits without 46elks: %v %v", en, sv)
	}
	cfg.PBX.Elks = &config.PBXElks{Secret: strings.Repeat("s", 24)}
	en, sv := Limits(cfg)
	all := strings.Join(en, "\n")
	for _, want := range []string{"no time warnings", "calls.limit is not enforced", "the end key and the safety key", "the office fills it in on Samtal", "agent key"} {
		if !strings.Contains(all, want) {
			t.Errorf("no note on %q:\n%s", want, all)
		}
	}
	if len(sv["peer"]) != len(en) {
		t.Errorf("Swedish %v for English %v", sv, en)
	}
}
