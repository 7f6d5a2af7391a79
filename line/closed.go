package line

import (
	"slices"
	"strconv"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/line/hours"
)

// What a caller hears on a closed line. Outside the hours and on holidays the
// announcement says when the line is open, built from the configured days and
// times out of spoken pieces (as the agent menu says times), so the default
// voice never contradicts the config. A line whose office recorded its own
// closed-hours or closed-holiday plays that recording whole, as before.

// SetOwnPrompts sets how the lines learn whether a line has its own recording
// of a prompt (from its prompts folder) rather than the default voice; nil:
// none has.
func (ls *Lines) SetOwnPrompts(f func(line, name string) bool) { ls.own = f }

func (ls *Lines) ownPrompt(l *Line, name string) bool {
	return ls.own != nil && ls.own(l.Config.ID, name)
}

// closedSay is the announcement of a line closed for reason.
func (ls *Lines) closedSay(l *Line, reason hours.Reason) []string {
	switch reason {
	case hours.ReasonHours, hours.ReasonWeekend:
		if ls.ownPrompt(l, "closed-hours") {
			return []string{"closed-hours"}
		}
		return slices.Concat([]string{"closed-thanks"}, sayHours(l.Config.Hours), []string{"closed-welcome"})
	case hours.ReasonHoliday:
		if ls.ownPrompt(l, "closed-holiday") {
			return []string{"closed-holiday"}
		}
		return slices.Concat([]string{"closed-thanks", "closed-holiday-today"}, sayHours(l.Config.Hours))
	}
	return []string{"closed-today"} // the office's closure, no cover, a closed date
}

// sayHours is "Vi finns här vardagar mellan klockan tretton och sexton".
func sayHours(h config.Hours) []string {
	say := append([]string{"closed-here"}, sayDays(h.Days)...)
	say = append(append(say, "between"), sayClock(h.Open.Hour, h.Open.Minute)...)
	return append(append(say, "and"), sayClock(h.Close.Hour, h.Close.Minute)...)
}

// sayDays names the open days: "vardagar", "alla dagar", a run of three or more
// as "måndag till torsdag", else "måndagar, onsdagar och fredagar" (the commas
// are pauses between the pieces).
func sayDays(days []config.Weekday) []string {
	monFirst := func(w config.Weekday) int { return (int(w)+6)%7 + 1 } // Monday 1 ... Sunday 7
	var n []int
	for _, w := range days {
		if !slices.Contains(n, monFirst(w)) {
			n = append(n, monFirst(w))
		}
	}
	slices.Sort(n)
	switch {
	case slices.Equal(n, []int{1, 2, 3, 4, 5}):
		return []string{"days-weekdays"}
	case len(n) == 7:
		return []string{"days-all"}
	case len(n) >= 3 && n[len(n)-1]-n[0] == len(n)-1:
		return []string{"weekday-" + strconv.Itoa(n[0]), "to", "weekday-" + strconv.Itoa(n[len(n)-1])}
	}
	var say []string
	for i, d := range n {
		if i > 0 && i == len(n)-1 {
			say = append(say, "and")
		}
		say = append(say, "weekdays-"+strconv.Itoa(d))
	}
	return say
}

// sayClock is a time of day: the hour, then the minutes ("noll fem" for 5).
func sayClock(hour, minute int) []string {
	say := []string{sayNumber(hour)}
	switch {
	case minute >= 10:
		say = append(say, sayNumber(minute))
	case minute > 0:
		say = append(say, "number-0", sayNumber(minute))
	}
	return say
}
