package line

import (
	"time"

	"github.com/peerline/peerline/internal/event"
	"github.com/peerline/peerline/internal/storage"
	bolt "go.etcd.io/bbolt"
)

// summarize sends line.day_summary once a service day has reached its closing
// time: at the closing edge, or at the next start when peerline was stopped
// then. The date summarized last is kept, so each day is summarized once.
func (ls *Lines) summarize(l *Line, now time.Time) error {
	cal := l.Calendar
	d := cal.Date(now)
	if ok, _, _ := cal.ServiceDay(d); !ok || now.Before(cal.ClosesAt(d)) {
		return nil
	}
	key := []byte("summary/" + l.Config.ID)
	var last string
	if err := ls.db.View(func(tx *bolt.Tx) error {
		_, err := storage.Get(tx.Bucket([]byte(bucketMeta)), key, &last)
		return err
	}); err != nil || last >= d.String() {
		return err
	}
	st, err := ls.Stats(l.Config.ID, d, d, "day")
	if err != nil {
		return err
	}
	f := st.Total
	return ls.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketMeta))
		if _, err := storage.Get(b, key, &last); err != nil || last >= d.String() {
			return err // another run got here first
		}
		if err := storage.Put(b, key, d.String()); err != nil {
			return err
		}
		return ls.emit(tx, now, l.Config.ID, event.Summary{Date: d.String(), Calls: f.Calls, Answered: f.Answered,
			Missed: f.Missed, Closed: f.Closed, Flagged: f.Flagged, LimitHits: f.LimitHits, Callbacks: f.Callbacks,
			TalkMean: f.Talk.Mean, Wrapup: f.Wrapup})
	})
}
