package line

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/audit"
	"github.com/peerline/peerline/internal/clock"
	"github.com/peerline/peerline/internal/event"
	"github.com/peerline/peerline/line/hours"
	"github.com/peerline/peerline/roster"
	"github.com/robfig/cron/v3"
	bolt "go.etcd.io/bbolt"
)

// bucketClosures holds the days closed for want of cover: line/date -> closure time.
const bucketClosures = "line.closures"

func closureKey(line string, d config.Date) []byte { return []byte(line + "/" + d.String()) }

// maxRosterDays bounds one roster query.
const maxRosterDays = 92

// RosterDay is who works a line on a date, and whether the day has cover.
type RosterDay struct {
	roster.Day
	Service   bool         `json:"service"`             // the calendar opens the line that day
	Reason    hours.Reason `json:"reason,omitempty"`    // why not, when it does not
	Holiday   string       `json:"holiday,omitempty"`   // the holiday's name
	Uncovered bool         `json:"uncovered"`           // a service day with fewer than cover.min_agents expected
	Closed    bool         `json:"closed_for_no_cover"` // closed by the deadline rule
}

// Roster lists the days from..to (inclusive) of a line.
func (ls *Lines) Roster(id string, from, to config.Date) ([]RosterDay, error) {
	l, err := ls.Get(id)
	if err != nil {
		return nil, err
	}
	if err := checkDates(from, to, maxRosterDays); err != nil {
		return nil, err
	}
	var out []RosterDay
	err = ls.db.View(func(tx *bolt.Tx) error {
		for d := from; d.String() <= to.String(); d = d.AddDays(1) {
			rd, err := rosterDay(tx, l, d)
			if err != nil {
				return err
			}
			out = append(out, rd)
		}
		return nil
	})
	return out, err
}

func rosterDay(tx *bolt.Tx, l *Line, d config.Date) (RosterDay, error) {
	day, err := roster.In(tx).Day(l.Config.ID, d)
	if err != nil {
		return RosterDay{}, err
	}
	service, reason, holiday := l.Calendar.ServiceDay(d)
	// A line without a schedule has no notion of cover: agents just log in, and the
	// line must not close itself every day at the deadline.
	scheduled, err := roster.In(tx).HasSchedule(l.Config.ID)
	if err != nil {
		return RosterDay{}, err
	}
	rd := RosterDay{Day: day, Service: service, Holiday: holiday,
		Uncovered: service && scheduled && len(day.Expected) < l.Config.Cover.MinAgents,
		Closed:    tx.Bucket([]byte(bucketClosures)).Get(closureKey(l.Config.ID, d)) != nil}
	if !service {
		rd.Reason = reason
	}
	return rd, nil
}

// ReportSick records that an expected agent will not come on date. If that leaves
// the day uncovered the office and the free colleagues are told (day.uncovered), and
// after the deadline on the day itself the line closes at once.
func (ls *Lines) ReportSick(ctx context.Context, id, agent string, date config.Date) (RosterDay, error) {
	return ls.rosterChange(ctx, id, date, "roster.sick", exceptionDetail(agent, date), func(tx *bolt.Tx, l *Line) error {
		return roster.In(tx).PutException(ls.exception(ctx, id, agent, date, roster.Sick))
	})
}

// TakeCover records that an agent works date for the line (cover.taken). A day
// closed for want of cover opens again.
func (ls *Lines) TakeCover(ctx context.Context, id, agent string, date config.Date) (RosterDay, error) {
	return ls.rosterChange(ctx, id, date, "roster.cover", exceptionDetail(agent, date), func(tx *bolt.Tx, l *Line) error {
		if err := roster.In(tx).PutException(ls.exception(ctx, id, agent, date, roster.Cover)); err != nil {
			return err
		}
		day, err := rosterDay(tx, l, date)
		if err != nil {
			return err
		}
		a, err := roster.In(tx).Agent(agent)
		if err != nil {
			return err
		}
		return ls.emit(tx, ls.clock.Now(), id, event.Cover{Date: date.String(), Agent: agent, Name: a.Name, DayCovered: !day.Uncovered})
	})
}

// RemoveException deletes a sick report or a cover, with the same consequences.
func (ls *Lines) RemoveException(ctx context.Context, id, agent string, date config.Date, kind roster.Kind) (RosterDay, error) {
	return ls.rosterChange(ctx, id, date, "roster."+string(kind)+".delete", exceptionDetail(agent, date), func(tx *bolt.Tx, _ *Line) error {
		return roster.In(tx).DeleteException(id, date, agent, kind)
	})
}

func exceptionDetail(agent string, d config.Date) map[string]any {
	return map[string]any{"agent": agent, "date": d.String()}
}

func (ls *Lines) exception(ctx context.Context, line, agent string, d config.Date, k roster.Kind) roster.Exception {
	return roster.Exception{Line: line, Agent: agent, Date: d, Kind: k, By: audit.ActorFrom(ctx).Name, At: ls.clock.Now().UTC()}
}

