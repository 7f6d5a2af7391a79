package roster

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/audit"
	"github.com/peerline/peerline/internal/input"
	"github.com/peerline/peerline/internal/storage"
	bolt "go.etcd.io/bbolt"
)

const (
	bucketSchedule   = "roster.schedule"   // line id -> []Shift
	bucketExceptions = "roster.exceptions" // line/date/agent -> Exception
)

// Shift is one agent's place in a line's weekly schedule, optionally for a date range.
type Shift struct {
	Agent string           `json:"agent"`
	Days  []config.Weekday `json:"days"`
	From  *config.Date     `json:"from,omitempty"`
	To    *config.Date     `json:"to,omitempty"`
}

// on reports whether the shift falls on d.
func (sh Shift) on(d config.Date) bool {
	if sh.From != nil && before(d, *sh.From) || sh.To != nil && before(*sh.To, d) {
		return false
	}
	return slices.Contains(sh.Days, config.Weekday(d.Weekday()))
}

func before(a, b config.Date) bool { return a.String() < b.String() }

// Kind is the kind of a dated exception.
type Kind string

const (
	Sick  Kind = "sick"  // an expected agent will not come
	Cover Kind = "cover" // an agent takes a day that needs cover
	Extra Kind = "extra" // an agent works a day outside their pattern
)

// Exception is a dated change to the schedule.
type Exception struct {
	Line  string      `json:"line"`
	Agent string      `json:"agent"`
	Date  config.Date `json:"date"`
	Kind  Kind        `json:"kind"`
	By    string      `json:"by"`
	At    time.Time   `json:"at"`
}

// Day is who works a line on a date. Expected = scheduled - sick + cover + extra.
type Day struct {
	Date      config.Date `json:"date"`
	Scheduled []string    `json:"scheduled"`
	Sick      []string    `json:"sick"`
	Cover     []string    `json:"cover"`
	Extra     []string    `json:"extra"`
	Expected  []string    `json:"expected"`
}

// Schedule returns a line's shifts.
func (s *Store) Schedule(line string) ([]Shift, error) {
	var out []Shift
	err := s.db.View(func(tx *bolt.Tx) (err error) { out, err = schedule(tx, line); return err })
	return out, err
}

// SetSchedule replaces a line's shifts (agent import; the line's own
// EditSchedule also re-checks today's cover). Errors name the shift: shifts[2].days.
func (s *Store) SetSchedule(ctx context.Context, line string, shifts []Shift) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := setSchedule(tx, line, shifts); err != nil {
			return err
		}
		return audit.Record(ctx, tx, s.clock.Now(), "schedule.set", "line/"+line, map[string]any{"shifts": len(shifts)})
	})
}

// setSchedule checks and stores shifts; see Tx.SetSchedule.
func setSchedule(tx *bolt.Tx, line string, shifts []Shift) error {
	for i, sh := range shifts {
		p := fmt.Sprintf("shifts[%d]", i)
		a, ok, err := agent(tx, sh.Agent)
		switch {
		case err != nil:
			return err
		case !ok:
			return input.Errorf(p+".agent", "%q is not an agent", sh.Agent)
		case !slices.Contains(a.Lines, line):
			return input.Errorf(p+".agent", "%s does not serve line %s", a.Name, line)
		case len(sh.Days) == 0:
			return input.Errorf(p+".days", "name at least one day")
		case sh.From != nil && sh.To != nil && before(*sh.To, *sh.From):
			return input.Errorf(p+".to", "%s is before from (%s)", sh.To, sh.From)
		}
	}
	if shifts == nil {
		shifts = []Shift{}
	}
	return storage.Put(tx.Bucket([]byte(bucketSchedule)), []byte(line), shifts)
}

// hasSchedule: see Tx.HasSchedule.
func hasSchedule(tx *bolt.Tx, line string) (bool, error) {
	shifts, err := schedule(tx, line)
	return len(shifts) > 0, err
}

func schedule(tx *bolt.Tx, line string) ([]Shift, error) {
	out := []Shift{}
	_, err := storage.Get(tx.Bucket([]byte(bucketSchedule)), []byte(line), &out)
	return out, err
}

func dropFromSchedules(tx *bolt.Tx, agentID string) error {
	b := tx.Bucket([]byte(bucketSchedule))
	return b.ForEach(func(k, v []byte) error {
		var shifts []Shift
		if err := storage.Decode(v, &shifts); err != nil {
			return err
		}
		kept := slices.DeleteFunc(shifts, func(sh Shift) bool { return sh.Agent == agentID })
		return storage.Put(b, k, kept)
	})
}

