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

// PrepareNoAccountCheck makes the hash CheckNoAccount checks against, so
// that the first check of an unknown account is not slower than the
// others. A server calls it before it listens.
func PrepareNoAccountCheck() { dummyHash() }

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

// Throttle is the sign-in back-off rule. It counts failed sign-ins per
// account and address pair, so that someone guessing from one place
// slows only themselves: the real user, from any other address, signs in
// as usual. Past an allowance of failures the pair is slowed, never
// locked: each further try must wait after the latest failure, a wait that
// doubles with every failure up to a cap. An address that has signed in
// to the account before gets a larger allowance. An address failing at
// many accounts (spraying one password over many addresses) is slowed too,
// but only at accounts it has never signed in to, so that a colleague
// behind the same office address is not held up at their own account.
type Throttle struct {
	// Window is how far back failures count.
	Window time.Duration
	// PairFree is how many failures one address may have at one account
	// within Window before it is slowed; KnownPairFree the same for an
	// address that signed in to the account before.
	PairFree, KnownPairFree int
	// AddressFree is how many failures one address may have over all
	// accounts within Window before it is slowed at accounts it has not
	// signed in to.
	AddressFree int
	// FirstWait is the wait after the failure that uses up an allowance;
	// each further failure doubles it, up to MaxWait.
	FirstWait, MaxWait time.Duration
}

// DefaultThrottle: within an hour, 5 failures per account and address (20
// from an address that signed in to the account before) and 20 per address
// over all accounts; then waits of 1, 2, 4, 8 and at most 15 minutes. A
// guesser gets about a dozen tries an hour per account and address.
var DefaultThrottle = Throttle{Window: time.Hour, PairFree: 5, KnownPairFree: 20, AddressFree: 20,
	FirstWait: time.Minute, MaxWait: 15 * time.Minute}

// Failures are the recent failed sign-ins an attempt is judged by.
type Failures struct {
	// Pair counts the failures at the account from the address, Address
	// those from the address at any account, each with its latest.
	Pair, Address         int
	PairLast, AddressLast time.Time
	// Known says the address has signed in to the account before.
	Known bool
}

// Until returns when a sign-in with these failures may be tried: now or
// earlier means at once.
func (t Throttle) Until(f Failures) time.Time {
	free := t.PairFree
	if f.Known {
		free = t.KnownPairFree
	}
	until := t.after(f.Pair, free, f.PairLast)
	if !f.Known {
		if u := t.after(f.Address, t.AddressFree, f.AddressLast); u.After(until) {
			until = u
		}
	}
	return until
}

// after is the end of the wait after n failures, the latest at last, with
// an allowance of free.
func (t Throttle) after(n, free int, last time.Time) time.Time {
	if n < free {
		return time.Time{}
	}
	wait := t.FirstWait
	for i := free; i < n && wait < t.MaxWait; i++ {
		wait *= 2
	}
	return last.Add(min(wait, t.MaxWait))
}
