package line

import (
	"context"
	"errors"
	"time"

	"github.com/peerline/peerline/internal/storage"
	"github.com/robfig/cron/v3"
	bolt "go.etcd.io/bbolt"
)

// A call's record is written when the call starts, into the bucket of calls in
// progress, and moved to the call records when it ends; a crash leaves it there,
// and the next start closes it as interrupted. Either way no call is lost.
const (
	bucketOpenCalls = "line.calls.open" // id -> openCall
	bucketMeta      = "line.meta"
	keyAlive        = "alive" // when peerline last said it was running
)

// aliveEvery is how often a running peerline notes the time, so that a call a
// crash interrupted ends, in its record, no later than this after it really did.
const aliveEvery = 30 * time.Second

// EndedInterrupted is how a bridged call ended that peerline could not end
// itself: it was killed or crashed during the call (Record.Ended).
const EndedInterrupted = "interrupted"

// openCall is a call in progress as stored: its record so far, and since when
// it is bridged.
type openCall struct {
	Record
	Bridged time.Time `json:"bridged,omitzero"`
}

// beginAsync stores rec as a call in progress while the call goes on: a
// caller's greeting (or an agent's INVITE) need not wait for a group commit
// (up to 40 ms, and the disk's sync). Every later write of the call's record
// waits for it first (began), so the record's writes stay in order; a failure
// surfaces there.
func (ls *Lines) beginAsync(rec *Record) {
	o := openCall{Record: *rec}
	rec.began = make(chan error, 1)
	go func() { rec.began <- ls.putOpen(o) }()
}

// began waits for rec's start to be stored, if beginAsync stored it.
func (ls *Lines) began(rec *Record) error {
	if rec.began == nil {
		return nil
	}
	err := <-rec.began
	rec.began = nil
	return err
}

// bridged notes that rec's call is bridged since at, with its agent and wait.
func (ls *Lines) bridged(rec *Record, at time.Time) error {
	if err := ls.began(rec); err != nil {
		return err
	}
	return ls.putOpen(openCall{Record: *rec, Bridged: at.UTC()})
}

// The writes of a call's record go through db.Batch: calls starting and ending
// at once share one commit (one fsync) instead of each paying its own, and each
// still returns only once its write is durable. A batch may run a function
// twice, so each is idempotent (a Put or Delete of the call's own keys).
func (ls *Lines) putOpen(o openCall) error {
	return ls.db.Batch(func(tx *bolt.Tx) error {
		return storage.Put(tx.Bucket([]byte(bucketOpenCalls)), []byte(o.ID), o)
	})
}

// discard forgets rec's call in progress: it was no caller's call after all.
func (ls *Lines) discard(rec *Record) error {
	if err := ls.began(rec); err != nil {
		return err
	}
	return ls.db.Batch(func(tx *bolt.Tx) error { return tx.Bucket([]byte(bucketOpenCalls)).Delete([]byte(rec.ID)) })
}

// finish ends rec now and moves it from the calls in progress to the records.
func (ls *Lines) finish(rec *Record) error {
	rec.End = ls.clock.Now().UTC() // not after the wait for the start's commit
	rec.Seconds = rec.End.Sub(rec.Start).Seconds()
	if err := ls.began(rec); err != nil {
		return err
	}
	l, _ := ls.Get(rec.Line)
	return ls.db.Batch(func(tx *bolt.Tx) error {
		if err := tx.Bucket([]byte(bucketOpenCalls)).Delete([]byte(rec.ID)); err != nil {
			return err
		}
		if l != nil {
			if err := openIncidentTx(tx, l, rec); err != nil {
				return err
			}
		}
		return storage.Put(tx.Bucket([]byte(bucketCalls)), recordKey(*rec), *rec)
	})
}

// CloseInterrupted ends the calls a previous run left in progress (it was
// killed or crashed): each becomes a record that ended when that run was last
// known to be alive. A bridged call stays answered, with its talk time so far
// and ended "interrupted"; any other is OutcomeInterrupted. It returns how many.
func (ls *Lines) CloseInterrupted() (int, error) {
	now := ls.clock.Now().UTC()
	n := 0
	err := ls.db.Update(func(tx *bolt.Tx) error {
		var alive time.Time
		storage.Get(tx.Bucket([]byte(bucketMeta)), []byte(keyAlive), &alive)
		open := tx.Bucket([]byte(bucketOpenCalls))
		var recs []Record
		err := open.ForEach(func(_, v []byte) error {
			var o openCall
			if err := storage.Decode(v, &o); err != nil {
				return err
			}
			recs = append(recs, interrupted(o, alive, now))
			return nil
		})
		for _, r := range recs { // not inside ForEach: it may not change the bucket it walks
			if err == nil {
				err = errors.Join(open.Delete([]byte(r.ID)), storage.Put(tx.Bucket([]byte(bucketCalls)), recordKey(r), r))
			}
		}
		n = len(recs)
		return err
	})
	return n, err
}

// interrupted is the record of an open call whose run was last alive at alive.
func interrupted(o openCall, alive, now time.Time) Record {
	r := o.Record
	r.End = r.Start
	if alive.After(r.Start) {
		r.End = alive
	}
	if r.End.After(now) {
		r.End = now
	}
	r.Seconds = r.End.Sub(r.Start).Seconds()
	if o.Bridged.IsZero() {
		r.Outcome = OutcomeInterrupted
		r.Wait = r.Seconds
		return r
	}
	r.Outcome, r.Ended = OutcomeAnswered, EndedInterrupted
	r.Talk = max(0, r.End.Sub(o.Bridged).Seconds())
	return r
}

// RunAlive notes the time now and every aliveEvery until ctx ends, for
// CloseInterrupted. It does not block: the notes run on the clock.
func (ls *Lines) RunAlive(ctx context.Context, onError func(error)) {
	note := func() {
		err := ls.db.Update(func(tx *bolt.Tx) error {
			return storage.Put(tx.Bucket([]byte(bucketMeta)), []byte(keyAlive), ls.clock.Now().UTC())
		})
		if err != nil && onError != nil {
			onError(err)
		}
	}
	note()
	j := &job{ctx: ctx, sched: cron.Every(aliveEvery), run: note}
	j.arm(ls.clock)
	context.AfterFunc(ctx, j.stop)
}
