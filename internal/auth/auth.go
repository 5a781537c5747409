// Package auth holds the secrets Tandem hands out and checks: password
// hashes, random tokens for sessions, links and keys, and the sign-in
// throttling rule.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: OWASP's minimum recommendation (m=19 MiB, t=2, p=1).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	saltLen      = 16
)

// HashPassword returns an argon2id hash in the PHC string format.
func HashPassword(password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches hash. A malformed hash
// never matches.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<21 || t > 16 {
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked when an account does not exist, so that a sign-in
// for an unknown address takes as long as one with a wrong password. It is
// made on first use: every command would otherwise pay for it at start.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("tandem-dummy-password")
	return h
})

// CheckNoAccount spends the time of a password check and returns false.
func CheckNoAccount(password string) bool {
	CheckPassword(dummyHash(), password)
	return false
}

// NewToken returns a random URL-safe token of 256 bits.
func NewToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken returns the hex SHA-256 of a token: what the database keeps.
// Tokens are 256 random bits, so a fast hash is enough.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Equal compares two secrets in constant time.
func Equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// Throttle is the sign-in back-off rule.
type Throttle struct {
	// Window is how far back failures count.
	Window time.Duration
	// PerAccount and PerAddress are the failures allowed in Window before
	// sign-in is refused for that account or that address.
	PerAccount, PerAddress int
	// Lockout is how long after the latest failure sign-in stays refused.
	Lockout time.Duration
}

// DefaultThrottle allows 5 failures per account and 20 per address in 15
// minutes, then refuses for 15 minutes after the latest failure.
var DefaultThrottle = Throttle{Window: 15 * time.Minute, PerAccount: 5, PerAddress: 20, Lockout: 15 * time.Minute}

// Blocked reports whether a sign-in must be refused now, and until when.
func (t Throttle) Blocked(byAccount, byAddress int, last, now time.Time) (bool, time.Time) {
	if byAccount < t.PerAccount && byAddress < t.PerAddress {
		return false, time.Time{}
	}
	until := last.Add(t.Lockout)
	return now.Before(until), until
}
