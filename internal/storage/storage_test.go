package storage_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerline/peerline/internal/storage"
	bolt "go.etcd.io/bbolt"
)

func TestOpenTwiceSaysLocked(t *testing.T) {
	dir := t.TempDir()
	db, err := storage.Open(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = storage.Open(dir, 50*time.Millisecond)
	if !errors.Is(err, storage.ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
}

func TestPutGet(t *testing.T) {
	db, err := storage.Open(t.TempDir(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := storage.Buckets(db, "x"); err != nil {
		t.Fatal(err)
	}
	type rec struct{ A int }
	err = db.Update(func(tx *bolt.Tx) error { return storage.Put(tx.Bucket([]byte("x")), []byte("k"), rec{7}) })
	if err != nil {
		t.Fatal(err)
	}
	var got rec
	var ok bool
	err = db.View(func(tx *bolt.Tx) (err error) {
		ok, err = storage.Get(tx.Bucket([]byte("x")), []byte("k"), &got)
		return err
	})
	if err != nil || !ok || got.A != 7 {
		t.Fatalf("got %+v %v %v", got, ok, err)
	}
	if err := storage.Decode([]byte(`{"A":1}`), &got); err == nil {
		t.Error("unversioned value decoded")
	}
}

// TestADamagedFileIsNamedNotACrash: an empty, a truncated and an overwritten
// database each give one clear ErrDamaged, and the file is left as it was.
func TestADamagedFileIsNamedNotACrash(t *testing.T) {
	good := t.TempDir()
	db, err := storage.Open(good, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	storage.Buckets(db, "a", "b")
	db.Update(func(tx *bolt.Tx) error {
		for i := range 2000 {
			if err := storage.Put(tx.Bucket([]byte("a")), []byte(fmt.Sprint(i)), strings.Repeat("x", 100)); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	whole, _ := os.ReadFile(filepath.Join(good, storage.FileName))
	page := 4096
	for name, content := range map[string][]byte{
		"empty":       {},
		"truncated":   whole[:len(whole)/2+100],
		"overwritten": append(append(append([]byte{}, whole[:2*page]...), bytes.Repeat([]byte{0xAB}, 3*page)...), whole[5*page:]...),
		"garbage":     bytes.Repeat([]byte("peerline"), 4096),
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, storage.FileName)
		os.WriteFile(path, content, 0o600)
		db, err := storage.Open(dir, time.Second)
		if err == nil {
			db.Close()
			t.Errorf("%s: opened", name)
			continue
		}
		if !errors.Is(err, storage.ErrDamaged) || !strings.Contains(err.Error(), "backup") || strings.Count(err.Error(), "\n") > 0 {
			t.Errorf("%s: %v", name, err)
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(after, content) {
			t.Errorf("%s: the file was changed", name)
		}
		t.Logf("%s: %v", name, err)
	}
}
