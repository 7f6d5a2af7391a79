// Package storage opens peerline's single bbolt file and holds the small helpers
// every package's store uses for its own buckets.
package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
)

// FileName is the database's name inside the data directory.
const FileName = "peerline.db"

// ErrLocked means another process holds the database.
var ErrLocked = errors.New("database is in use by another peerline process")

// ErrDamaged means the database file is not a whole, consistent bbolt file.
var ErrDamaged = errors.New("the database file is damaged")

// version is the first byte of every stored JSON value, so a later format can be told apart.
const version = 1

// Open opens (creating when missing) the database in dir, waiting at most timeout
// for another process to let go of it.
func Open(dir string, timeout time.Duration) (*bolt.DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("storage: data directory: %w", err)
	}
	path := filepath.Join(dir, FileName)
	if fi, err := os.Stat(path); err == nil && fi.Size() == 0 {
		return nil, fmt.Errorf("storage: open %s: %w", path, damaged(path, "it is empty (0 bytes)"))
	}
	db, err := openChecked(path, timeout, false)
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("storage: %s: %w (stop it first, or use another data_dir)", path, ErrLocked)
	}
	if err != nil && !errors.Is(err, ErrDamaged) && !errors.Is(err, os.ErrPermission) && !errors.Is(err, os.ErrNotExist) {
		err = damaged(path, err.Error()) // bbolt's own: invalid, version mismatch, checksum
	}
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	if err := stamp(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("storage: %s: %w", path, err)
	}
	return db, nil
}

// damaged is the one clear error for a damaged file: what is wrong and what to do.
func damaged(path, what string) error {
	return fmt.Errorf("%w: %s. Nothing was changed. Stop peerline, move %s aside and put the last backup in its place "+
		"(or start on an empty data_dir to begin without the old data)", ErrDamaged, what, path)
}

// openChecked opens the file and runs bbolt's consistency check on it. A file
// cut short or overwritten makes bbolt fault or panic while it reads the pages
// it maps: both are turned into ErrDamaged instead of a crash.
func openChecked(path string, timeout time.Duration, readOnly bool) (db *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if db != nil {
				closeQuietly(db)
			}
			db, err = nil, damaged(path, fmt.Sprint(r))
		}
	}()
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, ReadOnly: readOnly})
	if err != nil {
		return nil, err
	}
	var first error
	db.View(func(tx *bolt.Tx) error {
		// A file cut short would fault in the checker's goroutine, beyond recovery.
		if fi, err := os.Stat(path); err == nil && fi.Size() < tx.Size() {
			first = fmt.Errorf("it is cut short: %d bytes of the %d its header says", fi.Size(), tx.Size())
			return nil
		}
		for e := range tx.Check() { // read to the end: the checker stops only then
			if first == nil {
				first = e
			}
		}
		return nil
	})
	if first != nil {
		db.Close()
		return nil, damaged(path, first.Error())
	}
	// Calls' records are group-committed (db.Batch): a write waits at most this
	// long for others to share its commit (batchDelay).
	db.MaxBatchDelay = batchDelay
	return db, nil
}

// batchDelay is how long a batched write waits for company. At 50 calls a
// second, 2 ms left most commits alone (4,610 fdatasync per 1,000 calls), 10 ms
// shared them (3,085) and 40 ms shares them more (920; one commit per call was
// 10,310). Each fdatasync blocks a thread, which the Go scheduler pays for in
// wakeups: CPU per call fell from about 2.1 to 1.5–2.0 times Kamailio's. No
// caller waits for it: the start record is written while the call goes on, and
// the others come after the bridge and at the end.
const batchDelay = 40 * time.Millisecond

// closeQuietly closes a database whose pages may fault.
func closeQuietly(db *bolt.DB) {
	defer func() { recover() }()
	db.Close()
}

// Buckets creates the named buckets if they are missing.
func Buckets(db *bolt.DB, names ...string) error {
	return db.Update(func(tx *bolt.Tx) error {
		for _, n := range names {
			if _, err := tx.CreateBucketIfNotExists([]byte(n)); err != nil {
				return fmt.Errorf("storage: bucket %s: %w", n, err)
			}
		}
		return nil
	})
}

// Put stores v as versioned JSON under key.
func Put(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, append([]byte{version}, data...))
}

// Get loads the versioned JSON under key into v; false when there is none.
func Get(b *bolt.Bucket, key []byte, v any) (bool, error) {
	data := b.Get(key)
	if data == nil {
		return false, nil
	}
	return true, Decode(data, v)
}

// Decode reads a value written by Put.
func Decode(data []byte, v any) error {
	if len(data) == 0 || data[0] != version {
		return fmt.Errorf("storage: value of unknown version")
	}
	return json.Unmarshal(data[1:], v)
}
