package line

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/audit"
	"github.com/peerline/peerline/internal/input"
	"github.com/peerline/peerline/internal/storage"
	bolt "go.etcd.io/bbolt"
)

// ErrNoCall is a call record that does not exist on the line.
var ErrNoCall = errors.New("no such call")

// WrapupOpen reports whether rec, a call of l, is answered and its wrap-up
// not filled in (the agent hung up first, or 46elks ended the agent's leg):
// the office may fill it in (FillWrapup).
func (l *Line) WrapupOpen(rec Record) bool {
	return len(l.Config.Wrapup.Questions) > 0 && rec.Outcome == OutcomeAnswered && (rec.Wrapup == nil || !rec.Wrapup.Filled)
}

// FillWrapup fills in the wrap-up of an answered call that has none: its
// agent could not answer the questions by phone (46elks ends the agent's leg
// with the call; an agent who hung up at once). The office enters the
// agent's answers on Samtal. answers maps a question's id to the stored
// answer; a question left out keeps what the agent answered by phone, if
// anything. A follow-up answer opens an incident, as by phone.
func (ls *Lines) FillWrapup(ctx context.Context, lineID, callID string, start time.Time, answers map[string]string) (Record, error) {
	l, err := ls.Get(lineID)
	if err != nil {
		return Record{}, err
	}
	for id, a := range answers {
		i := slices.IndexFunc(l.Config.Wrapup.Questions, func(q config.Question) bool { return q.ID == id })
		switch {
		case i < 0:
			return Record{}, input.Errorf(id, "no such question")
		case a != "" && !l.Config.Wrapup.Questions[i].HasAnswer(a):
			return Record{}, input.Errorf(id, "%q is no answer to this question", a)
		}
	}
	var rec Record
	err = ls.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketCalls))
		key := recordKey(Record{ID: callID, Start: start.UTC()})
		ok, err := storage.Get(b, key, &rec)
		switch {
		case err != nil:
			return err
		case !ok || rec.Line != lineID:
			return ErrNoCall
		case !l.WrapupOpen(rec):
			return input.Errorf("call", "only an answered call whose wrap-up is not filled in can have it filled in")
		}
		w := &Wrapup{Answers: map[string]string{}, Filled: true}
		if rec.Wrapup != nil { // what the agent answered by phone before the call was cut stays
			maps.Copy(w.Answers, rec.Wrapup.Answers)
		}
		for id, a := range answers {
			if a != "" {
				w.Answers[id] = a
			}
		}
		rec.Wrapup = w
		fillReferred(l, &rec)
		if err := storage.Put(b, key, rec); err != nil {
			return err
		}
		if err := openIncidentTx(tx, l, &rec); err != nil {
			return err
		}
		return audit.Record(ctx, tx, ls.clock.Now().UTC(), "call.wrapup", "call/"+callID, map[string]any{"agent": rec.Agent})
	})
	return rec, err
}
