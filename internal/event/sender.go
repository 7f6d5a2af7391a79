package event

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/clock"
	"github.com/peerline/peerline/internal/storage"
	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"
)

// Retry policy: exponential backoff from firstRetry up to maxBackoff, for at most giveUpAfter.
const (
	firstRetry  = 10 * time.Second
	maxBackoff  = time.Hour
	giveUpAfter = 24 * time.Hour
	sendTimeout = 10 * time.Second
)

var errUnknownReceiver = errors.New("receiver not configured")

// Sign is the X-Peerline-Signature value for body: "sha256=" and the hex HMAC.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Sender delivers the outbox. Attempts are made when an event is emitted and when a
// retry falls due on the clock.
type Sender struct {
	db      *bolt.DB
	clock   clock.Clock
	secrets map[string]string // url -> secret
	client  *http.Client
	log     zerolog.Logger

	loop *clock.Loop
}

// NewSender returns a sender for the emitter's outbox and wires the emitter to wake it.
func NewSender(db *bolt.DB, c clock.Clock, em *Emitter, hooks []config.Webhook, log zerolog.Logger) *Sender {
	s := &Sender{db: db, clock: c, secrets: map[string]string{}, client: &http.Client{Timeout: sendTimeout},
		log: log.With().Str("component", "webhooks").Logger(), loop: clock.NewLoop(c)}
	for _, h := range hooks {
		s.secrets[h.URL] = h.Secret
	}
	em.wake = s.Kick
	return s
}

// Kick asks the sender to look at the outbox now.
func (s *Sender) Kick() { s.loop.Kick() }

// Run delivers until ctx ends. It starts with whatever the outbox held at start-up.
func (s *Sender) Run(ctx context.Context) { s.loop.Run(ctx, s.flush) }

// flush tries every due delivery once and says when the earliest later one is due.
func (s *Sender) flush(ctx context.Context) time.Time {
	now := s.clock.Now()
	var next time.Time
	for _, k := range s.dueKeys(now, &next) {
		if ctx.Err() != nil {
			return time.Time{}
		}
		s.attempt(ctx, k, now, &next)
	}
	return next
}

func (s *Sender) dueKeys(now time.Time, next *time.Time) [][]byte {
	var keys [][]byte
	s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucket)).ForEach(func(k, v []byte) error {
			var d delivery
			if storage.Decode(v, &d) != nil {
				return nil
			}
			if d.Next.After(now) {
				clock.Earliest(next, d.Next)
			} else {
				keys = append(keys, append([]byte(nil), k...))
			}
			return nil
		})
	})
	return keys
}

// attempt sends one delivery and records the outcome: gone when delivered or too
// old, otherwise rescheduled with backoff.
func (s *Sender) attempt(ctx context.Context, key []byte, now time.Time, next *time.Time) {
	var d delivery
	if err := s.db.View(func(tx *bolt.Tx) error {
		ok, err := storage.Get(tx.Bucket([]byte(bucket)), key, &d)
		if !ok && err == nil {
			err = fmt.Errorf("gone")
		}
		return err
	}); err != nil {
		return
	}
	log := s.log.With().Str("event", d.Event.Type).Str("id", d.Event.ID).Str("url", d.URL).Logger()
	_, known := s.secrets[d.URL]
	err := errUnknownReceiver
	if known {
		err = s.post(ctx, d)
	}
	s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		d.Attempts++
		switch {
		case !known:
			log.Warn().Msg("webhook dropped: the receiver is no longer configured")
			return b.Delete(key)
		case err == nil:
			log.Info().Int("attempts", d.Attempts).Msg("webhook delivered")
			return b.Delete(key)
		case now.Sub(d.Event.Time) >= giveUpAfter:
			log.Error().Err(err).Int("attempts", d.Attempts).Msg("webhook given up after 24h")
			return b.Delete(key)
		}
		d.Next = now.Add(backoff(d.Attempts))
		clock.Earliest(next, d.Next)
		log.Warn().Err(err).Int("attempts", d.Attempts).Time("retry", d.Next).Msg("webhook failed")
		return storage.Put(b, key, d)
	})
}

// backoff is the wait after the n-th failed attempt.
func backoff(n int) time.Duration {
	d := firstRetry
	for i := 1; i < n && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

func (s *Sender) post(ctx context.Context, d delivery) error {
	body, err := json.Marshal(d.Event)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "peerline")
	req.Header.Set("X-Peerline-Event", d.Event.Type)
	req.Header.Set("X-Peerline-Delivery", d.Event.ID)
	req.Header.Set("X-Peerline-Signature", Sign(s.secrets[d.URL], body))
	res, err := s.client.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("receiver answered %s", res.Status)
	}
	return nil
}

// Pending counts the deliveries still in the outbox.
func (s *Sender) Pending() int {
	n := 0
	s.db.View(func(tx *bolt.Tx) error { n = tx.Bucket([]byte(bucket)).Stats().KeyN; return nil })
	return n
}
