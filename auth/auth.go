// Package auth holds the office's users (argon2id passwords) and the API's bearer
// tokens (stored as SHA-256 hashes; the token itself is shown once).
package auth

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"time"

	"github.com/peerline/peerline/audit"
	"github.com/peerline/peerline/clock"
	"github.com/peerline/peerline/secret"
	"github.com/peerline/peerline/storage"
	bolt "go.etcd.io/bbolt"
)

// Role is what a user or token may do: office runs the line, admin also manages users.
type Role string

const (
	RoleAdmin  Role = "admin"
	RoleOffice Role = "office"
)

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	switch Role(s) {
	case RoleAdmin, RoleOffice:
		return Role(s), nil
	}
	return "", fmt.Errorf("%q is not a role (use admin or office)", s)
}

var (
	ErrExists       = errors.New("already exists")
	ErrNotFound     = errors.New("not found")
	ErrBadLogin     = errors.New("wrong user name or password")
	ErrUnknownToken = errors.New("unknown token")
	namePattern     = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._@-]{0,63}$`)
)

// MinPasswordLength is the shortest password accepted for an office user.
const MinPasswordLength = 10

const (
	bucketUsers  = "auth.users"
	bucketTokens = "auth.tokens"
)

// User is an office user.
type User struct {
	Name    string    `json:"name"`
	Role    Role      `json:"role"`
	Hash    string    `json:"hash"`
	Created time.Time `json:"created"`
}

// Token is an API client's bearer token, without the token itself.
type Token struct {
	Name    string    `json:"name"`
	Role    Role      `json:"role"`
	Created time.Time `json:"created"`
}

// Store keeps users and tokens in the database.
type Store struct {
	db    *bolt.DB
	clock clock.Clock
}

// NewStore creates the buckets it needs.
func NewStore(db *bolt.DB, c clock.Clock) (*Store, error) {
	if err := storage.Buckets(db, bucketUsers, bucketTokens); err != nil {
		return nil, err
	}
	return &Store{db: db, clock: c}, nil
}

// AddUser creates an office user with the given password.
func (s *Store) AddUser(ctx context.Context, name string, role Role, password string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("user name %q: use letters, digits, '.', '_', '@' or '-'", name)
	}
	if len([]rune(password)) < MinPasswordLength {
		return fmt.Errorf("password: at least %d characters", MinPasswordLength)
	}
	u := User{Name: name, Role: role, Hash: secret.Hash(password), Created: s.clock.Now().UTC()}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketUsers))
		if b.Get([]byte(name)) != nil {
			return fmt.Errorf("user %q: %w", name, ErrExists)
		}
		if err := storage.Put(b, []byte(name), u); err != nil {
			return err
		}
		return audit.Record(ctx, tx, u.Created, "user.add", "user/"+name, map[string]any{"role": role})
	})
}

// CheckPassword returns the user when the password is right, ErrBadLogin otherwise.
func (s *Store) CheckPassword(name, password string) (User, error) {
	var u User
	var found bool
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		found, err = storage.Get(tx.Bucket([]byte(bucketUsers)), []byte(name), &u)
		return err
	})
	if err != nil {
		return User{}, err
	}
	if !found {
		secret.Verify(dummyHash, password) // the same time for an unknown name
		return User{}, ErrBadLogin
	}
	if err := secret.Verify(u.Hash, password); err != nil {
		return User{}, ErrBadLogin
	}
	return u, nil
}

var dummyHash = secret.Hash("no such user")

// CreateToken makes a new bearer token and returns it; only its hash is kept.
func (s *Store) CreateToken(ctx context.Context, name string, role Role) (string, error) {
	if !namePattern.MatchString(name) {
		return "", fmt.Errorf("token name %q: use letters, digits, '.', '_', '@' or '-'", name)
	}
	token := secret.Token("pl_")
	t := Token{Name: name, Role: role, Created: s.clock.Now().UTC()}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketTokens))
		if _, _, ok := findToken(b, name); ok {
			return fmt.Errorf("token %q: %w", name, ErrExists)
		}
		if err := storage.Put(b, []byte(secret.TokenHash(token)), t); err != nil {
			return err
		}
		return audit.Record(ctx, tx, t.Created, "token.create", "token/"+name, map[string]any{"role": role})
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// Authenticate returns the token's record, or ErrUnknownToken.
func (s *Store) Authenticate(token string) (Token, error) {
	var t Token
	var found bool
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		found, err = storage.Get(tx.Bucket([]byte(bucketTokens)), []byte(secret.TokenHash(token)), &t)
		return err
	})
	if err == nil && !found {
		err = ErrUnknownToken
	}
	return t, err
}

// RevokeToken deletes the named token.
func (s *Store) RevokeToken(ctx context.Context, name string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketTokens))
		k, _, ok := findToken(b, name)
		if !ok {
			return fmt.Errorf("token %q: %w", name, ErrNotFound)
		}
		if err := b.Delete(k); err != nil {
			return err
		}
		return audit.Record(ctx, tx, s.clock.Now(), "token.revoke", "token/"+name, nil)
	})
}

// Tokens lists the tokens by name.
func (s *Store) Tokens() ([]Token, error) {
	out := []Token{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketTokens)).ForEach(func(_, v []byte) error {
			var t Token
			if err := storage.Decode(v, &t); err != nil {
				return err
			}
			out = append(out, t)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

func findToken(b *bolt.Bucket, name string) (key []byte, t Token, ok bool) {
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if storage.Decode(v, &t) == nil && t.Name == name {
			return k, t, true
		}
	}
	return nil, Token{}, false
}
