package roster

import (
	"github.com/peerline/peerline/config"
	bolt "go.etcd.io/bbolt"
)

// Tx is the roster inside a transaction of the database it shares with the
// line: what the line reads and changes in the same commit as its own buckets
// (a sick report and the closure it causes, a cover and the event it sends).
// It is the roster's one door for work inside another package's transaction.
type Tx struct{ tx *bolt.Tx }

// In is the roster inside tx; a read-only tx allows only the reading methods.
func In(tx *bolt.Tx) Tx { return Tx{tx} }

// Agent returns the agent; ErrNotFound if there is none.
func (t Tx) Agent(id string) (Agent, error) { return agentByID(t.tx, id) }

// Day computes who works line on d.
func (t Tx) Day(line string, d config.Date) (Day, error) { return dayOf(t.tx, line, d) }

// HasSchedule reports whether line has any shifts at all.
func (t Tx) HasSchedule(line string) (bool, error) { return hasSchedule(t.tx, line) }

// Schedule returns a line's shifts.
func (t Tx) Schedule(line string) ([]Shift, error) { return schedule(t.tx, line) }

// SetSchedule checks and replaces a line's shifts; errors name the shift
// (shifts[2].days). The caller audits.
func (t Tx) SetSchedule(line string, shifts []Shift) error { return setSchedule(t.tx, line, shifts) }

// FreeOn lists the active agents of line who are neither expected nor sick on
// day: the colleagues to ask when the day is uncovered.
func (t Tx) FreeOn(line string, day Day) ([]Agent, error) { return freeOn(t.tx, line, day) }

// PutException records e after checking that it makes sense: the agent serves
// the line, a sick agent was expected that day, a covering agent was not. An
// agent has at most one exception a day, so sick replaces a cover.
func (t Tx) PutException(e Exception) error { return putException(t.tx, e) }

// DeleteException removes an agent's exception of kind on a date.
func (t Tx) DeleteException(line string, d config.Date, agentID string, kind Kind) error {
	return deleteException(t.tx, line, d, agentID, kind)
}
