package line

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/audit"
	"github.com/peerline/peerline/internal/input"
	"github.com/peerline/peerline/line/hours"
	"github.com/peerline/peerline/roster"
)

// Agents is what an agent's own call needs of the roster (roster.Store has it).
type Agents interface {
	AgentByPhone(phone string) (roster.Agent, bool)
	CheckPIN(ctx context.Context, agentID, pin string) error
}

// How long an agent's call waits for keys.
const (
	numberWait   = 15 * time.Second // for the first key of the phone number
	pinWait      = 10 * time.Second // for the first key of the PIN
	keyWait      = 5 * time.Second  // between keys
	menuWait     = 10 * time.Second // for a menu choice after the menu
	menuSilences = 2                // menus in a row without a choice before goodbye
	maxEntry     = 20               // keys of a phone number or PIN; more is a wrong one
	coverDays    = 14               // how far ahead key 3 looks for a day without cover
	maxSpoken    = 59               // the largest number the prompts can say
)

var (
	// errAgentKey means a caller pressed the line's agent key during an announcement.
	errAgentKey = errors.New("agent key pressed")
	// errNotIdentified ends an agent's call after wrong numbers or PINs, or a lock.
	errNotIdentified = errors.New("agent not identified")
)

// announce plays prompt to a caller while listening for the line's agent key:
// an agent calling from a phone peerline does not know presses it to reach the
// agent menu (errAgentKey).
func (ls *Lines) announce(ctx context.Context, l *Line, c Call, prompts ...string) error {
	key := l.Config.Keys.AgentLogin
	if ls.agents == nil || key == "" {
		return playAll(ctx, c, prompts)
	}
	got, err := c.Collect(ctx, CollectOptions{Prompts: prompts, Accept: key, Max: len(key), NextKey: keyWait})
	switch {
	case err == nil && got == key:
		return errAgentKey
	case err == nil || errors.Is(err, ErrNoInput):
		return nil
	}
	return err
}

// agentCall is an agent's own call to the line, after the agent key: who they
// are, their PIN, then the menu. It is no caller's call and leaves no call
// record; what the agent does is audited with them as the actor.
func (ls *Lines) agentCall(ctx context.Context, l *Line, c Call) error {
	ctx, cancel := withCaller(ctx, c)
	defer cancel()
	err := c.Answer(ctx)
	var a roster.Agent
	if err == nil {
		a, err = ls.identify(ctx, l, c)
	}
	if err == nil {
		err = ls.menu(audit.WithActor(ctx, audit.Actor{Kind: "agent", Name: a.ID}), l, c, a)
	}
	if ctx.Err() != nil {
		return nil // the agent hung up
	}
	if errors.Is(err, errNotIdentified) {
		err = nil
	}
	return errors.Join(err, c.Hangup(context.WithoutCancel(ctx)))
}

// entry is how a phone number or PIN is typed: digits and '#'.
func entry(prompts []string, first time.Duration) CollectOptions {
	return CollectOptions{Prompts: prompts, Accept: "0123456789", Terminator: '#', Max: maxEntry,
		FirstKey: first, NextKey: keyWait}
}

// identify asks for the agent's phone number ('#' alone: the number calling)
// and PIN, up to the line's tries_per_call times. Nothing depends on the calling
// number before the PIN is right, and every failure sounds the same and takes
// the same time: an unknown number's PIN is checked against nobody, and a locked
// agent hears what a wrong PIN gets (their lock is the office's to tell), so
// that nobody can learn by calling who is a peer supporter.
func (ls *Lines) identify(ctx context.Context, l *Line, c Call) (roster.Agent, error) {
	var say []string // said before the next question
	for try := 1; ; try++ {
		number, err := c.Collect(ctx, entry(append(say, "agent-number"), numberWait))
		typed := err == nil
		if err != nil && !errors.Is(err, ErrNoInput) {
			return roster.Agent{}, err
		}
		if typed && number == "" {
			number = c.Caller()
		}
		a, known := ls.agents.AgentByPhone(number)
		known = typed && known && a.Serves(l.Config.ID)
		pin, err := c.Collect(ctx, entry([]string{"agent-pin"}, pinWait))
		if err != nil && !errors.Is(err, ErrNoInput) {
			return a, err
		}
		if pin != "" {
			id := ""
			if known {
				id = a.ID
			}
			err = ls.agents.CheckPIN(ctx, id, pin)
		} else {
			err = roster.ErrWrongPIN // no PIN is no try at the agent's lock
		}
		var locked *roster.LockedError
		switch {
		case err == nil:
			return a, nil
		case !errors.Is(err, roster.ErrWrongPIN) && !errors.As(err, &locked):
			return a, err
		case try >= l.Config.PIN.TriesPerCall:
			return a, ls.farewell(ctx, c, "agent-wrong", "agent-too-many")
		}
		say = []string{"agent-wrong"}
	}
}

