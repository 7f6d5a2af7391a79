// Package roster is who works the lines: agents and their phones, PINs and lockouts,
// the weekly schedule and its dated exceptions (sick, cover, extra), and who is
// expected on a day. Its state lives in its own bbolt buckets.
package roster

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/audit"
	"github.com/peerline/peerline/internal/clock"
	"github.com/peerline/peerline/internal/event"
	"github.com/peerline/peerline/internal/input"
	"github.com/peerline/peerline/internal/logging"
	"github.com/peerline/peerline/internal/storage"
	bolt "go.etcd.io/bbolt"
)

var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	idPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
)

const bucketAgents = "roster.agents"

// Agent is a peer supporter.
type Agent struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Phone  string   `json:"phone"` // E.164; never reaches a caller
	SIPURI string   `json:"sip_uri,omitempty"`
	Lines  []string `json:"lines"`
	Active bool     `json:"active"`
	Email  string   `json:"email,omitempty"`
	// Notify are the channels the agent is told by (sms, email); empty: SMS.
	Notify []string `json:"notify,omitempty"`
}

// Channels are the ways the agent is told: their choice, or SMS.
func (a Agent) Channels() []string {
	if len(a.Notify) == 0 {
		return []string{ChannelSMS}
	}
	return a.Notify
}

// The channels an agent may choose.
const (
	ChannelSMS   = "sms"
	ChannelEmail = "email"
)

// Serves reports whether the agent works on line.
func (a Agent) Serves(line string) bool { return a.Active && slices.Contains(a.Lines, line) }

// Emitter puts events into the outbox inside a transaction (event.Emitter does).
type Emitter interface {
	Emit(tx *bolt.Tx, now time.Time, line string, d event.Data) error
}

// Store keeps the roster.
type Store struct {
	db     *bolt.DB
	clock  clock.Clock
	pin    config.PIN
	lines  []string
	events Emitter
}

// NewStore opens the roster on db. pin is the PIN policy; lines are the valid line ids.
func NewStore(db *bolt.DB, c clock.Clock, pin config.PIN, lines []string, events Emitter) (*Store, error) {
	if err := storage.Buckets(db, bucketAgents, bucketPINs, bucketSchedule, bucketExceptions); err != nil {
		return nil, err
	}
	return &Store{db: db, clock: c, pin: pin, lines: lines, events: events}, nil
}

// StrictestPIN is the PIN policy that satisfies every line.
func StrictestPIN(lines []config.Line) config.PIN {
	p := lines[0].PIN
	for _, l := range lines[1:] {
		p.MinLength = max(p.MinLength, l.PIN.MinLength)
		p.LockoutAfter = min(p.LockoutAfter, l.PIN.LockoutAfter)
		p.LockoutFor = max(p.LockoutFor, l.PIN.LockoutFor)
	}
	return p
}

func (s *Store) emit(tx *bolt.Tx, now time.Time, line string, d event.Data) error {
	if s.events == nil {
		return nil
	}
	return s.events.Emit(tx, now, line, d)
}

// clean checks and normalises an agent; its errors name the field.
func (s *Store) clean(a *Agent) error {
	a.Name = strings.TrimSpace(a.Name)
	if !idPattern.MatchString(a.ID) {
		return input.Errorf("id", "%q: use lower-case letters, digits, - and _ (at most 32)", a.ID)
	}
	if a.Name == "" || len([]rune(a.Name)) > 100 {
		return input.Errorf("name", "give a name of 1 to 100 characters")
	}
	phone, err := NormalizePhone(a.Phone)
	if err != nil {
		return input.Errorf("phone", "%q is not a phone number like 070-123 45 67 or +46 70 123 45 67", logging.MaskNumber(a.Phone))
	}
	a.Phone = phone
	if a.SIPURI != "" && !strings.HasPrefix(a.SIPURI, "sip:") && !strings.HasPrefix(a.SIPURI, "sips:") {
		return input.Errorf("sip_uri", "%q is not a SIP URI like sip:klara@pbx.example", a.SIPURI)
	}
	a.Email = strings.TrimSpace(a.Email)
	if a.Email != "" {
		if m, err := mail.ParseAddress(a.Email); err != nil || m.Name != "" {
			return input.Errorf("email", "%q is not an e-mail address like klara@example.org", a.Email)
		}
	}
	for _, c := range a.Notify {
		switch {
		case c != ChannelSMS && c != ChannelEmail:
			return input.Errorf("notify", "%q is not a channel (sms, email)", c)
		case c == ChannelEmail && a.Email == "":
			return input.Errorf("notify", "email needs the agent's email")
		}
	}
	if len(a.Lines) == 0 {
		a.Lines = slices.Clone(s.lines[:1])
	}
	for _, l := range a.Lines {
		if !slices.Contains(s.lines, l) {
			return input.Errorf("lines", "%q is not a line (lines: %s)", l, strings.Join(s.lines, ", "))
		}
	}
	return nil
}

