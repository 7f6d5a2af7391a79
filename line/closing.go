package line

import (
	"context"
	"github.com/peerline/peerline/line/hours"
	"slices"
	"time"

	"github.com/peerline/peerline/internal/audit"
	bolt "go.etcd.io/bbolt"
)

// Closing time: when a line closes (its hours end, the office closes it, or the
// no-cover rule does), the free agents are logged out of it at once and the
// others as soon as their call is over; callers still waiting for an agent hear
// the closed announcement (await sees the status).

// splitClosed sorts lines into those open and those closed at now (a line
// dropped from the config counts as closed).
func (ls *Lines) splitClosed(tx *bolt.Tx, now time.Time, lines []string) (open, closed []string, err error) {
	for _, id := range lines {
		l, err := ls.Get(id)
		if err != nil {
			closed = append(closed, id)
			continue
		}
		st, err := statusTx(tx, l, now)
		if err != nil {
			return nil, nil, err
		}
		if st.State == hours.Closed {
			closed = append(closed, id)
		} else {
			open = append(open, id)
		}
	}
	return open, closed, nil
}

// leaveClosedTx takes a free agent off every line of theirs that is closed at
// now; with no line left they are logged out. Audited as the system's doing.
// presence.mu is held.
func (ls *Lines) leaveClosedTx(tx *bolt.Tx, now time.Time, p *Presence) error {
	open, closed, err := ls.splitClosed(tx, now, p.Lines)
	if err != nil {
		return err
	}
	if len(closed) == 0 {
		return putPresence(tx, p)
	}
	system := audit.WithActor(context.Background(), audit.System)
	detail := map[string]any{"lines": closed, "why": "line closed"}
	if len(open) == 0 {
		return ls.logoutTx(system, tx, now, p, "agent.logout", detail)
	}
	p.Lines = open
	if err := putPresence(tx, p); err != nil {
		return err
	}
	return audit.Record(system, tx, now, "agent.logout", "agent/"+p.Agent, detail)
}

// windDown applies closing time to line l if it is closed now: its free agents
// leave it, and its waiting callers look at the status again.
func (ls *Lines) windDown(l *Line) error {
	now := ls.clock.Now().UTC()
	defer ls.queue.wake()
	return ls.db.Update(func(tx *bolt.Tx) error {
		st, err := statusTx(tx, l, now)
		if err != nil || st.State == hours.Open {
			return err
		}
		ls.presence.mu.Lock()
		defer ls.presence.mu.Unlock()
		for _, p := range ls.presence.agents { // leaveClosedTx may delete p: allowed while ranging
			if p.Activity == Available && slices.Contains(p.Lines, l.Config.ID) {
				if err := ls.leaveClosedTx(tx, now, p); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// RunClosingTime winds each line down at once (a closing passed while peerline
// was stopped) and then whenever its status may change, until ctx ends; after
// a service day's closing time it sends the day's summary (once a day). Closures
// by the office or the no-cover rule wind down at once through change.
func (ls *Lines) RunClosingTime(ctx context.Context, onError func(error)) {
	for _, l := range ls.list {
		run := func() {
			err := ls.windDown(l)
			if err == nil {
				err = ls.summarize(l, ls.clock.Now())
			}
			if err != nil && onError != nil {
				onError(err)
			}
		}
		run()
		j := &job{ctx: ctx, sched: statusEdges{ls, l}, run: run}
		j.arm(ls.clock)
		context.AfterFunc(ctx, j.stop)
	}
}

// maxStatusSleep bounds the wait for the next status edge, so that a change the
// edges do not foresee is caught within the hour.
const maxStatusSleep = time.Hour

// statusEdges is the schedule of a line's status changes by its calendar and
// overrides: when it closes if open, when it opens if closed.
type statusEdges struct {
	ls *Lines
	l  *Line
}

func (e statusEdges) Next(now time.Time) time.Time {
	next := now.Add(maxStatusSleep)
	st, err := e.ls.Status(e.l.Config.ID)
	if err != nil {
		return next
	}
	edge := st.ClosesAt
	if st.State == hours.Closed {
		edge = st.NextOpen
	}
	if edge != nil && edge.After(now) && edge.Before(next) {
		next = *edge
	}
	return next
}