func agent(tx *bolt.Tx, id string) (Agent, bool, error) {
	var a Agent
	ok, err := storage.Get(tx.Bucket([]byte(bucketAgents)), []byte(id), &a)
	return a, ok, err
}

func exceptionKey(line string, d config.Date, agent string) []byte {
	return []byte(line + "/" + d.String() + "/" + agent)
}

// dayOf: see Tx.Day.
func dayOf(tx *bolt.Tx, line string, d config.Date) (Day, error) {
	day := Day{Date: d, Scheduled: []string{}, Sick: []string{}, Cover: []string{}, Extra: []string{}, Expected: []string{}}
	shifts, err := schedule(tx, line)
	if err != nil {
		return day, err
	}
	for _, sh := range shifts {
		if a, ok, _ := agent(tx, sh.Agent); ok && a.Serves(line) && sh.on(d) && !slices.Contains(day.Scheduled, a.ID) {
			day.Scheduled = append(day.Scheduled, a.ID)
		}
	}
	excs, err := exceptionsOn(tx, line, d)
	if err != nil {
		return day, err
	}
	for _, e := range excs {
		switch e.Kind {
		case Sick:
			day.Sick = append(day.Sick, e.Agent)
		case Cover:
			day.Cover = append(day.Cover, e.Agent)
		case Extra:
			day.Extra = append(day.Extra, e.Agent)
		}
	}
	for _, id := range slices.Concat(day.Scheduled, day.Cover, day.Extra) {
		if !slices.Contains(day.Sick, id) && !slices.Contains(day.Expected, id) {
			day.Expected = append(day.Expected, id)
		}
	}
	return day, nil
}

func exceptionsOn(tx *bolt.Tx, line string, d config.Date) ([]Exception, error) {
	var out []Exception
	prefix := exceptionKey(line, d, "")
	c := tx.Bucket([]byte(bucketExceptions)).Cursor()
	for k, v := c.Seek(prefix); k != nil && string(k[:min(len(k), len(prefix))]) == string(prefix); k, v = c.Next() {
		var e Exception
		if err := storage.Decode(v, &e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// putException: see Tx.PutException.
func putException(tx *bolt.Tx, e Exception) error {
	a, ok, err := agent(tx, e.Agent)
	switch {
	case err != nil:
		return err
	case !ok:
		return input.Errorf("agent", "%q is not an agent", e.Agent)
	case !a.Serves(e.Line):
		return input.Errorf("agent", "%s does not serve line %s or is paused", a.Name, e.Line)
	}
	day, err := dayOf(tx, e.Line, e.Date)
	if err != nil {
		return err
	}
	expected := slices.Contains(day.Expected, e.Agent)
	switch {
	case e.Kind == Sick && !expected:
		return input.Errorf("date", "%s is not expected on %s", a.Name, e.Date)
	case e.Kind != Sick && expected:
		return input.Errorf("date", "%s is already expected on %s", a.Name, e.Date)
	case e.Kind != Sick && slices.Contains(day.Sick, e.Agent):
		return input.Errorf("date", "%s is reported sick on %s; remove that first", a.Name, e.Date)
	}
	return storage.Put(tx.Bucket([]byte(bucketExceptions)), exceptionKey(e.Line, e.Date, e.Agent), e)
}

// deleteException: see Tx.DeleteException.
func deleteException(tx *bolt.Tx, line string, d config.Date, agentID string, kind Kind) error {
	b := tx.Bucket([]byte(bucketExceptions))
	var e Exception
	ok, err := storage.Get(b, exceptionKey(line, d, agentID), &e)
	if err != nil {
		return err
	}
	if !ok || e.Kind != kind {
		return fmt.Errorf("%s for %s on %s: %w", kind, agentID, d, ErrNotFound)
	}
	return b.Delete(exceptionKey(line, d, agentID))
}

// freeOn: see Tx.FreeOn.
func freeOn(tx *bolt.Tx, line string, day Day) ([]Agent, error) {
	all, err := agents(tx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(a Agent) bool {
		return !a.Serves(line) || slices.Contains(day.Expected, a.ID) || slices.Contains(day.Sick, a.ID)
	}), nil
}

// View runs f in a read transaction on the roster's database.
func (s *Store) View(f func(tx *bolt.Tx) error) error { return s.db.View(f) }

// agentByID: see Tx.Agent.
func agentByID(tx *bolt.Tx, id string) (Agent, error) {
	a, ok, err := agent(tx, id)
	if err == nil && !ok {
		err = fmt.Errorf("agent %q: %w", id, ErrNotFound)
	}
	return a, err
}
