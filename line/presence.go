package line

import (
	"context"
	"errors"
	"fmt"
	"github.com/peerline/peerline/line/hours"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/peerline/peerline/internal/audit"
	"github.com/peerline/peerline/internal/event"
	"github.com/peerline/peerline/internal/logging"
	"github.com/peerline/peerline/internal/storage"
	"github.com/peerline/peerline/roster"
	bolt "go.etcd.io/bbolt"
)

// Activity is what a logged-in agent is doing.
type Activity string

const (
	Available Activity = "available" // waiting for a call
	Ringing   Activity = "ringing"   // a call is being offered
	Busy      Activity = "busy"      // in a call
	WrapUp    Activity = "wrap_up"   // filling in the form after a call
)

// Presence is one agent's state on the lines. An agent not logged in to any line
// has no presence.
type Presence struct {
	Agent    string    `json:"agent"`
	Lines    []string  `json:"lines"` // the lines the agent is logged in to
	Activity Activity  `json:"activity"`
	Since    time.Time `json:"since"`     // when the activity began; for available, the idle-since
	LoggedIn time.Time `json:"logged_in"` // when the agent logged in
	Missed   int       `json:"missed"`    // calls offered and not answered, in a row
	// Unreachable is why the last call to the agent's phone could not even be
	// made (no route to it); "" once a call reaches it.
	Unreachable string `json:"unreachable,omitempty"`
}

const bucketPresence = "line.presence" // agent id -> Presence

var (
	// ErrNotLoggedIn is returned when logging out an agent who is not logged in.
	ErrNotLoggedIn = errors.New("agent is not logged in")
	// ErrAgentInactive is returned when logging in an agent who is paused.
	ErrAgentInactive = errors.New("agent is paused")
)

// ClosedError refuses a log-in while the line is closed; Status says when it opens.
type ClosedError struct{ Status hours.Status }

func (e *ClosedError) Error() string {
	return fmt.Sprintf("line %s is closed (%s)", e.Status.Line, e.Status.Text)
}

// presence is the live state of every logged-in agent; each change is written
// through to bbolt so that a restart keeps who is logged in and since when.
type presence struct {
	mu     sync.Mutex
	agents map[string]*Presence
}

// loadPresence reads the stored presence. Calls do not survive a restart, so an
// agent who was ringing, busy or in wrap-up is available again, idle from now. An
// agent paused or removed while peerline was stopped (agent import) is logged out.
func (ls *Lines) loadPresence() error {
	ls.presence.agents = map[string]*Presence{}
	now := ls.clock.Now().UTC()
	return ls.db.Update(func(tx *bolt.Tx) error {
		var gone []*Presence
		err := tx.Bucket([]byte(bucketPresence)).ForEach(func(k, v []byte) error {
			var p Presence
			if err := storage.Decode(v, &p); err != nil {
				return err
			}
			if p.Activity != Available {
				p.Activity, p.Since = Available, now
			}
			ls.presence.agents[p.Agent] = &p
			if a, err := roster.In(tx).Agent(p.Agent); err != nil || !a.Active {
				gone = append(gone, &p)
			}
			return nil
		})
		system := audit.WithActor(context.Background(), audit.System)
		for _, p := range gone { // not inside ForEach: it may not change the bucket it walks
			if err == nil {
				err = ls.logoutTx(system, tx, now, p, "agent.logout", map[string]any{"lines": p.Lines, "why": "paused or removed"})
			}
		}
		return err
	})
}

// Presence lists the logged-in agents, by agent id; line "" means every line.
func (ls *Lines) Presence(line string) []Presence {
	ls.presence.mu.Lock()
	defer ls.presence.mu.Unlock()
	out := []Presence{}
	for _, p := range ls.presence.agents {
		if line == "" || slices.Contains(p.Lines, line) {
			c := *p
			c.Lines = slices.Clone(p.Lines)
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Agent < out[j].Agent })
	return out
}

// AgentPresence is one agent's presence; false when not logged in.
func (ls *Lines) AgentPresence(agent string) (Presence, bool) {
	ls.presence.mu.Lock()
	defer ls.presence.mu.Unlock()
	p, ok := ls.presence.agents[agent]
	if !ok {
		return Presence{}, false
	}
	c := *p
	c.Lines = slices.Clone(p.Lines)
	return c, true
}

