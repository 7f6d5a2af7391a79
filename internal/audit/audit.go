// Package audit is the append-only log of every change: who, when, what, from where.
// Changes record their entry in the same bbolt transaction as the change itself, so
// there is never a change without its entry. Entries never hold PINs, passwords or
// caller numbers.
package audit

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/peerline/peerline/internal/storage"
	bolt "go.etcd.io/bbolt"
)

const bucket = "audit"

// Actor is who made a change.
type Actor struct {
	Kind   string `json:"kind"` // token, user, agent, cli, system
	Name   string `json:"name"`
	Remote string `json:"remote,omitempty"` // client address, for changes over HTTP
}

// System is the actor of peerline's own jobs.
var System = Actor{Kind: "system", Name: "peerline"}

type actorKey struct{}

// WithActor returns a context that carries the actor of the changes made with it.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the context's actor, System when there is none.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return System
}

// Entry is one change.
type Entry struct {
	ID     uint64         `json:"id"`
	Time   time.Time      `json:"time"`
	Actor  Actor          `json:"actor"`
	Action string         `json:"action"` // e.g. line.close
	Target string         `json:"target"` // e.g. line/peer
	Detail map[string]any `json:"detail,omitempty"`
}

// Log reads the audit log.
type Log struct{ db *bolt.DB }

// Open creates the audit bucket if needed.
func Open(db *bolt.DB) (*Log, error) {
	if err := storage.Buckets(db, bucket); err != nil {
		return nil, err
	}
	return &Log{db: db}, nil
}

// Record appends an entry inside tx, with the actor from ctx.
func Record(ctx context.Context, tx *bolt.Tx, now time.Time, action, target string, detail map[string]any) error {
	b := tx.Bucket([]byte(bucket))
	id, err := b.NextSequence()
	if err != nil {
		return err
	}
	e := Entry{ID: id, Time: now.UTC(), Actor: ActorFrom(ctx), Action: action, Target: target, Detail: detail}
	return storage.Put(b, key(id), e)
}

// List returns up to limit entries older than before (0: the newest), newest first.
func (l *Log) List(before uint64, limit int) ([]Entry, error) {
	out := []Entry{}
	err := l.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(bucket)).Cursor()
		k, v := c.Last()
		if before > 0 {
			c.Seek(key(before))
			k, v = c.Prev()
		}
		for ; k != nil && len(out) < limit; k, v = c.Prev() {
			var e Entry
			if err := storage.Decode(v, &e); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

func key(id uint64) []byte { return binary.BigEndian.AppendUint64(nil, id) }
