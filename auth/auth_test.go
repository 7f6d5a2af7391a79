package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/peerline/peerline/audit"
	"github.com/peerline/peerline/auth"
	"github.com/peerline/peerline/clock/clocktest"
	"github.com/peerline/peerline/storage"
)

func newStore(t *testing.T) (*auth.Store, *audit.Log) {
	t.Helper()
	db, err := storage.Open(t.TempDir(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	log, err := audit.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	s, err := auth.NewStore(db, clocktest.New(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)))
	if err != nil {
		t.Fatal(err)
	}
	return s, log
}

func TestUsers(t *testing.T) {
	s, log := newStore(t)
	ctx := audit.WithActor(context.Background(), audit.Actor{Kind: "cli", Name: "root"})
	if err := s.AddUser(ctx, "anna", auth.RoleAdmin, "korrekt häst batteri"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddUser(ctx, "anna", auth.RoleOffice, "något annat långt"); !errors.Is(err, auth.ErrExists) {
		t.Errorf("duplicate user: %v", err)
	}
	if err := s.AddUser(ctx, "johanna", auth.RoleOffice, "kort"); err == nil {
		t.Error("short password accepted")
	}
	if err := s.AddUser(ctx, "bad name", auth.RoleOffice, "long enough password"); err == nil {
		t.Error("bad name accepted")
	}
	u, err := s.CheckPassword("anna", "korrekt häst batteri")
	if err != nil || u.Role != auth.RoleAdmin {
		t.Fatalf("login: %+v %v", u, err)
	}
	for _, tc := range [][2]string{{"anna", "fel"}, {"nobody", "korrekt häst batteri"}} {
		if _, err := s.CheckPassword(tc[0], tc[1]); !errors.Is(err, auth.ErrBadLogin) {
			t.Errorf("login %v: %v", tc, err)
		}
	}
	entries, _ := log.List(0, 10)
	if len(entries) != 1 || entries[0].Action != "user.add" || entries[0].Actor.Name != "root" {
		t.Errorf("audit = %+v", entries)
	}
}

func TestTokens(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	tok, err := s.CreateToken(ctx, "ops", auth.RoleOffice)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateToken(ctx, "ops", auth.RoleOffice); !errors.Is(err, auth.ErrExists) {
		t.Errorf("duplicate token name: %v", err)
	}
	got, err := s.Authenticate(tok)
	if err != nil || got.Name != "ops" {
		t.Fatalf("authenticate: %+v %v", got, err)
	}
	if _, err := s.Authenticate(tok + "x"); !errors.Is(err, auth.ErrUnknownToken) {
		t.Errorf("wrong token: %v", err)
	}
	list, _ := s.Tokens()
	if len(list) != 1 || list[0].Name != "ops" {
		t.Errorf("tokens = %+v", list)
	}
	if err := s.RevokeToken(ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(tok); !errors.Is(err, auth.ErrUnknownToken) {
		t.Errorf("revoked token still works: %v", err)
	}
	if err := s.RevokeToken(ctx, "ops"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("revoke twice: %v", err)
	}
}
