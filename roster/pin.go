package roster

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/audit"
	"github.com/peerline/peerline/internal/event"
	"github.com/peerline/peerline/internal/input"
	"github.com/peerline/peerline/internal/secret"
	"github.com/peerline/peerline/internal/storage"
	bolt "go.etcd.io/bbolt"
)

var (
	// ErrWrongPIN is a PIN that does not match, or an agent without a PIN.
	ErrWrongPIN = errors.New("wrong PIN")
	// ErrLocked is wrapped by *LockedError.
	ErrLocked = errors.New("agent locked")
)

// heldAfter is the lockout in a row after which only the office can unlock.
const heldAfter = 3

// maxPINLength is the longest PIN; min_length comes from config.
const maxPINLength = 8

// LockedError says an agent is locked out, until when, or held for the office.
type LockedError struct {
	Until time.Time // zero when Held
	Held  bool      // only the office can unlock
	New   bool      // this attempt caused the lock
}

func (e *LockedError) Error() string {
	if e.Held {
		return "agent locked until the office unlocks"
	}
	return "agent locked until " + e.Until.Format(time.RFC3339)
}

func (e *LockedError) Unwrap() error { return ErrLocked }

// pinState is an agent's PIN hash and failure count; it survives restarts.
type pinState struct {
	Hash        string    `json:"hash"`
	Failures    int       `json:"failures"` // consecutive, since the last success or lock
	Lockouts    int       `json:"lockouts"` // consecutive, since the last success or unlock
	LockedUntil time.Time `json:"locked_until"`
	Held        bool      `json:"held"`
}

// CheckPIN checks an agent's PIN. It returns nil, ErrWrongPIN, or a *LockedError.
// Failures count across calls; after the policy's lockout_after in a row the agent
// is locked for lockout_for, doubling for each further lockout in a row; after the
// third only the office can unlock. A locked agent's attempts are not even checked.
func (s *Store) CheckPIN(ctx context.Context, agentID, pin string) error {
	now := s.clock.Now()
	var st pinState
	if err := s.db.View(func(tx *bolt.Tx) error { return getPIN(tx, agentID, &st) }); err != nil {
		return err
	}
	if err := lockedNow(st, now); err != nil {
		secret.Verify(dummyPIN, pin) // a lock answers as late as a wrong PIN: it must not be told by its speed
		return err
	}
	hash := st.Hash
	if hash == "" {
		hash = dummyPIN // unknown agents take the same time as known ones
	}
	ok := secret.Verify(hash, pin) == nil && st.Hash != ""
	var result error
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := getPIN(tx, agentID, &st); err != nil {
			return err
		}
		if ok {
			st.Failures, st.Lockouts = 0, 0
			return putPIN(tx, agentID, st)
		}
		result = ErrWrongPIN
		if st.Hash == "" {
			return nil // no state is kept for agents that do not exist or have no PIN
		}
		st.Failures++
		if st.Failures < s.pin.LockoutAfter {
			return putPIN(tx, agentID, st)
		}
		st.Failures = 0
		st.Lockouts++
		le := &LockedError{New: true, Held: st.Lockouts >= heldAfter}
		if !le.Held {
			le.Until = now.Add(s.pin.LockoutFor.D() << (st.Lockouts - 1))
		}
		st.LockedUntil, st.Held, result = le.Until, le.Held, le
		if err := putPIN(tx, agentID, st); err != nil {
			return err
		}
		detail := map[string]any{"lockout": st.Lockouts, "held": le.Held}
		if !le.Held {
			detail["until"] = le.Until
		}
		if err := audit.Record(ctx, tx, now, "agent.locked", "agent/"+agentID, detail); err != nil {
			return err
		}
		ev := event.Lockout{Agent: agentID, Lockout: st.Lockouts, Held: le.Held}
		if a, ok, _ := agent(tx, agentID); ok {
			ev.Name = a.Name // never the phone
		}
		if !le.Held {
			ev.Until = &le.Until
		}
		return s.emit(tx, now, "", ev)
	})
	if err != nil {
		return err
	}
	return result
}

var dummyPIN = secret.Hash("00000000")

func lockedNow(st pinState, now time.Time) error {
	if st.Held {
		return &LockedError{Held: true}
	}
	if now.Before(st.LockedUntil) {
		return &LockedError{Until: st.LockedUntil}
	}
	return nil
}

// SetPIN sets an agent's PIN after checking it against the policy.
func (s *Store) SetPIN(ctx context.Context, agentID, pin string) error {
	a, err := s.Agent(agentID)
	if err != nil {
		return err
	}
	if err := CheckPINPolicy(pin, a.Phone, s.pin); err != nil {
		return err
	}
	hash := secret.Hash(pin)
	now := s.clock.Now()
	return s.db.Update(func(tx *bolt.Tx) error {
		var st pinState
		if err := getPIN(tx, agentID, &st); err != nil {
			return err
		}
		st.Hash = hash
		if err := putPIN(tx, agentID, st); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, "agent.pin.set", "agent/"+agentID, nil)
	})
}

// Unlock lifts a lockout and clears the failure counts.
func (s *Store) Unlock(ctx context.Context, agentID string) error {
	if _, err := s.Agent(agentID); err != nil {
		return err
	}
	now := s.clock.Now()
	return s.db.Update(func(tx *bolt.Tx) error {
		var st pinState
		if err := getPIN(tx, agentID, &st); err != nil {
			return err
		}
		st.Failures, st.Lockouts, st.LockedUntil, st.Held = 0, 0, time.Time{}, false
		if err := putPIN(tx, agentID, st); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, "agent.unlock", "agent/"+agentID, nil)
	})
}

// CheckPINPolicy refuses PINs of the wrong length and trivial ones: one digit
// repeated, a pattern of two repeated (121212), runs up or down (123456, 987654),
// and digits out of the agent's own phone number.
func CheckPINPolicy(pin, phone string, p config.PIN) error {
	if len(pin) < p.MinLength || len(pin) > maxPINLength || strings.Trim(pin, "0123456789") != "" {
		return input.Errorf("pin", "use %d to %d digits", p.MinLength, maxPINLength)
	}
	if repeats(pin, 1) || repeats(pin, 2) {
		return input.Errorf("pin", "too easy to guess: a repeated digit or pattern")
	}
	if run(pin, 1) || run(pin, -1) {
		return input.Errorf("pin", "too easy to guess: digits in a row")
	}
	if national := "0" + strings.TrimPrefix(phone, "+46"); phone != "" && (strings.Contains(phone, pin) || strings.Contains(national, pin)) {
		return input.Errorf("pin", "must not be part of your phone number")
	}
	return nil
}

func repeats(pin string, period int) bool {
	for i := period; i < len(pin); i++ {
		if pin[i] != pin[i-period] {
			return false
		}
	}
	return true
}

func run(pin string, step int) bool {
	for i := 1; i < len(pin); i++ {
		if (int(pin[i]-'0')-int(pin[i-1]-'0')+10)%10 != (step+10)%10 {
			return false
		}
	}
	return true
}

const bucketPINs = "roster.pins"

func getPIN(tx *bolt.Tx, id string, st *pinState) error {
	*st = pinState{}
	_, err := storage.Get(tx.Bucket([]byte(bucketPINs)), []byte(id), st)
	return err
}

func putPIN(tx *bolt.Tx, id string, st pinState) error {
	return storage.Put(tx.Bucket([]byte(bucketPINs)), []byte(id), st)
}

// pinView is what the API may show of a PIN: never the hash.
func pinView(st pinState, now time.Time) (set bool, locked error) {
	return st.Hash != "", lockedNow(st, now)
}
