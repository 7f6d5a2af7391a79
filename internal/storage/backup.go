package storage

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Schema is the version of the database's layout this peerline writes; a
// database of a later one is refused rather than misread.
const Schema = 1

const (
	bucketMeta = "peerline"
	keySchema  = "schema"
	auditName  = "audit" // every peerline database has it: the audit log's bucket
)

// ErrNotPeerline means a file is a bbolt database but not peerline's.
var ErrNotPeerline = errors.New("not a peerline database")

// ErrNewerSchema means a database was written by a later peerline.
var ErrNewerSchema = errors.New("written by a newer peerline")

// stamp records the schema in a database that has none (a new one, or one
// from before it was recorded) and refuses one of a later schema.
func stamp(db *bolt.DB) error {
	return db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(bucketMeta))
		if err != nil {
			return err
		}
		if v := b.Get([]byte(keySchema)); v != nil {
			return checkSchema(v)
		}
		return b.Put([]byte(keySchema), []byte(strconv.Itoa(Schema)))
	})
}

func checkSchema(v []byte) error {
	n, err := strconv.Atoi(string(v))
	if err != nil {
		return fmt.Errorf("%w: its schema is %q", ErrNotPeerline, v)
	}
	if n > Schema {
		return fmt.Errorf("%w (schema %d; this peerline knows up to %d): upgrade peerline first", ErrNewerSchema, n, Schema)
	}
	return nil
}

// WriteBackup writes a consistent copy of db to w while it is in use (one
// read transaction: writers go on meanwhile).
func WriteBackup(db *bolt.DB, w io.Writer) error {
	return db.View(func(tx *bolt.Tx) error {
		_, err := tx.WriteTo(w)
		return err
	})
}

// CheckBackup tells whether file is a whole peerline database this peerline
// can use: bbolt's consistency check, then the schema (or, in a database from
// before the schema was recorded, the audit log's bucket).
func CheckBackup(file string) error {
	fi, err := os.Stat(file)
	if err != nil {
		return err
	}
	if fi.Size() == 0 {
		return fmt.Errorf("%s: %w: it is empty", file, ErrDamaged)
	}
	db, err := openChecked(file, time.Second, true)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket([]byte(bucketMeta)); b != nil {
			if v := b.Get([]byte(keySchema)); v != nil {
				return checkSchema(v)
			}
		}
		if tx.Bucket([]byte(auditName)) == nil {
			return fmt.Errorf("%s: %w (it has none of peerline's buckets)", file, ErrNotPeerline)
		}
		return nil
	})
}

// Restore puts backup file in place of the database in dir, after checking
// it, and keeps the database it replaces beside it; it returns that file's
// name ("" when there was none). Nothing is replaced when the check fails or
// a process holds the database.
func Restore(dir, file string, now time.Time) (string, error) {
	if err := CheckBackup(file); err != nil {
		return "", err
	}
	path := filepath.Join(dir, FileName)
	if _, err := os.Stat(path); err == nil {
		db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
		if errors.Is(err, bolt.ErrTimeout) {
			return "", fmt.Errorf("%s: %w (stop it first); nothing was replaced", path, ErrLocked)
		}
		if err == nil {
			db.Close()
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	tmp, err := copyInto(dir, file)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp)
	// Restored by root for a service that runs as its own user, the file
	// must be that user's, as the one it replaces (or the directory) is.
	if err := sameOwner(tmp, path, dir); err != nil {
		return "", err
	}
	kept := ""
	if _, err := os.Stat(path); err == nil {
		kept = path + ".before-restore-" + now.UTC().Format("20060102T150405Z")
		if err := os.Rename(path, kept); err != nil {
			return "", err
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return kept, err
	}
	return kept, nil
}

// copyInto copies file into a new file in dir, synced, and names it.
func copyInto(dir, file string) (string, error) {
	in, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer in.Close()
	out, err := os.CreateTemp(dir, "."+FileName+".restore-*")
	if err != nil {
		return "", err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(out.Name(), 0o600)
	}
	if err != nil {
		os.Remove(out.Name())
		return "", err
	}
	return out.Name(), nil
}

// sameOwner gives file the owner of like, or of dir when like does not exist;
// only root may, and only root needs to.
func sameOwner(file, like, dir string) error {
	if os.Getuid() != 0 {
		return nil
	}
	fi, err := os.Stat(like)
	if err != nil {
		if fi, err = os.Stat(dir); err != nil {
			return err
		}
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	return os.Chown(file, int(st.Uid), int(st.Gid))
}
