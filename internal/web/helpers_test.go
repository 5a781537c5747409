package web

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"
)

func itoa64(v int64) string { return strconv.FormatInt(v, 10) }

func timeNow() time.Time { return time.Now() }

// testPasswordHash is testPassword's hash for the accounts tests seed
// straight into the store: a real argon2id PHC string, made once per test
// binary, with the smallest cost argon2id allows (m = 8 KiB, t = 1). The
// server reads the cost from the hash it checks, so every sign-in of a
// seeded account goes through the real check, only cheaply; what the
// server itself stores is hashed at the OWASP minimum
// (TestPasswordsAreHashedWithArgon2idAtTheOWASPMinimum).
var testPasswordHash = sync.OnceValue(func() string {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		panic(err)
	}
	const m, t, p = 8, 1, 1
	key := argon2.IDKey([]byte(testPassword), salt, t, m, p, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, m, t, p,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
})
