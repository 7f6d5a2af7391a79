package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/audit"
	"github.com/peerline/peerline/internal/clock"
	"github.com/peerline/peerline/internal/storage"
	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"
)

// keep is how long sent and failed messages stay listed for the office.
const keep = 30 * 24 * time.Hour

// Sender delivers the outbox: each pending message once it is due, again
// after a failure with a growing pause (5 s doubling to an hour: a server
// down for a day is asked 30-odd times, not thousands), and SMS that are not
// urgent only outside quiet hours. A message is marked sent in the database
// after its channel accepted it; a crash between the two sends it again.
type Sender struct {
	db       *bolt.DB
	clock    clock.Clock
	channels map[string]Channel
	quiet    config.QuietHours
	loc      *time.Location
	log      zerolog.Logger
	loop     *clock.Loop
}

// NewSender delivers p's messages through channels (by Email and SMS; a
// missing one leaves its messages pending). Quiet hours are in loc.
func NewSender(db *bolt.DB, c clock.Clock, p *Planner, channels map[string]Channel, loc *time.Location, log zerolog.Logger) *Sender {
	s := &Sender{db: db, clock: c, channels: channels, quiet: p.cfg.QuietHours, loc: loc,
		log: log.With().Str("component", "notify").Logger(), loop: clock.NewLoop(c)}
	p.wake = s.Kick
	return s
}

// Kick asks the sender to look at the outbox now.
func (s *Sender) Kick() { s.loop.Kick() }

// Run delivers until ctx ends, starting with what the outbox held at start-up.
func (s *Sender) Run(ctx context.Context) { s.loop.Run(ctx, s.flush) }

// flush tries each due message once and says when the next one is due.
func (s *Sender) flush(ctx context.Context) time.Time {
	now := s.clock.Now()
	var next time.Time
	due, err := s.due(now, &next)
	if err != nil {
		s.log.Error().Err(err).Msg("reading the outbox")
	}
	for _, m := range due {
		if ctx.Err() != nil {
			return time.Time{}
		}
		if at := s.held(m, now); !at.IsZero() {
			s.update(m.key, func(m *Message) { m.Next = at })
			clock.Earliest(&next, at)
			continue
		}
		if at := s.attempt(ctx, m, now); !at.IsZero() {
			clock.Earliest(&next, at)
		}
	}
	return next
}

// due lists the pending messages due at now, noting when the next one is,
// and forgets messages done long ago.
func (s *Sender) due(now time.Time, next *time.Time) ([]Message, error) {
	var out []Message
	var stale [][]byte
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucket)).ForEach(func(k, v []byte) error {
			var m Message
			if storage.Decode(v, &m) != nil {
				return nil
			}
			switch {
			case m.Status != Pending && now.Sub(m.Created) > keep:
				stale = append(stale, append([]byte(nil), k...))
			case m.Status != Pending:
			case m.Next.After(now):
				clock.Earliest(next, m.Next)
			default:
				m.key = append([]byte(nil), k...)
				out = append(out, m)
			}
			return nil
		})
	})
	if err != nil || len(stale) == 0 {
		return out, err
	}
	// A write (and its sync) only when there is something to forget.
	return out, s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		for _, k := range stale {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// held is when m may go if quiet hours hold it now (zero: it may go now).
func (s *Sender) held(m Message, now time.Time) time.Time {
	if m.Channel != SMS || m.Urgent {
		return time.Time{}
	}
	return quietUntil(s.quiet, now.In(s.loc))
}

// quietUntil is the end of the quiet hours now is in, or zero outside them.
func quietUntil(q config.QuietHours, now time.Time) time.Time {
	from, to := q.From.Hour*60+q.From.Minute, q.To.Hour*60+q.To.Minute
	if from == to {
		return time.Time{}
	}
	min := now.Hour()*60 + now.Minute()
	in := from < to && min >= from && min < to || from > to && (min >= from || min < to)
	if !in {
		return time.Time{}
	}
	end := time.Date(now.Year(), now.Month(), now.Day(), q.To.Hour, q.To.Minute, 0, 0, now.Location())
	if !end.After(now) {
		end = end.AddDate(0, 0, 1)
	}
	return end
}

// attempt delivers m once and records how it went; it returns when m is due
// again (zero when it is done).
func (s *Sender) attempt(ctx context.Context, m Message, now time.Time) time.Time {
	ch := s.channels[m.Channel]
	var err error
	if ch == nil {
		err = fmt.Errorf("notify.%s is not configured", m.Channel)
	} else {
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		err = ch.Send(sctx, m)
		cancel()
	}
	var next time.Time
	s.update(m.key, func(m *Message) {
		m.Attempts++
		switch {
		case err == nil:
			t := s.clock.Now().UTC()
			m.Status, m.Sent, m.Error = Sent, &t, ""
		case errors.Is(err, ErrPermanent):
			m.Status, m.Error = Failed, err.Error()
		default:
			m.Error, m.Next = err.Error(), now.Add(backoff(m.Attempts))
			next = m.Next
		}
	})
	switch {
	case err == nil:
		s.log.Info().Str("id", m.ID).Str("event", m.Event).Str("channel", m.Channel).Str("to", m.ToName).Msg("message sent")
	case errors.Is(err, ErrPermanent):
		s.log.Error().Err(err).Str("id", m.ID).Str("channel", m.Channel).Str("to", m.ToName).Msg("message failed for good; an admin may resend it")
	default:
		s.log.Warn().Err(err).Str("id", m.ID).Str("channel", m.Channel).Str("to", m.ToName).Int("attempt", m.Attempts+1).
			Time("next", next).Msg("message not delivered; retrying")
	}
	return next
}

// update changes the stored message at key.
func (s *Sender) update(key []byte, change func(*Message)) {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		var m Message
		if ok, err := storage.Get(b, key, &m); err != nil || !ok {
			return err
		}
		change(&m)
		return storage.Put(b, key, m)
	})
	if err != nil {
		s.log.Error().Err(err).Msg("updating the outbox")
	}
}

func backoff(attempts int) time.Duration {
	d := 5 * time.Second << min(attempts-1, 10)
	return min(d, time.Hour)
}

// Messages lists the outbox, newest first (at most limit).
func Messages(db *bolt.DB, limit int) ([]Message, error) {
	out := []Message{}
	err := db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(bucket)).Cursor()
		for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
			var m Message
			if storage.Decode(v, &m) == nil {
				out = append(out, m)
			}
		}
		return nil
	})
	return out, err
}

// ErrNoMessage means no message has the id.
var ErrNoMessage = errors.New("no such message")

// Resend makes a message pending again, due at once (audited with ctx's actor).
func Resend(ctx context.Context, db *bolt.DB, id string, now time.Time) error {
	return db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		c := b.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var m Message
			if storage.Decode(v, &m) != nil || m.ID != id {
				continue
			}
			m.Status, m.Next, m.Attempts, m.Error, m.Sent = Pending, now, 0, "", nil
			if err := storage.Put(b, k, m); err != nil {
				return err
			}
			return audit.Record(ctx, tx, now, "notification.resend", "notification/"+id, map[string]any{"event": m.Event, "channel": m.Channel})
		}
		return ErrNoMessage
	})
}
