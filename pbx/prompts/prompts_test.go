package prompts_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/media/mediatest"
	"github.com/peerline/peerline/pbx/prompts"
)

func TestEmbeddedPromptsAreSpeech(t *testing.T) {
	set, err := prompts.Load("")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"closed-hours", "closed-today", "closed-holiday", "no-agents", "greeting"} {
		p, ok := set[name]
		if !ok {
			t.Errorf("missing %s", name)
			continue
		}
		if d := p.Duration(); d < 2 || d > 15 {
			t.Errorf("%s lasts %.1fs", name, d)
		}
		var energy float64
		for _, s := range p.Samples {
			energy += float64(s) * float64(s)
		}
		if energy/float64(len(p.Samples)) < 1e4 {
			t.Errorf("%s is nearly silent", name)
		}
	}
}

func TestOverrideFolder(t *testing.T) {
	dir := t.TempDir()
	src, _ := os.ReadFile("no-agents.wav")
	os.WriteFile(filepath.Join(dir, "greeting.wav"), src, 0o600)
	set, err := prompts.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(set["greeting"].Samples) != len(set["no-agents"].Samples) {
		t.Error("the folder's greeting did not replace the embedded one")
	}
	if !set.Own("greeting") || set.Own("no-agents") || set.Own("nonesuch") {
		t.Error("Own does not tell the folder's recordings from the default voice")
	}
	os.WriteFile(filepath.Join(dir, "broken.wav"), []byte("RIFF....WAVEjunk"), 0o600)
	if _, err := prompts.Load(dir); !errors.Is(err, media.ErrWAV) {
		t.Errorf("broken file: %v", err)
	}
	if _, err := prompts.Load(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing folder accepted")
	}
}

// TestEmbeddedPromptsCoverTheFlows checks that every prompt the flows say is
// there, numbers and dates included, and none is silent.
func TestEmbeddedPromptsCoverTheFlows(t *testing.T) {
	set, err := prompts.Load("")
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"agent-number", "agent-pin", "agent-wrong", "agent-too-many", "agent-menu", "callback-calling", "callback-none", "callback-no-answer",
		"agent-invalid", "agent-logged-in", "agent-logged-out", "agent-opens", "agent-sick", "agent-sick-covered",
		"agent-sick-uncovered", "agent-not-expected", "agent-cover", "agent-cover-none", "status-open",
		"status-closed", "status-agents", "status-queue", "goodbye", "today", "tomorrow", "at",
		"queue-hold", "queue-first", "queue-place", "queue-in-line", "queue-many", "queue-timeout", "queue-music",
		"call-warning", "one-minute-left", "minutes-left", "call-limit", "wrapup-intro", "wrapup-call-type",
		"wrapup-referred", "wrapup-office-contact", "wrapup-done",
		"closed-thanks", "closed-here", "closed-welcome", "closed-holiday-today", "days-weekdays", "days-all", "between", "and", "to"}
	for n := range 60 {
		names = append(names, fmt.Sprintf("number-%d", n))
	}
	for d := 1; d <= 31; d++ {
		names = append(names, fmt.Sprintf("date-%d", d))
	}
	for m := 1; m <= 12; m++ {
		names = append(names, fmt.Sprintf("month-%d", m))
	}
	for w := 1; w <= 7; w++ {
		names = append(names, fmt.Sprintf("weekday-%d", w), fmt.Sprintf("weekdays-%d", w))
	}
	for _, name := range names {
		p, ok := set[name]
		switch {
		case !ok:
			t.Errorf("missing %s", name)
		case p.Duration() < 0.2:
			t.Errorf("%s lasts only %.2fs", name, p.Duration())
		}
	}
}

// TestCheckNamesEveryBadFile: config check hears of a typo in a prompt's name,
// a recording in the wrong format and a folder that is not there, all at once.
func TestCheckNamesEveryBadFile(t *testing.T) {
	dir := t.TempDir()
	good := mediatest.ToneWAV(440, 100*time.Millisecond)
	wide := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(wide[24:], 16000) // the fmt chunk's sample rate
	for name, b := range map[string][]byte{"greeting.wav": good, "greting.wav": good, "no-agents.wav": wide} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := config.Default()
	second := cfg.Lines[0]
	second.ID, second.Numbers, second.Prompts = "other", []string{"other"}, filepath.Join(dir, "missing")
	cfg.Lines[0].Prompts = dir
	cfg.Lines = append(cfg.Lines, second)
	es := prompts.Check(cfg)
	all := es.Error()
	for _, want := range []string{`no prompt is called "greting"`, "no-agents.wav", "16000 Hz", "lines[1].prompts"} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q in:\n%s", want, all)
		}
	}
	if len(es) != 3 || strings.Contains(all, "greeting.wav") {
		t.Errorf("want three errors, none for greeting.wav:\n%s", all)
	}
}

// TestCheckReferralPrompts: a referral's prompt is the office's recording (in
// the folder, by that name) or an embedded one; anything else is named.
func TestCheckReferralPrompts(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ref-sjalvmord.wav"), mediatest.ToneWAV(440, 100*time.Millisecond), 0o600)
	cfg := config.Default()
	cfg.Lines[0].Prompts = dir
	cfg.Lines[0].Referrals = []config.Referral{
		{Key: "*1", Name: "Självmordslinjen", Number: "90101", Prompt: "ref-sjalvmord"},
		{Key: "*3", Name: "112", Mode: "tell", Prompt: "referral-112"},
		{Key: "*4", Name: "1177", Number: "1177", Prompt: "ref-1177"},
	}
	es := prompts.Check(cfg)
	if len(es) != 1 || es[0].Path != "lines[0].referrals[2].prompt" || !strings.Contains(es[0].Msg, "ref-1177") {
		t.Errorf("errors: %v", es)
	}
}
