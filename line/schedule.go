package line

import (
	"context"
	"errors"
	"slices"

	"github.com/peerline/peerline/roster"
	bolt "go.etcd.io/bbolt"
)

// ErrScheduleChanged is returned by an edit that finds the weekly schedule
// changed since the editor read it (two people at the page at once).
var ErrScheduleChanged = errors.New("the weekly schedule was changed meanwhile")

// EditSchedule replaces a line's weekly schedule with what edit makes of the
// current one, in one transaction, and reconciles today as a sick report does:
// day.uncovered when today loses its cover, today's closure after the deadline
// lifted or made. Only today is told: the coming days of an edited schedule are
// on the office's own page, and asking every free colleague about each of them
// would be noise. The audit names the agents whose shifts changed.
func (ls *Lines) EditSchedule(ctx context.Context, id string, edit func([]roster.Shift) ([]roster.Shift, error)) ([]roster.Shift, error) {
	l, err := ls.Get(id)
	if err != nil {
		return nil, err
	}
	var after []roster.Shift
	detail := map[string]any{}
	_, err = ls.rosterChange(ctx, id, l.Calendar.Date(ls.clock.Now()), "schedule.set", detail, func(tx *bolt.Tx, _ *Line) error {
		before, err := roster.In(tx).Schedule(id)
		if err != nil {
			return err
		}
		if after, err = edit(slices.Clone(before)); err != nil {
			return err
		}
		detail["shifts"], detail["agents"] = len(after), changedAgents(before, after)
		return roster.In(tx).SetSchedule(id, after)
	})
	return after, err
}

// SetSchedule replaces a line's weekly schedule; see EditSchedule.
func (ls *Lines) SetSchedule(ctx context.Context, id string, shifts []roster.Shift) ([]roster.Shift, error) {
	return ls.EditSchedule(ctx, id, func([]roster.Shift) ([]roster.Shift, error) { return shifts, nil })
}

// changedAgents lists, in order of first appearance, the agents whose shifts
// differ between two schedules.
func changedAgents(before, after []roster.Shift) []string {
	of := func(shifts []roster.Shift, agent string) []string {
		var out []string
		for _, sh := range shifts {
			if sh.Agent == agent {
				out = append(out, shiftKey(sh))
			}
		}
		slices.Sort(out)
		return out
	}
	var out []string
	for _, sh := range slices.Concat(before, after) {
		if !slices.Contains(out, sh.Agent) && !slices.Equal(of(before, sh.Agent), of(after, sh.Agent)) {
			out = append(out, sh.Agent)
		}
	}
	return out
}

func shiftKey(sh roster.Shift) string {
	days := slices.Clone(sh.Days)
	slices.Sort(days)
	k := ""
	for _, d := range days {
		k += d.String() + ","
	}
	if sh.From != nil {
		k += "from" + sh.From.String()
	}
	if sh.To != nil {
		k += "to" + sh.To.String()
	}
	return k
}
