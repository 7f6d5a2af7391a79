// Package secret hashes PINs and passwords with argon2id in the PHC string format,
// and makes random tokens. Nothing here ever logs its input.
package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// ErrMismatch means a PIN or password did not match its hash.
var ErrMismatch = errors.New("secret: does not match")

// Params are argon2id's cost settings; Default follows OWASP's recommendation.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

var Default = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

const keyLen = 32

var b64 = base64.RawStdEncoding

// Hash returns the argon2id hash of s as "$argon2id$v=19$m=..,t=..,p=..$salt$key".
func Hash(s string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(s), salt, Default.Time, Default.Memory, Default.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, Default.Memory, Default.Time, Default.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Verify checks s against a hash made by Hash, in constant time. It returns
// ErrMismatch for a wrong s and another error for a damaged hash.
func Verify(hash, s string) error {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return errors.New("secret: not an argon2id hash")
	}
	var p Params
	var v int
	_, err1 := fmt.Sscanf(parts[2], "v=%d", &v)
	_, err2 := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads)
	salt, err3 := b64.DecodeString(parts[4])
	key, err4 := b64.DecodeString(parts[5])
	if err := errors.Join(err1, err2, err3, err4); err != nil || v != argon2.Version || p.Time == 0 || p.Threads == 0 {
		return fmt.Errorf("secret: damaged hash: %v", err)
	}
	got := argon2.IDKey([]byte(s), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return ErrMismatch
	}
	return nil
}

// Token returns a new random bearer token with the given prefix.
func Token(prefix string) string {
	b := make([]byte, 32)
	rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// TokenHash is how a token is stored: it has 256 random bits, so a fast hash suffices.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
