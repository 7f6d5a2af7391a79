package line_test

import (
	"errors"
	"testing"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/input"
	"github.com/peerline/peerline/line"
)

// TestIncidents: a call cut with the safety key and one whose wrap-up asks
// the office to make contact become incidents; an ordinary call does not. The
// office moves one on with a note that may hold no number.
func TestIncidents(t *testing.T) {
	w := newWorld(t, "2026-05-19 13:00:00", config.Default().Lines)
	start := at("2026-05-19 13:05:00")
	for _, r := range []line.Record{
		{ID: "c1", Line: "peer", Agent: "klara", Start: start, Outcome: line.OutcomeAnswered, Flagged: true},
		{ID: "c2", Line: "peer", Agent: "jim", Start: start.Add(10 * 60e9), Outcome: line.OutcomeAnswered,
			Wrapup: &line.Wrapup{Answers: map[string]string{"office_contact": "ja"}, Filled: true}},
		{ID: "c3", Line: "peer", Agent: "jim", Start: start.Add(20 * 60e9), Outcome: line.OutcomeAnswered,
			Wrapup: &line.Wrapup{Answers: map[string]string{"office_contact": "nej"}, Filled: true}},
	} {
		if err := w.lines.Finish(r); err != nil {
			t.Fatal(err)
		}
	}
	all, err := w.lines.Incidents("peer", "")
	if err != nil || len(all) != 2 || all[0].ID != "c2" || all[0].Reason != "wrapup" || all[1].Reason != "safety" || all[1].State != line.IncidentNew {
		t.Fatalf("incidents: %+v %v", all, err)
	}
	var ie *input.Error
	if _, err := w.lines.UpdateIncident(office, "c1", line.IncidentContacted, "Ring 070-123 45 67 i morgon"); !errors.As(err, &ie) || ie.Field != "note" {
		t.Errorf("a note with a number: %v", err)
	}
	in, err := w.lines.UpdateIncident(office, "c1", line.IncidentContacted, "Pratade med Klara, mår bättre")
	if err != nil || in.State != line.IncidentContacted || in.Handler != "kansliet" || in.Note == "" || in.Changed == nil {
		t.Errorf("contacted: %+v %v", in, err)
	}
	if _, err := w.lines.UpdateIncident(office, "nope", line.IncidentClosed, ""); !errors.Is(err, line.ErrNoIncident) {
		t.Errorf("an unknown incident: %v", err)
	}
	if open, _ := w.lines.Incidents("peer", line.IncidentNew); len(open) != 1 || open[0].ID != "c2" {
		t.Errorf("new ones: %+v", open)
	}
}
