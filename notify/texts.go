package notify

import (
	"embed"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"text/template"
)

//go:embed texts/*.tmpl
var embedded embed.FS

// Texts are the message templates, by name ("day.uncovered.colleague"): each
// defines "subject" and "text" (the SMS, and the e-mail's body unless it also
// defines "email"). An office's folder may replace any of them by name.
type Texts struct {
	byName   map[string]*template.Template
	embedded map[string]*template.Template // the fallback when an office's fails
}

// LoadTexts reads the embedded templates and, from dir ("" for none), the
// office's own, which replace them by name.
func LoadTexts(dir string) (*Texts, error) {
	t := &Texts{byName: map[string]*template.Template{}}
	files, _ := embedded.ReadDir("texts")
	for _, f := range files {
		b, _ := embedded.ReadFile("texts/" + f.Name())
		if err := t.add(f.Name(), string(b)); err != nil {
			return nil, err
		}
	}
	t.embedded = maps.Clone(t.byName)
	if dir == "" {
		return t, nil
	}
	own, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("notify.templates: %w", err)
	}
	for _, f := range own {
		name := strings.TrimSuffix(f.Name(), ".tmpl")
		if _, ok := t.byName[name]; !ok || !strings.HasSuffix(f.Name(), ".tmpl") {
			return nil, fmt.Errorf("notify.templates: %s is not one of the templates' names", f.Name())
		}
		b, err := os.ReadFile(filepath.Join(dir, f.Name()))
		if err != nil {
			return nil, fmt.Errorf("notify.templates: %w", err)
		}
		if err := t.add(f.Name(), string(b)); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (t *Texts) add(file, text string) error {
	tmpl, err := template.New(file).Option("missingkey=error").Parse(text)
	if err != nil {
		return fmt.Errorf("notify template %s: %w", file, err)
	}
	if tmpl.Lookup("subject") == nil || tmpl.Lookup("text") == nil {
		return fmt.Errorf("notify template %s: define both \"subject\" and \"text\"", file)
	}
	t.byName[strings.TrimSuffix(file, ".tmpl")] = tmpl
	return nil
}

// Render is the subject and body of template name for channel. An office's
// template that fails (a field that does not exist) falls back to the
// embedded one: a wording mistake must not stop the change that caused the
// message, nor the message.
func (t *Texts) Render(name, channel string, v any) (subject, body string, err error) {
	subject, body, err = render(t.byName[name], channel, v)
	if err != nil && t.embedded[name] != nil && t.embedded[name] != t.byName[name] {
		return render(t.embedded[name], channel, v)
	}
	return subject, body, err
}

func render(tmpl *template.Template, channel string, v any) (subject, body string, err error) {
	if tmpl == nil {
		return "", "", errors.New("no such template")
	}
	var s, b strings.Builder
	if err := tmpl.ExecuteTemplate(&s, "subject", v); err != nil {
		return "", "", err
	}
	part := "text"
	if channel == Email && tmpl.Lookup("email") != nil {
		part = "email"
	}
	if err := tmpl.ExecuteTemplate(&b, part, v); err != nil {
		return "", "", err
	}
	return strings.TrimSpace(s.String()), strings.TrimSpace(b.String()), nil
}