// Login logs the agent in to line, or to every line the agent serves when line is
// "". A line must be open to log in to it (an office override counts).
func (ls *Lines) Login(ctx context.Context, agentID, line string) (Presence, error) {
	now := ls.clock.Now().UTC()
	var lines []string
	err := ls.db.Update(func(tx *bolt.Tx) error {
		a, err := roster.In(tx).Agent(agentID)
		if err != nil {
			return err
		}
		if !a.Active {
			return fmt.Errorf("agent %q: %w", agentID, ErrAgentInactive)
		}
		if err := ls.reachable(a); err != nil {
			return err
		}
		if lines, err = ls.loginLines(tx, a, line, now); err != nil {
			return err
		}
		ls.presence.mu.Lock()
		defer ls.presence.mu.Unlock()
		p := ls.presence.agents[agentID]
		if p == nil {
			p = &Presence{Agent: agentID, Activity: Available, Since: now, LoggedIn: now}
		}
		next := *p
		for _, l := range lines {
			if !slices.Contains(next.Lines, l) {
				next.Lines = append(slices.Clone(next.Lines), l)
			}
		}
		if err := putPresence(tx, &next); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, now, "agent.login", "agent/"+agentID, map[string]any{"lines": lines}); err != nil {
			return err
		}
		ls.presence.agents[agentID] = &next // the transaction can no longer fail on our side
		return nil
	})
	if err != nil {
		return Presence{}, err
	}
	ls.queue.wake() // a waiting caller may now have an agent
	p, _ := ls.AgentPresence(agentID)
	return p, nil
}

// loginLines are the lines a log-in covers: line, or the agent's lines that are
// open now. Each must be open.
func (ls *Lines) loginLines(tx *bolt.Tx, a roster.Agent, line string, now time.Time) ([]string, error) {
	want := a.Lines
	if line != "" {
		if _, err := ls.Get(line); err != nil {
			return nil, err
		}
		if !slices.Contains(a.Lines, line) {
			return nil, fmt.Errorf("agent %q does not serve line %q: %w", a.ID, line, ErrNotServing)
		}
		want = []string{line}
	}
	var open []string
	var closed *ClosedError
	for _, id := range want {
		l, err := ls.Get(id)
		if err != nil {
			continue // a line dropped from the config
		}
		st, err := statusTx(tx, l, now)
		if err != nil {
			return nil, err
		}
		if st.State == hours.Open {
			open = append(open, id)
		} else if closed == nil {
			closed = &ClosedError{Status: st}
		}
	}
	if len(open) == 0 {
		if closed != nil {
			return nil, closed
		}
		return nil, fmt.Errorf("agent %q: %w", a.ID, ErrNotServing)
	}
	return open, nil
}

// ErrNotServing is returned when an agent is logged in to a line they do not serve.
var ErrNotServing = errors.New("agent does not serve the line")

// Logout logs the agent out of every line. An agent in a call finishes it; no new
// call is offered.
func (ls *Lines) Logout(ctx context.Context, agentID string) error {
	now := ls.clock.Now().UTC()
	defer ls.queue.wake() // waiting callers may have nobody left
	return ls.db.Update(func(tx *bolt.Tx) error {
		ls.presence.mu.Lock()
		defer ls.presence.mu.Unlock()
		p := ls.presence.agents[agentID]
		if p == nil {
			return fmt.Errorf("agent %q: %w", agentID, ErrNotLoggedIn)
		}
		return ls.logoutTx(ctx, tx, now, p, "agent.logout", map[string]any{"lines": p.Lines})
	})
}

// logoutTx logs p's agent out inside tx, audited as action; presence.mu is held.
func (ls *Lines) logoutTx(ctx context.Context, tx *bolt.Tx, now time.Time, p *Presence, action string, detail map[string]any) error {
	if err := tx.Bucket([]byte(bucketPresence)).Delete([]byte(p.Agent)); err != nil {
		return err
	}
	if err := audit.Record(ctx, tx, now, action, "agent/"+p.Agent, detail); err != nil {
		return err
	}
	delete(ls.presence.agents, p.Agent)
	return nil
}

// claim picks the longest-idle available agent on line who still serves it
// (paused and removed agents do not) and marks them ringing. skip holds agents
// already tried for this call.
func (ls *Lines) claim(line string, skip []string) (roster.Agent, bool) {
	for _, id := range ls.idle(line, skip) {
		var a roster.Agent
		err := ls.db.View(func(tx *bolt.Tx) (err error) {
			a, err = roster.In(tx).Agent(id)
			return err
		})
		if err != nil || !a.Serves(line) {
			continue
		}
		if ls.ring(id) {
			return a, true
		}
	}
	return roster.Agent{}, false
}

// idle lists the available agents on line, longest idle first.
func (ls *Lines) idle(line string, skip []string) []string {
	ls.presence.mu.Lock()
	defer ls.presence.mu.Unlock()
	var ps []*Presence
	for id, p := range ls.presence.agents {
		if p.Activity == Available && slices.Contains(p.Lines, line) && !slices.Contains(skip, id) {
			ps = append(ps, p)
		}
	}
	sort.Slice(ps, func(i, j int) bool {
		if !ps[i].Since.Equal(ps[j].Since) {
			return ps[i].Since.Before(ps[j].Since)
		}
		return ps[i].Agent < ps[j].Agent
	})
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.Agent
	}
	return ids
}

// ring marks the agent ringing if still available (another call may have
// claimed them since idle looked).
func (ls *Lines) ring(agentID string) bool {
	ls.presence.mu.Lock()
	defer ls.presence.mu.Unlock()
	p := ls.presence.agents[agentID]
	if p == nil || p.Activity != Available {
		return false
	}
	p.Activity, p.Since = Ringing, ls.clock.Now().UTC()
	return true
}

