// Package line is what happens on a peer-support line: when it is open, who is on
// duty, and the call flows. This file holds the lines and the office's overrides.
package line

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/audit"
	"github.com/peerline/peerline/internal/clock"
	"github.com/peerline/peerline/internal/event"
	"github.com/peerline/peerline/internal/input"
	"github.com/peerline/peerline/internal/storage"
	"github.com/peerline/peerline/line/hours"
	bolt "go.etcd.io/bbolt"
)

// ErrUnknownLine is returned for a line id that is not configured.
var ErrUnknownLine = errors.New("unknown line")

const bucketOverrides = "line.overrides"

// maxOverride bounds how far ahead the office can open or close a line in one go.
const maxOverride = 366 * 24 * time.Hour

// Line is one configured line.
type Line struct {
	Config   config.Line
	Calendar *hours.Calendar

	seqs []keySeq // the agent's key sequences in a call, made once (agentSequences)
}

// Emitter puts events into the outbox inside a transaction (event.Emitter does).
type Emitter interface {
	Emit(tx *bolt.Tx, now time.Time, line string, d event.Data) error
}

// ringsAll reports whether the line rings every free agent at once (calls.strategy
// ring-all) rather than the longest idle first.
func (l *Line) ringsAll() bool { return l.Config.Calls.Strategy == "ring-all" }

// Lines is every configured line with its stored state.
type Lines struct {
	db     *bolt.DB
	clock  clock.Clock
	events Emitter                      // nil: no events
	agents Agents                       // nil: agents cannot use the line by phone
	reach  func(Target) error           // nil: every agent's phone can be called
	own    func(line, name string) bool // nil: no line has recordings of its own
	list   []*Line
	byID   map[string]*Line

	presence  presence
	queue     queue
	callbacks callbacks
}

// New builds the lines of cfg on db; events and agents may be nil.
func New(db *bolt.DB, c clock.Clock, cfg []config.Line, events Emitter, agents Agents) (*Lines, error) {
	if err := storage.Buckets(db, bucketOverrides, bucketClosures, bucketCalls, bucketOpenCalls, bucketMeta, bucketPresence, bucketIncidents); err != nil {
		return nil, err
	}
	ls := &Lines{db: db, clock: c, events: events, agents: agents, byID: map[string]*Line{}, queue: newQueue()}
	for _, lc := range cfg {
		loc, err := time.LoadLocation(lc.Timezone)
		if err != nil {
			return nil, fmt.Errorf("line %s: %w", lc.ID, err)
		}
		l := &Line{Config: lc, Calendar: hours.NewCalendar(lc.Hours, loc), seqs: agentSequences(lc)}
		ls.list = append(ls.list, l)
		ls.byID[lc.ID] = l
	}
	if err := ls.loadPresence(); err != nil {
		return nil, err
	}
	return ls, nil
}

// Get returns the line with the given id.
func (ls *Lines) Get(id string) (*Line, error) {
	l, ok := ls.byID[id]
	if !ok {
		return nil, fmt.Errorf("line %q: %w", id, ErrUnknownLine)
	}
	return l, nil
}

// IDs lists the line ids in config order.
func (ls *Lines) IDs() []string {
	ids := make([]string, len(ls.list))
	for i, l := range ls.list {
		ids[i] = l.Config.ID
	}
	return ids
}

// Status is the line's status now.
func (ls *Lines) Status(id string) (hours.Status, error) {
	l, err := ls.Get(id)
	if err != nil {
		return hours.Status{}, err
	}
	var st hours.Status
	err = ls.db.View(func(tx *bolt.Tx) (err error) {
		st, err = statusTx(tx, l, ls.clock.Now())
		return err
	})
	return st, err
}

func statusTx(tx *bolt.Tx, l *Line, now time.Time) (hours.Status, error) {
	ov, err := getOverride(tx, l.Config.ID)
	if err != nil {
		return hours.Status{}, err
	}
	noCover := tx.Bucket([]byte(bucketClosures)).Get(closureKey(l.Config.ID, l.Calendar.Date(now))) != nil
	return hours.Evaluate(l.Config.ID, now, l.Calendar, ov, noCover), nil
}

