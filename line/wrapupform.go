package line

import (
	"context"
	"errors"
	"maps"
	"time"

	"github.com/peerline/peerline/internal/audit"
	"github.com/peerline/peerline/internal/input"
	"github.com/peerline/peerline/internal/storage"
	bolt "go.etcd.io/bbolt"
)

// ErrNoCall is a call record that does not exist on the line.
var ErrNoCall = errors.New("no such call")

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
	questions := map[string]map[string]bool{}
	for _, q := range l.Config.Wrapup.Questions {
		questions[q.ID] = map[string]bool{}
		for _, a := range q.Answers {
			questions[q.ID][a] = true
		}
	}
	for id, a := range answers {
		switch {
		case questions[id] == nil:
			return Record{}, input.Errorf(id, "no such question")
		case a != "" && !questions[id][a]:
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
		case rec.Outcome != OutcomeAnswered:
			return input.Errorf("call", "only an answered call has a wrap-up")
		case rec.Wrapup != nil && rec.Wrapup.Filled:
			return input.Errorf("call", "the wrap-up is filled in already")
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