// loggedIn reports whether anyone is logged in to line.
func (ls *Lines) loggedIn(line string) bool {
	ls.presence.mu.Lock()
	defer ls.presence.mu.Unlock()
	for _, p := range ls.presence.agents {
		if slices.Contains(p.Lines, line) {
			return true
		}
	}
	return false
}

// setActivity moves a logged-in agent to a; an agent logged out meanwhile stays out.
// An agent free again leaves the lines that closed meanwhile, and waiting callers
// look again. After a restart every agent is available, idle since the
// log-in or the last change stored (a miss, leaving a closed line).
func (ls *Lines) setActivity(agentID string, a Activity) {
	now := ls.clock.Now().UTC()
	ls.presence.mu.Lock()
	p := ls.presence.agents[agentID]
	if p != nil {
		p.Activity, p.Since = a, now
	}
	ls.presence.mu.Unlock()
	// What an agent is doing lives in memory only: a restart finds every
	// logged-in agent available anyway (loadPresence), and a disk write per
	// flip was most of a call's cost. Only an agent free again on a line that
	// closed meanwhile changes what is stored: they leave it.
	if p == nil || a != Available {
		return
	}
	if ls.closedFor(agentID, now) {
		ls.db.Update(func(tx *bolt.Tx) error {
			ls.presence.mu.Lock()
			defer ls.presence.mu.Unlock()
			p := ls.presence.agents[agentID]
			if p == nil || p.Activity != Available {
				return nil // logged out, or busy again, in between
			}
			return ls.leaveClosedTx(tx, now, p)
		})
	}
	ls.queue.wake()
}

// closedFor reports whether a line of the agent's is closed at now (a read,
// no commit).
func (ls *Lines) closedFor(agentID string, now time.Time) bool {
	ls.presence.mu.Lock()
	var lines []string
	if p := ls.presence.agents[agentID]; p != nil {
		lines = slices.Clone(p.Lines)
	}
	ls.presence.mu.Unlock()
	var closed []string
	ls.db.View(func(tx *bolt.Tx) (err error) {
		_, closed, err = ls.splitClosed(tx, now, lines)
		return err
	})
	return len(closed) > 0
}

func putPresence(tx *bolt.Tx, p *Presence) error {
	return storage.Put(tx.Bucket([]byte(bucketPresence)), []byte(p.Agent), p)
}

// ErrCannotBeCalled refuses the log-in of an agent whose phone peerline has no
// way to call: callers would wait for nobody.
var ErrCannotBeCalled = errors.New("agent cannot be called")

// SetReach sets how the lines learn whether an agent's phone can be called at
// all (in SIP mode: a SIP URI, or a number and a trunk proxy); nil, the
// default, means every agent can. Call it before serving.
func (ls *Lines) SetReach(f func(Target) error) { ls.reach = f }

func (ls *Lines) reachable(a roster.Agent) error {
	if ls.reach == nil {
		return nil
	}
	if err := ls.reach(targetOf(a)); err != nil {
		return fmt.Errorf("%w: %s", ErrCannotBeCalled, err)
	}
	return nil
}

// missed counts a call the agent was offered and did not answer. After the line's
// max_missed in a row the agent is logged out and the office told, so callers stop
// waiting on a phone nobody picks up.
func (ls *Lines) missed(l *Line, agentID string, why error) {
	now := ls.clock.Now().UTC()
	max := l.Config.Calls.MaxMissed
	defer ls.queue.wake()
	ls.db.Update(func(tx *bolt.Tx) error {
		ls.presence.mu.Lock()
		defer ls.presence.mu.Unlock()
		p := ls.presence.agents[agentID]
		if p == nil {
			return nil
		}
		p.Missed++
		p.Activity, p.Since = Available, now
		p.Unreachable = ""
		if errors.Is(why, ErrUnreachable) {
			p.Unreachable = logging.MaskText(why.Error()) // a SIP URI may hold the number
		}
		if max <= 0 || p.Missed < max {
			return ls.leaveClosedTx(tx, now, p)
		}
		if err := ls.emit(tx, now, l.Config.ID, event.AutoLogout{Agent: agentID, Missed: p.Missed}); err != nil {
			return err
		}
		return ls.logoutTx(audit.WithActor(context.Background(), audit.System), tx, now, p,
			"agent.auto_logout", map[string]any{"missed": p.Missed, "lines": p.Lines})
	})
}

// answered resets the agent's run of missed calls; the agent is now busy.
func (ls *Lines) answered(agentID string) {
	ls.presence.mu.Lock()
	reset := false
	if p := ls.presence.agents[agentID]; p != nil {
		reset = p.Missed > 0 || p.Unreachable != ""
		p.Missed, p.Unreachable = 0, ""
	}
	ls.presence.mu.Unlock()
	ls.setActivity(agentID, Busy)
	if reset { // stored only after misses: the run of misses survives a restart
		ls.db.Update(func(tx *bolt.Tx) error {
			ls.presence.mu.Lock()
			defer ls.presence.mu.Unlock()
			if p := ls.presence.agents[agentID]; p != nil {
				return putPresence(tx, p)
			}
			return nil
		})
	}
}