// rosterChange applies f to the roster of (line, date) and then reconciles the day:
// audit, day.uncovered when the day loses its cover, and today's closure, all in
// one transaction with f. f may add to the audit's detail.
func (ls *Lines) rosterChange(ctx context.Context, id string, date config.Date, action string, detail map[string]any,
	f func(tx *bolt.Tx, l *Line) error) (RosterDay, error) {
	l, err := ls.Get(id)
	if err != nil {
		return RosterDay{}, err
	}
	now := ls.clock.Now()
	var after RosterDay
	err = ls.change(l, now, func(tx *bolt.Tx) error {
		before, err := rosterDay(tx, l, date)
		if err != nil {
			return err
		}
		if err := f(tx, l); err != nil {
			return err
		}
		if after, err = rosterDay(tx, l, date); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, now, action, "line/"+id, detail); err != nil {
			return err
		}
		if !before.Uncovered && after.Uncovered {
			if err := ls.emitUncovered(tx, now, l, after); err != nil {
				return err
			}
		}
		after.Closed, err = ls.closeOrReopen(tx, l, now, date, after.Uncovered)
		return err
	})
	if err != nil {
		return RosterDay{}, err
	}
	return after, nil
}

// emitUncovered tells the office and names the colleagues who are free that day.
func (ls *Lines) emitUncovered(tx *bolt.Tx, now time.Time, l *Line, day RosterDay) error {
	free, err := roster.In(tx).FreeOn(l.Config.ID, day.Day)
	if err != nil {
		return err
	}
	names := make([]event.Colleague, len(free))
	for i, a := range free {
		names[i] = event.Colleague{ID: a.ID, Name: a.Name}
	}
	return ls.emit(tx, now, l.Config.ID, event.Uncovered{Date: day.Date.String(), Expected: day.Expected, Sick: day.Sick,
		Free: names, Deadline: l.Config.Cover.Deadline.String()})
}

// closeOrReopen applies the deadline rule to date: from the deadline until closing
// time on the day itself, an uncovered day is closed and a covered one is not.
// It reports whether the day is closed for want of cover afterwards.
func (ls *Lines) closeOrReopen(tx *bolt.Tx, l *Line, now time.Time, date config.Date, uncovered bool) (bool, error) {
	b := tx.Bucket([]byte(bucketClosures))
	key := closureKey(l.Config.ID, date)
	closed := b.Get(key) != nil
	if date != l.Calendar.Date(now) || now.Before(ls.deadline(l, date)) || !now.Before(l.Calendar.ClosesAt(date)) {
		return closed, nil
	}
	switch {
	case uncovered && !closed:
		// The actor of a context without one is audit.System: the rule itself.
		if err := audit.Record(context.Background(), tx, now, "line.no_cover", "line/"+l.Config.ID,
			map[string]any{"date": date.String()}); err != nil {
			return closed, err
		}
		return true, b.Put(key, []byte(now.UTC().Format(time.RFC3339)))
	case !uncovered && closed:
		return false, b.Delete(key)
	}
	return closed, nil
}

func (ls *Lines) deadline(l *Line, d config.Date) time.Time {
	dl := l.Config.Cover.Deadline
	return time.Date(d.Year, d.Month, d.Day, dl.Hour, dl.Minute, 0, 0, l.Calendar.Location())
}

// CheckCover applies the deadline rule to today on every line. serve runs it at
// start-up so that a deadline passed while peerline was down is not missed.
func (ls *Lines) CheckCover() error {
	for _, l := range ls.list {
		if err := ls.checkCover(l); err != nil {
			return err
		}
	}
	return nil
}

// checkCover applies the deadline rule to today on one line.
func (ls *Lines) checkCover(l *Line) error {
	now := ls.clock.Now()
	today := l.Calendar.Date(now)
	err := ls.change(l, now, func(tx *bolt.Tx) error {
		day, err := rosterDay(tx, l, today)
		if err != nil {
			return err
		}
		_, err = ls.closeOrReopen(tx, l, now, today, day.Uncovered)
		return err
	})
	if err != nil {
		return fmt.Errorf("line %s: cover check: %w", l.Config.ID, err)
	}
	return nil
}

// RunCoverJob checks each line at its cover.deadline until ctx ends. cron
// computes the next instant in the line's zone; the clock waits for it, so tests
// run a day in milliseconds. Holidays and closed dates are the check's business.
func (ls *Lines) RunCoverJob(ctx context.Context, onError func(error)) error {
	for _, l := range ls.list {
		dl := l.Config.Cover.Deadline
		sched, err := cron.ParseStandard(fmt.Sprintf("CRON_TZ=%s %d %d * * *", l.Config.Timezone, dl.Minute, dl.Hour))
		if err != nil {
			return fmt.Errorf("line %s: deadline schedule: %w", l.Config.ID, err)
		}
		j := &job{ctx: ctx, sched: sched, run: func() {
			if err := ls.checkCover(l); err != nil && onError != nil {
				onError(err)
			}
		}}
		j.arm(ls.clock)
		context.AfterFunc(ctx, j.stop)
	}
	return nil
}

// job runs run at each instant of sched until ctx ends.
type job struct {
	ctx   context.Context
	sched cron.Schedule
	run   func()
	mu    sync.Mutex
	timer clock.Timer
}

func (j *job) arm(c clock.Clock) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.ctx.Err() != nil {
		return
	}
	now := c.Now()
	j.timer = c.AfterFunc(j.sched.Next(now).Sub(now), func() {
		if j.ctx.Err() == nil {
			j.run()
			j.arm(c)
		}
	})
}

func (j *job) stop() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.timer.Stop()
}
