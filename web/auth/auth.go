// Package auth holds the office's users (argon2id passwords) and the API's bearer
// tokens (stored as SHA-256 hashes; the token itself is shown once).
package auth

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"time"

	"github.com/peerline/peerline/internal/audit"
	"github.com/peerline/peerline/internal/clock"
	"github.com/peerline/peerline/internal/input"
	"github.com/peerline/peerline/internal/secret"
	"github.com/peerline/peerline/internal/storage"
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
	return "", input.Errorf("role", "%q is not a role (use admin or office)", s)
}

var (
	ErrExists       = errors.New("already exists")
	ErrNotFound     = errors.New("not found")
	ErrBadLogin     = errors.New("wrong user name or password")
	ErrUnknownToken = errors.New("unknown token")
	// ErrLastAdmin refuses a change that would leave nobody to manage users.
	ErrLastAdmin = errors.New("the last admin cannot be removed or made office")
	namePattern  = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._@-]{0,63}$`)
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
		return input.Errorf("name", "%q: use letters, digits, '.', '_', '@' or '-' (at most 64)", name)
	}
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	if err := ValidPassword(password); err != nil {
		return err
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

// ValidPassword says why password cannot be an office user's, or nil.
func ValidPassword(password string) error {
	if len([]rune(password)) < MinPasswordLength {
		return input.Errorf("password", "at least %d characters", MinPasswordLength)
	}
	return nil
}

// User is the office user called name, or ErrNotFound.
func (s *Store) User(name string) (User, error) {
	var u User
	var found bool
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		found, err = storage.Get(tx.Bucket([]byte(bucketUsers)), []byte(name), &u)
		return err
	})
	if err == nil && !found {
		err = fmt.Errorf("user %q: %w", name, ErrNotFound)
	}
	return u, err
}

// Users lists the office users by name.
func (s *Store) Users() ([]User, error) {
	return all[User](s.db, bucketUsers) // bbolt keeps the keys, the names, in order
}

// all decodes every value of a bucket.
func all[T any](db *bolt.DB, bucket string) ([]T, error) {
	out := []T{}
	err := db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucket)).ForEach(func(_, v []byte) error {
			var x T
			if err := storage.Decode(v, &x); err != nil {
				return err
			}
			out = append(out, x)
			return nil
		})
	})
	return out, err
}

// SetPassword gives a user a new password.
func (s *Store) SetPassword(ctx context.Context, name, password string) error {
	if err := ValidPassword(password); err != nil {
		return err
	}
	hash := secret.Hash(password)
	return s.changeUser(ctx, name, "user.password", nil, func(_ *bolt.Bucket, u *User) error {
		u.Hash = hash
		return nil
	})
}

// SetRole changes a user's role; the last admin stays admin.
func (s *Store) SetRole(ctx context.Context, name string, role Role) error {
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	return s.changeUser(ctx, name, "user.role", map[string]any{"role": role}, func(b *bolt.Bucket, u *User) error {
		if u.Role == RoleAdmin && role != RoleAdmin && admins(b) == 1 {
			return ErrLastAdmin
		}
		u.Role = role
		return nil
	})
}

// DeleteUser removes a user; the last admin cannot be removed.
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketUsers))
		var u User
		if found, err := storage.Get(b, []byte(name), &u); err != nil || !found {
			return cmp.Or(err, fmt.Errorf("user %q: %w", name, ErrNotFound))
		}
		if u.Role == RoleAdmin && admins(b) == 1 {
			return ErrLastAdmin
		}
		if err := b.Delete([]byte(name)); err != nil {
			return err
		}
		return audit.Record(ctx, tx, s.clock.Now(), "user.delete", "user/"+name, nil)
	})
}

// changeUser applies change to the user called name and audits it as action.
func (s *Store) changeUser(ctx context.Context, name, action string, details map[string]any, change func(*bolt.Bucket, *User) error) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketUsers))
		var u User
		if found, err := storage.Get(b, []byte(name), &u); err != nil || !found {
			return cmp.Or(err, fmt.Errorf("user %q: %w", name, ErrNotFound))
		}
		if err := change(b, &u); err != nil {
			return err
		}
		if err := storage.Put(b, []byte(name), u); err != nil {
			return err
		}
		return audit.Record(ctx, tx, s.clock.Now(), action, "user/"+name, details)
	})
}

func admins(b *bolt.Bucket) int {
	n := 0
	b.ForEach(func(_, v []byte) error {
		var u User
		if storage.Decode(v, &u) == nil && u.Role == RoleAdmin {
			n++
		}
		return nil
	})
	return n
}

// CheckPassword returns the user when the password is right, ErrBadLogin otherwise.
func (s *Store) CheckPassword(name, password string) (User, error) {
	u, err := s.User(name)
	if errors.Is(err, ErrNotFound) {
		secret.Verify(dummyHash, password) // the same time for an unknown name
		return User{}, ErrBadLogin
	}
	if err != nil {
		return User{}, err
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
		return "", input.Errorf("name", "%q: use letters, digits, '.', '_', '@' or '-' (at most 64)", name)
	}
	if _, err := ParseRole(string(role)); err != nil {
		return "", err
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
	out, err := all[Token](s.db, bucketTokens) // keyed by hash: sort by name
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
