package notify_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peerline/peerline/notify"
)

// TestAnOfficesOwnTemplates: a file by a template's name replaces it; one by
// another name, or without both parts, is refused at load (config check); one
// that fails when used falls back to the embedded text.
func TestAnOfficesOwnTemplates(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "call.flagged.agent.tmpl"), []byte(`{{define "subject"}}Vi hör av oss{{end}}{{define "text"}}Hej {{.Name}}, vi ringer dig.{{end}}`), 0o600)
	os.WriteFile(filepath.Join(dir, "agent.locked.agent.tmpl"), []byte(`{{define "subject"}}x{{end}}{{define "text"}}{{.Nonsense}}{{end}}`), 0o600)
	texts, err := notify.LoadTexts(dir)
	if err != nil {
		t.Fatal(err)
	}
	v := struct{ Name, Line string }{"Klara", "Linjen"}
	if s, b, err := texts.Render("call.flagged.agent", notify.SMS, v); err != nil || s != "Vi hör av oss" || b != "Hej Klara, vi ringer dig." {
		t.Errorf("the office's own: %q %q %v", s, b, err)
	}
	if _, b, err := texts.Render("agent.locked.agent", notify.SMS, struct {
		Name, Line string
		Data       struct{ Held bool }
	}{Name: "Klara", Line: "Linjen"}); err != nil || !strings.Contains(b, "Din PIN-kod till Linjen är spärrad") {
		t.Errorf("a failing template's fallback: %q %v", b, err)
	}
	for name, text := range map[string]string{
		"no.such.name.tmpl":       `{{define "subject"}}x{{end}}{{define "text"}}y{{end}}`,
		"cover.taken.office.tmpl": `{{define "text"}}no subject{{end}}`,
	} {
		bad := t.TempDir()
		os.WriteFile(filepath.Join(bad, name), []byte(text), 0o600)
		if _, err := notify.LoadTexts(bad); err == nil {
			t.Errorf("%s was taken", name)
		}
	}
}
