package auth

import "sync/atomic"

// Hasher bounds the password hashing a server does at once. One argon2id
// hash takes 19 MiB and tens of milliseconds of a core; sign-ins that each
// hash as they arrive let 300 parallel attempts take gigabytes. A Hasher
// has a few slots: Reserve takes one or says none is free — it never waits,
// so excess requests are refused at once (the web server answers 429 with
// Retry-After) instead of queueing in memory.
type Hasher struct {
	slots  chan struct{}
	hashes atomic.Int64
}

// DefaultHashSlots is the number of password hashes a server computes at
// once: 4 × 19 MiB of argon2 memory at most.
const DefaultHashSlots = 4

// NewHasher returns a Hasher with n slots (DefaultHashSlots when n < 1).
func NewHasher(n int) *Hasher {
	if n < 1 {
		n = DefaultHashSlots
	}
	return &Hasher{slots: make(chan struct{}, n)}
}

// Reserve takes a slot if one is free, without waiting. The caller hashes
// while holding it and calls release once done.
func (h *Hasher) Reserve() (release func(), ok bool) {
	select {
	case h.slots <- struct{}{}:
		var once atomic.Bool
		return func() {
			if once.CompareAndSwap(false, true) {
				<-h.slots
			}
		}, true
	default:
		return func() {}, false
	}
}

// Check is CheckPassword, counted. Call it holding a slot.
func (h *Hasher) Check(hash, password string) bool {
	h.hashes.Add(1)
	return CheckPassword(hash, password)
}

// CheckNoAccount spends the time of a password check and returns false,
// counted. Call it holding a slot.
func (h *Hasher) CheckNoAccount(password string) bool {
	h.hashes.Add(1)
	return CheckNoAccount(password)
}

// Hash is HashPassword, counted. Call it holding a slot.
func (h *Hasher) Hash(password string) (string, error) {
	h.hashes.Add(1)
	return HashPassword(password)
}

// Hashes returns how many password hashes this Hasher has computed.
func (h *Hasher) Hashes() int64 { return h.hashes.Load() }
