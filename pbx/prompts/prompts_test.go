package prompts_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/peerline/peerline/pbx/media"
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
	os.WriteFile(filepath.Join(dir, "broken.wav"), []byte("RIFF....WAVEjunk"), 0o600)
	if _, err := prompts.Load(dir); !errors.Is(err, media.ErrWAV) {
		t.Errorf("broken file: %v", err)
	}
	if _, err := prompts.Load(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing folder accepted")
	}
}
