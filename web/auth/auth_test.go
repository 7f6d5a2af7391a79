package auth_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/peerline/peerline/internal/audit"
	"github.com/peerline/peerline/internal/clock/clocktest"
	"github.com/peerline/peerline/internal/storage"
	"github.com/peerline/peerline/web/auth"
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

// An admin manages users: list, new password, role, remove; the last admin
// stays, so someone can always manage users.
func TestManagingUsers(t *testing.T) {
	s, log := newStore(t)
	ctx := context.Background()
	for _, u := range []struct {
		name string
		role auth.Role
	}{{"anna", auth.RoleAdmin}, {"bo", auth.RoleOffice}} {
		if err := s.AddUser(ctx, u.name, u.role, "ett långt lösenord"); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddUser(ctx, "cilla", "boss", "ett långt lösenord"); err == nil {
		t.Error("an unknown role was accepted")
	}
	users, err := s.Users()
	if err != nil || len(users) != 2 || users[0].Name != "anna" || users[1].Role != auth.RoleOffice {
		t.Fatalf("users: %+v %v", users, err)
	}
	if err := s.SetPassword(ctx, "bo", "kort"); err == nil {
		t.Error("a short new password was accepted")
	}
	if err := s.SetPassword(ctx, "bo", "ett nytt långt lösenord"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CheckPassword("bo", "ett långt lösenord"); !errors.Is(err, auth.ErrBadLogin) {
		t.Errorf("the old password still works: %v", err)
	}
	if _, err := s.CheckPassword("bo", "ett nytt långt lösenord"); err != nil {
		t.Errorf("the new password: %v", err)
	}
	if err := s.SetRole(ctx, "anna", auth.RoleOffice); !errors.Is(err, auth.ErrLastAdmin) {
		t.Errorf("the last admin made office: %v", err)
	}
	if err := s.DeleteUser(ctx, "anna"); !errors.Is(err, auth.ErrLastAdmin) {
		t.Errorf("the last admin removed: %v", err)
	}
	if err := s.SetRole(ctx, "bo", auth.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, "anna"); err != nil {
		t.Errorf("an admin removed while another is left: %v", err)
	}
	for _, err := range []error{s.DeleteUser(ctx, "anna"), s.SetPassword(ctx, "anna", "ett långt lösenord"), s.SetRole(ctx, "nobody", auth.RoleOffice)} {
		if !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("an unknown user: %v", err)
		}
	}
	if users, _ := s.Users(); len(users) != 1 || users[0].Name != "bo" || users[0].Role != auth.RoleAdmin {
		t.Errorf("users at the end: %+v", users)
	}
	entries, _ := log.List(0, 10)
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, " "); got != "user.delete user.role user.password user.add user.add" {
		t.Errorf("audit: %s", got)
	}
	for _, e := range entries {
		if strings.Contains(fmt.Sprint(e), "lösenord") {
			t.Errorf("a password in the audit log: %+v", e)
		}
	}
}
