// Package event is peerline's outgoing notifications: events are written to a
// persistent outbox inside the transaction of the change that caused them, and a
// sender POSTs them to the configured webhooks, signed with HMAC-SHA256, retrying
// with backoff. No event is lost across a restart. Events never carry caller numbers.
package event

import (
	"encoding/binary"
	"encoding/json"
	"path"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/randid"
	"github.com/peerline/peerline/internal/storage"
	bolt "go.etcd.io/bbolt"
)

// Event is one notification as receivers get it.
type Event struct {
	ID   string          `json:"id"` // receivers dedupe by it
	Type string          `json:"type"`
	Time time.Time       `json:"time"`
	Line string          `json:"line,omitempty"`
	Data json.RawMessage `json:"data,omitempty"` // a Data of the type's; see Payload
}

const bucket = "event.outbox"

// delivery is one event waiting for one receiver.
type delivery struct {
	Event    Event     `json:"event"`
	URL      string    `json:"url"`
	Attempts int       `json:"attempts"`
	Next     time.Time `json:"next"`
}

// Emitter writes events into the outbox; it is what other packages hold.
type Emitter struct {
	hooks []config.Webhook
	sinks []Sink
	wake  func() // tells the sender there is work; nil until a sender runs
}

// A Sink takes each event inside its transaction, beside the webhooks'
// outbox: notifications to people are planned there (notify.Planner).
type Sink interface {
	Plan(tx *bolt.Tx, e Event) error
}

// AddSink makes s take every event from now on; call it before events flow.
func (em *Emitter) AddSink(s Sink) { em.sinks = append(em.sinks, s) }

// NewEmitter creates the outbox bucket and returns an emitter for hooks.
func NewEmitter(db *bolt.DB, hooks []config.Webhook) (*Emitter, error) {
	if err := storage.Buckets(db, bucket); err != nil {
		return nil, err
	}
	return &Emitter{hooks: hooks}, nil
}

// Emit puts an event of d into the outbox inside tx, once per receiver that
// wants its type. The sender is woken when tx commits.
func (em *Emitter) Emit(tx *bolt.Tx, now time.Time, line string, d Data) error {
	typ := d.Type()
	data, err := json.Marshal(d)
	if err != nil {
		return err
	}
	e := Event{ID: randid.Hex(16), Type: typ, Time: now.UTC(), Line: line, Data: data}
	b := tx.Bucket([]byte(bucket))
	for _, h := range em.hooks {
		if !wants(h, typ) {
			continue
		}
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		if err := storage.Put(b, binary.BigEndian.AppendUint64(nil, seq), delivery{Event: e, URL: h.URL, Next: e.Time}); err != nil {
			return err
		}
	}
	for _, s := range em.sinks {
		if err := s.Plan(tx, e); err != nil {
			return err
		}
	}
	if em.wake != nil {
		tx.OnCommit(em.wake)
	}
	return nil
}

// wants reports whether h subscribes to typ: "*", the exact type, or a pattern like "line.*".
func wants(h config.Webhook, typ string) bool {
	if len(h.Events) == 0 {
		return true
	}
	for _, p := range h.Events {
		if ok, _ := path.Match(p, typ); ok || p == "*" {
			return true
		}
	}
	return false
}
