package line

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/peerline/peerline/internal/audit"
	"github.com/peerline/peerline/internal/input"
	"github.com/peerline/peerline/internal/storage"
	bolt "go.etcd.io/bbolt"
)

// An Incident is a call the office has to follow up: cut with the safety key,
// or ended with a wrap-up answer that asks the office to make contact. The
// office moves it from new to contacted to closed, with who did it, when and
// a short note that may hold no phone number.
type Incident struct {
	ID      string     `json:"id"` // the call record's
	Line    string     `json:"line"`
	Agent   string     `json:"agent"`
	Start   time.Time  `json:"start"`  // the call's
	Reason  string     `json:"reason"` // safety or wrapup
	State   string     `json:"state"`  // ny, kontaktad, avslutad
	Handler string     `json:"handler,omitempty"`
	Changed *time.Time `json:"changed,omitempty"`
	Note    string     `json:"note,omitempty"`
}

// Incident states, in order.
const (
	IncidentNew       = "ny"
	IncidentContacted = "kontaktad"
	IncidentClosed    = "avslutad"
)

var incidentStates = []string{IncidentNew, IncidentContacted, IncidentClosed}

const bucketIncidents = "line.incidents" // call id -> Incident

// ErrNoIncident means no incident has the id.
var ErrNoIncident = errors.New("no such incident")

// openIncidentTx opens an incident for rec if it needs one, in the
// transaction that writes the record.
func openIncidentTx(tx *bolt.Tx, l *Line, rec *Record) error {
	reason := ""
	switch {
	case rec.Flagged:
		reason = "safety"
	case rec.Wrapup != nil:
		for _, q := range l.Config.Wrapup.Questions {
			if q.Incident != "" && rec.Wrapup.Answers[q.ID] == q.Incident {
				reason = "wrapup"
			}
		}
	}
	if reason == "" {
		return nil
	}
	b := tx.Bucket([]byte(bucketIncidents))
	if b.Get([]byte(rec.ID)) != nil {
		return nil
	}
	return storage.Put(b, []byte(rec.ID), Incident{ID: rec.ID, Line: rec.Line, Agent: rec.Agent, Start: rec.Start,
		Reason: reason, State: IncidentNew})
}

// Incidents lists line's incidents (all lines for ""), those in state when it
// is given, newest first.
func (ls *Lines) Incidents(line, state string) ([]Incident, error) {
	out := []Incident{}
	err := ls.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketIncidents)).ForEach(func(_, v []byte) error {
			var in Incident
			if storage.Decode(v, &in) == nil && (line == "" || in.Line == line) && (state == "" || in.State == state) {
				out = append(out, in)
			}
			return nil
		})
	})
	slices.SortFunc(out, func(a, b Incident) int { return b.Start.Compare(a.Start) })
	return out, err
}

// phoneLike is a run of digits a phone number could be, spaces and dashes
// allowed between them.
var phoneLike = regexp.MustCompile(`\+?\d(?:[\s-]?\d){6,}`)

// UpdateIncident moves an incident to state (forward, or back one step to
// mend a mistake) with a note; the actor in ctx is its handler.
func (ls *Lines) UpdateIncident(ctx context.Context, id, state, note string) (Incident, error) {
	note = strings.TrimSpace(note)
	switch {
	case !slices.Contains(incidentStates, state):
		return Incident{}, input.Errorf("state", "%q: use ny, kontaktad or avslutad", state)
	case len([]rune(note)) > 500:
		return Incident{}, input.Errorf("note", "at most 500 characters")
	case phoneLike.MatchString(note):
		return Incident{}, input.Errorf("note", "a note may hold no phone number")
	}
	var in Incident
	err := ls.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketIncidents))
		ok, err := storage.Get(b, []byte(id), &in)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNoIncident
		}
		now := ls.clock.Now().UTC()
		from := in.State
		in.State, in.Handler, in.Changed = state, audit.ActorFrom(ctx).Name, &now
		if note != "" {
			in.Note = note
		}
		if err := storage.Put(b, []byte(id), in); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, "incident.update", "incident/"+id, map[string]any{"from": from, "to": state, "agent": in.Agent})
	})
	return in, err
}
