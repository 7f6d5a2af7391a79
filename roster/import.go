package roster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"

	"github.com/peerline/peerline/config"
	"go.yaml.in/yaml/v3"
)

// ImportFile is the YAML file of `peerline agent import`: agents, and each line's
// weekly schedule (which replaces the stored one).
type ImportFile struct {
	Agents   []ImportAgent            `yaml:"agents"`
	Schedule map[string][]ImportShift `yaml:"schedule"`
}

// ImportAgent is an agent in an import file; active defaults to true.
type ImportAgent struct {
	ID     string   `yaml:"id"`
	Name   string   `yaml:"name"`
	Phone  string   `yaml:"phone"`
	SIPURI string   `yaml:"sip_uri"`
	Lines  []string `yaml:"lines"`
	Active *bool    `yaml:"active"`
	Email  string   `yaml:"email"`
	Notify []string `yaml:"notify"`
}

// ImportShift is a schedule entry in an import file.
type ImportShift struct {
	Agent string           `yaml:"agent"`
	Days  []config.Weekday `yaml:"days"`
	From  *config.Date     `yaml:"from"`
	To    *config.Date     `yaml:"to"`
}

// ParseImport reads an import file; unknown keys are errors.
func ParseImport(b []byte) (ImportFile, error) {
	var f ImportFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return ImportFile{}, fmt.Errorf("roster file: %w", err)
	}
	return f, nil
}

// Import adds or updates the file's agents, then replaces the schedules it names.
// It stops at the first error, which names the agent or line.
func (s *Store) Import(ctx context.Context, f ImportFile) (added, updated int, err error) {
	for i, ia := range f.Agents {
		a := Agent{ID: ia.ID, Name: ia.Name, Phone: ia.Phone, SIPURI: ia.SIPURI, Lines: ia.Lines,
			Active: ia.Active == nil || *ia.Active, Email: ia.Email, Notify: ia.Notify}
		_, err := s.Agent(a.ID)
		switch {
		case errors.Is(err, ErrNotFound):
			_, err = s.AddAgent(ctx, a)
			added++
		case err == nil:
			_, err = s.UpdateAgent(ctx, a)
			updated++
		}
		if err != nil {
			return added, updated, fmt.Errorf("agents[%d] (%s): %w", i, ia.ID, err)
		}
	}
	lines := make([]string, 0, len(f.Schedule))
	for l := range f.Schedule {
		lines = append(lines, l)
	}
	sort.Strings(lines)
	for _, l := range lines {
		if !slices.Contains(s.lines, l) {
			return added, updated, fmt.Errorf("schedule.%s: not a line", l)
		}
		shifts := make([]Shift, len(f.Schedule[l]))
		for i, is := range f.Schedule[l] {
			shifts[i] = Shift(is)
		}
		if err := s.SetSchedule(ctx, l, shifts); err != nil {
			return added, updated, fmt.Errorf("schedule.%s: %w", l, err)
		}
	}
	return added, updated, nil
}