// farewell says prompts before the call ends without the agent menu.
func (ls *Lines) farewell(ctx context.Context, c Call, prompts ...string) error {
	for _, p := range prompts {
		if err := c.Play(ctx, p); err != nil {
			return err
		}
	}
	return errNotIdentified
}

// menu offers the agent menu until the agent hangs up or stays silent.
func (ls *Lines) menu(ctx context.Context, l *Line, c Call, a roster.Agent) error {
	var say []string // the last choice's answer, said before the menu
	for silent := 0; silent < menuSilences; {
		k, err := c.Collect(ctx, CollectOptions{Prompts: append(say, "agent-menu"), Max: 1, FirstKey: menuWait})
		say = nil
		switch {
		case errors.Is(err, ErrNoInput):
			silent++
			continue
		case err != nil:
			return err
		}
		silent = 0
		if say, err = ls.choose(ctx, l, c, a, k); errors.Is(err, errMenuDone) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return c.Play(ctx, "goodbye")
}

// choose carries out a menu choice and says what came of it.
func (ls *Lines) choose(ctx context.Context, l *Line, c Call, a roster.Agent, key string) ([]string, error) {
	switch key {
	case "1":
		return ls.toggleLogin(ctx, l, a)
	case "2":
		return ls.phoneSick(ctx, l, a)
	case "3":
		return ls.phoneCover(ctx, l, a)
	case "4":
		return ls.callBack(ctx, c, a)
	case "0":
		return ls.sayStatus(l)
	}
	return []string{"agent-invalid"}, nil
}

// toggleLogin logs the agent out of every line when they are logged in to l,
// and in to l otherwise. Logging in to a day closed for want of cover is
// covering it, so the day opens again.
func (ls *Lines) toggleLogin(ctx context.Context, l *Line, a roster.Agent) ([]string, error) {
	id := l.Config.ID
	if p, ok := ls.AgentPresence(a.ID); ok && slices.Contains(p.Lines, id) {
		if err := ls.Logout(ctx, a.ID); err != nil && !errors.Is(err, ErrNotLoggedIn) {
			return nil, err
		}
		return []string{"agent-logged-out"}, nil
	}
	_, err := ls.Login(ctx, a.ID, id)
	var closed *ClosedError
	if errors.As(err, &closed) && closed.Status.Reason == hours.ReasonNoCover {
		if _, cerr := ls.TakeCover(ctx, id, a.ID, l.Calendar.Date(ls.clock.Now())); cerr == nil {
			_, err = ls.Login(ctx, a.ID, id)
		}
	}
	if errors.As(err, &closed) {
		return append([]string{"status-closed"}, ls.sayOpens(l, closed.Status)...), nil
	}
	if errors.Is(err, ErrCannotBeCalled) {
		return []string{"agent-cannot-be-called"}, nil
	}
	if err != nil {
		return nil, err
	}
	return []string{"agent-logged-in"}, nil
}

// phoneSick reports the agent sick today and says whether the day is still
// covered (if not, the office and the free colleagues have been told). A sick
// agent logged in to the line is logged out.
func (ls *Lines) phoneSick(ctx context.Context, l *Line, a roster.Agent) ([]string, error) {
	id := l.Config.ID
	today := l.Calendar.Date(ls.clock.Now())
	days, err := ls.Roster(id, today, today)
	if err != nil {
		return nil, err
	}
	if slices.Contains(days[0].Sick, a.ID) {
		return []string{"agent-sick"}, nil // said before; nothing changes
	}
	day, err := ls.ReportSick(ctx, id, a.ID, today)
	if _, bad := input.As(err); bad {
		return []string{"agent-not-expected"}, nil
	}
	if err != nil {
		return nil, err
	}
	say := []string{"agent-sick", "agent-sick-covered"}
	if day.Uncovered {
		say[1] = "agent-sick-uncovered"
	}
	if p, ok := ls.AgentPresence(a.ID); ok && slices.Contains(p.Lines, id) {
		if err := ls.Logout(ctx, a.ID); err == nil {
			say = append(say, "agent-logged-out")
		}
	}
	return say, nil
}

// phoneCover gives the agent the first day without cover within two weeks that
// they are not already working or sick on, and says which.
func (ls *Lines) phoneCover(ctx context.Context, l *Line, a roster.Agent) ([]string, error) {
	id := l.Config.ID
	now := ls.clock.Now()
	today := l.Calendar.Date(now)
	days, err := ls.Roster(id, today, today.AddDays(coverDays-1))
	if err != nil {
		return nil, err
	}
	for _, d := range days {
		if !d.Uncovered || slices.Contains(d.Expected, a.ID) || slices.Contains(d.Sick, a.ID) ||
			(d.Date == today && !now.Before(l.Calendar.ClosesAt(today))) {
			continue
		}
		if _, err := ls.TakeCover(ctx, id, a.ID, d.Date); err != nil {
			if _, bad := input.As(err); bad {
				continue
			}
			return nil, err
		}
		return append([]string{"agent-cover"}, ls.sayDate(l, d.Date)...), nil
	}
	return []string{"agent-cover-none"}, nil
}

// sayStatus is the line's state, when a closed line opens, how many agents are
// logged in and, when open, how many callers wait.
func (ls *Lines) sayStatus(l *Line) ([]string, error) {
	st, err := ls.Status(l.Config.ID)
	if err != nil {
		return nil, err
	}
	var say []string
	if st.State == hours.Open {
		say = append(say, "status-open")
	} else {
		say = append(append(say, "status-closed"), ls.sayOpens(l, st)...)
	}
	say = append(say, "status-agents", sayNumber(len(ls.Presence(l.Config.ID))))
	if st.State == hours.Open {
		say = append(say, "status-queue", sayNumber(len(ls.Queue(l.Config.ID))))
	}
	return say, nil
}

// sayOpens is "it opens" and when, if the status knows.
func (ls *Lines) sayOpens(l *Line, st hours.Status) []string {
	if st.NextOpen == nil {
		return nil
	}
	return append([]string{"agent-opens"}, ls.sayTime(l, *st.NextOpen)...)
}

// sayTime is a time to come: "i dag", "i morgon" or the date, then "klockan"
// and the hour and minutes, in the line's time zone.
func (ls *Lines) sayTime(l *Line, t time.Time) []string {
	local := t.In(l.Calendar.Location())
	return append(append(ls.sayDate(l, l.Calendar.Date(t)), "at"), sayClock(local.Hour(), local.Minute())...)
}

// sayDate is "i dag", "i morgon", or the weekday, the day of the month and the month.
func (ls *Lines) sayDate(l *Line, d config.Date) []string {
	today := l.Calendar.Date(ls.clock.Now())
	switch d {
	case today:
		return []string{"today"}
	case today.AddDays(1):
		return []string{"tomorrow"}
	}
	wd := int(d.In(time.UTC).Weekday()+6)%7 + 1 // Monday is 1
	return []string{"weekday-" + strconv.Itoa(wd), "date-" + strconv.Itoa(d.Day), "month-" + strconv.Itoa(int(d.Month))}
}

// sayNumber is the prompt for n, capped at the largest the prompts know.
func sayNumber(n int) string { return "number-" + strconv.Itoa(min(max(n, 0), maxSpoken)) }
