package storage_test

import (
	"errors"
	"testing"
	"time"

	"github.com/peerline/peerline/storage"
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
