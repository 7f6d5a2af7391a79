package storage_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/peerline/peerline/internal/storage"
)

// TestRestoreKeepsTheOwnerAndTheOldFile: a restored database belongs to whom
// the replaced one did (root restoring for a service user), the old file is
// kept, and a newer schema is refused.
func TestRestoreKeepsTheOwnerAndTheOldFile(t *testing.T) {
	dir := t.TempDir()
	db, err := storage.Open(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var backup bytes.Buffer
	if err := storage.WriteBackup(db, &backup); err != nil {
		t.Fatal(err)
	}
	db.Close()
	file := filepath.Join(t.TempDir(), "backup.db")
	os.WriteFile(file, backup.Bytes(), 0o600)
	path := filepath.Join(dir, storage.FileName)
	if os.Getuid() == 0 {
		os.Chown(path, 65534, 65534) // the service's own user
	}
	kept, err := storage.Restore(dir, file, time.Date(2026, 11, 26, 20, 0, 0, 0, time.UTC))
	if err != nil || filepath.Base(kept) != "peerline.db.before-restore-20261126T200000Z" {
		t.Fatalf("restore: %q %v", kept, err)
	}
	if os.Getuid() == 0 {
		fi, _ := os.Stat(path)
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != 65534 {
			t.Errorf("the restored file is uid %d's, want the service's 65534", st.Uid)
		}
	}
	if err := storage.CheckBackup(path); err != nil {
		t.Errorf("the restored file: %v", err)
	}
	if _, err := storage.Restore(dir, filepath.Join(dir, "nope.db"), time.Now()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
}
