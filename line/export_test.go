package line

import (
	"time"

	"github.com/peerline/peerline/internal/storage"
	bolt "go.etcd.io/bbolt"
)

// SetActivity lets tests put an agent in an activity the flows reach later (wrap-up).
func (ls *Lines) SetActivity(agent string, a Activity) { ls.setActivity(agent, a) }

// Callbacks is how many agents' last callers peerline still remembers.
func (ls *Lines) Callbacks() int {
	ls.callbacks.mu.Lock()
	defer ls.callbacks.mu.Unlock()
	return len(ls.callbacks.last)
}

// SaveRecords stores records as the flows would, for the statistics tests.
func (ls *Lines) SaveRecords(recs ...Record) error {
	for _, r := range recs {
		err := ls.db.Update(func(tx *bolt.Tx) error {
			return storage.Put(tx.Bucket([]byte(bucketCalls)), recordKey(r), r)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Finish ends rec as the flows do at a call's end (its record, an incident).
func (ls *Lines) Finish(rec Record) error { return ls.finish(&rec) }

// StoredOpen reports whether call id is stored as in progress, and since when
// it is bridged (zero: not bridged).
func (ls *Lines) StoredOpen(id string) (ok bool, bridged time.Time) {
	ls.db.View(func(tx *bolt.Tx) error {
		var o openCall
		if found, err := storage.Get(tx.Bucket([]byte(bucketOpenCalls)), []byte(id), &o); found && err == nil {
			ok, bridged = true, o.Bridged
		}
		return nil
	})
	return ok, bridged
}
