package line

import (
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