// change runs f in a write transaction and tells the office, in the same
// transaction, when f changed the line's status: one place for every cause
// (override, no-cover closure, cover found). Time passing is not a change here;
// the daily opening and closing are no news. A line closed this way winds down.
func (ls *Lines) change(l *Line, now time.Time, f func(tx *bolt.Tx) error) error {
	closed := false
	err := ls.db.Update(func(tx *bolt.Tx) error {
		before, err := statusTx(tx, l, now)
		if err != nil {
			return err
		}
		if err := f(tx); err != nil {
			return err
		}
		after, err := statusTx(tx, l, now)
		if err != nil {
			return err
		}
		closed = after.State == hours.Closed
		typ := transition(before, after)
		if typ == "" {
			return nil
		}
		return ls.emit(tx, now, l.Config.ID, event.LineChange{Closed: typ == event.LineClosed,
			Reason: string(after.Reason), Text: after.Text, NextOpen: after.NextOpen})
	})
	if err == nil && closed {
		err = ls.windDown(l)
	}
	return err
}

// transition names the event for a status change: line.closed when the line is
// closed by a decision (the office's or the no-cover rule) or was open before,
// line.opened when it opens or such a closure is lifted, "" for no news.
func transition(before, after hours.Status) string {
	decided := func(s hours.Status) bool { return s.Reason == hours.ReasonOffice || s.Reason == hours.ReasonNoCover }
	switch {
	case before.State == after.State && before.Reason == after.Reason,
		before.State == hours.Open && after.State == hours.Open:
		return ""
	case after.State == hours.Closed && (before.State == hours.Open || decided(after)):
		return event.LineClosed
	}
	return event.LineOpened
}

func (ls *Lines) emit(tx *bolt.Tx, now time.Time, line string, d event.Data) error {
	if ls.events == nil {
		return nil
	}
	return ls.events.Emit(tx, now, line, d)
}

// SetOverride opens or closes the line by the office's decision. A zero until means
// the end of the current local day.
func (ls *Lines) SetOverride(ctx context.Context, id string, state hours.State, reason string, until time.Time) (hours.Status, error) {
	l, err := ls.Get(id)
	if err != nil {
		return hours.Status{}, err
	}
	now := ls.clock.Now()
	if until.IsZero() {
		until = l.Calendar.Date(now).AddDays(1).In(l.Calendar.Location())
	}
	switch {
	case state == hours.Closed && reason == "":
		return hours.Status{}, input.Errorf("reason", "say why the line is closed; callers' records and the office see it")
	case len([]rune(reason)) > 200:
		return hours.Status{}, input.Errorf("reason", "at most 200 characters")
	case !until.After(now):
		return hours.Status{}, input.Errorf("until", "%s is not in the future", until.Format(time.RFC3339))
	case until.Sub(now) > maxOverride:
		return hours.Status{}, input.Errorf("until", "at most a year ahead")
	}
	if reason == "" {
		reason = hours.DefaultOpenReason
	}
	actor := audit.ActorFrom(ctx)
	ov := &hours.Override{State: state, Reason: reason, Until: until.UTC(), By: actor.Name, At: now.UTC()}
	err = ls.change(l, now, func(tx *bolt.Tx) error {
		if err := storage.Put(tx.Bucket([]byte(bucketOverrides)), []byte(id), ov); err != nil {
			return err
		}
		action := "line.open"
		if state == hours.Closed {
			action = "line.close"
		}
		return audit.Record(ctx, tx, now, action, "line/"+id, map[string]any{"reason": reason, "until": ov.Until})
	})
	if err != nil {
		return hours.Status{}, err
	}
	return ls.Status(id)
}

// ClearOverride hands the line back to its calendar.
func (ls *Lines) ClearOverride(ctx context.Context, id string) (hours.Status, error) {
	l, err := ls.Get(id)
	if err != nil {
		return hours.Status{}, err
	}
	now := ls.clock.Now()
	err = ls.change(l, now, func(tx *bolt.Tx) error {
		ov, err := getOverride(tx, id)
		if err != nil || ov == nil {
			return err
		}
		if err := tx.Bucket([]byte(bucketOverrides)).Delete([]byte(id)); err != nil {
			return err
		}
		if !ov.ActiveAt(now) {
			return nil // an expired override is tidied away without an entry
		}
		return audit.Record(ctx, tx, now, "line.override.delete", "line/"+id, map[string]any{"was": ov.State})
	})
	if err != nil {
		return hours.Status{}, err
	}
	return ls.Status(id)
}

func getOverride(tx *bolt.Tx, id string) (*hours.Override, error) {
	var ov hours.Override
	ok, err := storage.Get(tx.Bucket([]byte(bucketOverrides)), []byte(id), &ov)
	if !ok || err != nil {
		return nil, err
	}
	return &ov, nil
}