// AddAgent creates an agent.
func (s *Store) AddAgent(ctx context.Context, a Agent) (Agent, error) {
	if err := s.clean(&a); err != nil {
		return Agent{}, err
	}
	return a, s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketAgents))
		if b.Get([]byte(a.ID)) != nil {
			return input.Errorf("id", "%q is already an agent", a.ID)
		}
		if other, ok := agentByPhone(tx, a.Phone); ok {
			return input.Errorf("phone", "is already %s's number", other.Name)
		}
		if err := storage.Put(b, []byte(a.ID), a); err != nil {
			return err
		}
		return audit.Record(ctx, tx, s.clock.Now(), "agent.add", "agent/"+a.ID, map[string]any{"name": a.Name, "lines": a.Lines})
	})
}

// UpdateAgent replaces an agent's details (not the PIN).
func (s *Store) UpdateAgent(ctx context.Context, a Agent) (Agent, error) {
	if err := s.clean(&a); err != nil {
		return Agent{}, err
	}
	return a, s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketAgents))
		old, err := agentByID(tx, a.ID)
		if err != nil {
			return err
		}
		if other, ok := agentByPhone(tx, a.Phone); ok && other.ID != a.ID {
			return input.Errorf("phone", "is already %s's number", other.Name)
		}
		if err := storage.Put(b, []byte(a.ID), a); err != nil {
			return err
		}
		return audit.Record(ctx, tx, s.clock.Now(), "agent.update", "agent/"+a.ID,
			map[string]any{"name": a.Name, "lines": a.Lines, "active": a.Active, "phone_changed": old.Phone != a.Phone})
	})
}

// DeleteAgent removes an agent, their PIN and their place in schedules.
func (s *Store) DeleteAgent(ctx context.Context, id string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketAgents))
		if b.Get([]byte(id)) == nil {
			return fmt.Errorf("agent %q: %w", id, ErrNotFound)
		}
		if err := errors.Join(b.Delete([]byte(id)), tx.Bucket([]byte(bucketPINs)).Delete([]byte(id))); err != nil {
			return err
		}
		if err := dropFromSchedules(tx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, s.clock.Now(), "agent.delete", "agent/"+id, nil)
	})
}

// Agent returns one agent.
func (s *Store) Agent(id string) (a Agent, err error) {
	err = s.db.View(func(tx *bolt.Tx) error { a, err = agentByID(tx, id); return err })
	return a, err
}

// Agents lists every agent by id.
func (s *Store) Agents() ([]Agent, error) {
	var out []Agent
	err := s.db.View(func(tx *bolt.Tx) (err error) { out, err = agents(tx); return err })
	return out, err
}

// AgentByPhone finds the agent with the given (normalisable) phone number.
func (s *Store) AgentByPhone(phone string) (Agent, bool) {
	n, err := NormalizePhone(phone)
	if err != nil {
		return Agent{}, false
	}
	var a Agent
	var ok bool
	s.db.View(func(tx *bolt.Tx) error { a, ok = agentByPhone(tx, n); return nil })
	return a, ok
}

// PINStatus says whether the agent has a PIN and whether they are locked now.
func (s *Store) PINStatus(id string) (set bool, locked error) {
	var st pinState
	s.db.View(func(tx *bolt.Tx) error { return getPIN(tx, id, &st) })
	return pinView(st, s.clock.Now())
}

func agents(tx *bolt.Tx) ([]Agent, error) {
	out := []Agent{}
	err := tx.Bucket([]byte(bucketAgents)).ForEach(func(_, v []byte) error {
		var a Agent
		if err := storage.Decode(v, &a); err != nil {
			return err
		}
		out = append(out, a)
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}

func agentByPhone(tx *bolt.Tx, phone string) (Agent, bool) {
	all, _ := agents(tx)
	for _, a := range all {
		if a.Phone == phone {
			return a, true
		}
	}
	return Agent{}, false
}
