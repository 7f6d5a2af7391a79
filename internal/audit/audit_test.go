package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/peerline/peerline/internal/audit"
	"github.com/peerline/peerline/internal/storage"
	bolt "go.etcd.io/bbolt"
)

func TestRecordAndList(t *testing.T) {
	db, err := storage.Open(t.TempDir(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	log, err := audit.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	ctx := audit.WithActor(context.Background(), audit.Actor{Kind: "token", Name: "ops", Remote: "127.0.0.1"})
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	for i := range 5 {
		err := db.Update(func(tx *bolt.Tx) error {
			return audit.Record(ctx, tx, now.Add(time.Duration(i)*time.Minute), "line.close", "line/peer", map[string]any{"n": i})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := log.List(0, 3)
	if err != nil || len(got) != 3 || got[0].ID != 5 || got[2].ID != 3 {
		t.Fatalf("newest three: %+v %v", got, err)
	}
	if got[0].Actor.Name != "ops" || got[0].Action != "line.close" {
		t.Errorf("entry = %+v", got[0])
	}
	older, _ := log.List(3, 10)
	if len(older) != 2 || older[0].ID != 2 || older[1].ID != 1 {
		t.Fatalf("page before 3: %+v", older)
	}
	if audit.ActorFrom(context.Background()) != audit.System {
		t.Error("default actor is not System")
	}
}
