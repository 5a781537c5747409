package helpdesk

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strings"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// SecretKeyEnv names the environment variable that holds the key sealing
// helpdesk credentials at rest.
const SecretKeyEnv = "TANDEM_SECRET_KEY"

// sealedPrefix marks the format of a sealed value: AES-256-GCM, a 12-byte
// random nonce, then the ciphertext and its tag, in base64.
const sealedPrefix = "v1:"

// ErrNoKey is returned when credentials must be sealed or opened but no key
// was configured.
var ErrNoKey = tandem.Errorf(tandem.EUNAVAILABLE,
	"%s is not set, so helpdesk credentials cannot be stored or read; set it to 32 random bytes (openssl rand -base64 32) and restart Tandem", SecretKeyEnv)

// Keyring seals and opens helpdesk credentials with AES-256-GCM under the
// key from TANDEM_SECRET_KEY. A nil *Keyring has no key: every call fails
// with ErrNoKey.
type Keyring struct {
	aead cipher.AEAD
}

// NewKeyring reads a key: 32 bytes written as base64 (standard or URL
// alphabet, padded or not) or as 64 hex digits. An empty key gives a nil
// Keyring.
func NewKeyring(key string) (*Keyring, error) {
	key = strings.TrimSpace(key)
	if key == "" {
		return nil, nil
	}
	var raw []byte
	if b, err := hex.DecodeString(key); err == nil && len(b) == 32 {
		raw = b
	} else {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if b, err := enc.DecodeString(key); err == nil {
				raw = b
				break
			}
		}
	}
	if len(raw) != 32 {
		return nil, tandem.Errorf(tandem.EINVALID, "%s must be 32 random bytes written as base64 or hex (make one with: openssl rand -base64 32); it is %d bytes",
			SecretKeyEnv, len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Keyring{aead: aead}, nil
}

// Seal encrypts plain. binding names what the value belongs to (it is
// authenticated, not stored): a sealed value opens only with the same
// binding, so credentials copied onto another connector's row do not.
func (k *Keyring) Seal(plain []byte, binding string) (string, error) {
	if k == nil {
		return "", ErrNoKey
	}
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := k.aead.Seal(nonce, nonce, plain, []byte(binding))
	return sealedPrefix + base64.StdEncoding.EncodeToString(out), nil
}

// Open decrypts a value Seal made with the same binding.
func (k *Keyring) Open(sealed, binding string) ([]byte, error) {
	if k == nil {
		return nil, ErrNoKey
	}
	wrong := tandem.Errorf(tandem.EINVALID,
		"the stored credentials cannot be read with this %s (it differs from the key they were saved with, or they were altered); enter the credentials again", SecretKeyEnv)
	if !strings.HasPrefix(sealed, sealedPrefix) {
		return nil, wrong
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sealed, sealedPrefix))
	if err != nil || len(b) < k.aead.NonceSize()+k.aead.Overhead() {
		return nil, wrong
	}
	n := k.aead.NonceSize()
	plain, err := k.aead.Open(nil, b[:n], b[n:], []byte(binding))
	if err != nil {
		return nil, wrong
	}
	return plain, nil
}

// tandemRandom is a short random name.
func tandemRandom() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}
