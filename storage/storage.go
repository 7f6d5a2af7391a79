// Package storage opens peerline's single bbolt file and holds the small helpers
// every package's store uses for its own buckets.
package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// FileName is the database's name inside the data directory.
const FileName = "peerline.db"

// ErrLocked means another process holds the database.
var ErrLocked = errors.New("database is in use by another peerline process")

// version is the first byte of every stored JSON value, so a later format can be told apart.
const version = 1

// Open opens (creating when missing) the database in dir, waiting at most timeout
// for another process to let go of it.
func Open(dir string, timeout time.Duration) (*bolt.DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("storage: data directory: %w", err)
	}
	path := filepath.Join(dir, FileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("storage: %s: %w (stop it first, or use another data_dir)", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	return db, nil
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
