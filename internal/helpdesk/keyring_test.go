package helpdesk

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/tandem"
)

func TestCredentialsAreSealedAndOpenOnlyWithTheirKeyAndConnector(t *testing.T) {
	k := testKeyring(t)
	sealed, err := k.Seal([]byte(`{"token":"zd-secret-token"}`), "tandem helpdesk credentials/zendesk/zendesk")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "zd-secret-token") || !strings.HasPrefix(sealed, "v1:") {
		t.Errorf("sealed value %q shows the token or lacks its format", sealed)
	}
	again, _ := k.Seal([]byte(`{"token":"zd-secret-token"}`), "tandem helpdesk credentials/zendesk/zendesk")
	if again == sealed {
		t.Error("two seals of the same credentials are equal; the nonce is not random")
	}
	if plain, err := k.Open(sealed, "tandem helpdesk credentials/zendesk/zendesk"); err != nil || string(plain) != `{"token":"zd-secret-token"}` {
		t.Errorf("open: %q %v", plain, err)
	}
	if _, err := k.Open(sealed, "tandem helpdesk credentials/zendesk/zendesk-eu"); tandem.ErrorCode(err) != tandem.EINVALID {
		t.Errorf("opened for another connector: %v", err)
	}
	other, _ := NewKeyring(strings.Repeat("ab", 32))
	if _, err := other.Open(sealed, "tandem helpdesk credentials/zendesk/zendesk"); err == nil || !strings.Contains(err.Error(), "differs from the key") {
		t.Errorf("opened with another key: %v", err)
	}
	tampered := sealed[:len(sealed)-4] + "AAA="
	if _, err := k.Open(tampered, "tandem helpdesk credentials/zendesk/zendesk"); err == nil {
		t.Error("a tampered value opened")
	}
}

func TestTheSecretKeyMustBe32BytesInBase64OrHex(t *testing.T) {
	for key, ok := range map[string]bool{
		testKey:                         true,
		strings.Repeat("0f", 32):        true,
		strings.TrimRight(testKey, "="): true,
		"short":                         false,
		strings.Repeat("0f", 16):        false,
		"not base64 at all!!":           false,
	} {
		k, err := NewKeyring(key)
		if ok && (err != nil || k == nil) {
			t.Errorf("%q refused: %v", key, err)
		}
		if !ok && (err == nil || !strings.Contains(err.Error(), "openssl rand -base64 32")) {
			t.Errorf("%q: %v, want a refusal saying how to make a key", key, err)
		}
	}
	if k, err := NewKeyring(""); k != nil || err != nil {
		t.Errorf("no key: %v %v, want a nil keyring", k, err)
	}
	var none *Keyring
	if _, err := none.Seal([]byte("x"), "b"); err != ErrNoKey {
		t.Errorf("sealing without a key: %v", err)
	}
}

func TestHelpdeskAddressesAreHTTPSOrThisMachine(t *testing.T) {
	for _, c := range []struct{ kind, in, want string }{
		{Zendesk, "acme", "https://acme.zendesk.com"},
		{Freshdesk, "acme", "https://acme.freshdesk.com"},
		{Zendesk, "acme.zendesk.com", "https://acme.zendesk.com"},
		{Zendesk, "https://acme.zendesk.com/api/v2/", "https://acme.zendesk.com"},
		{Zendesk, "http://127.0.0.1:8123", "http://127.0.0.1:8123"},
		{Zendesk, "http://acme.zendesk.com", ""},
		{Zendesk, "https://user:pw@acme.zendesk.com", ""},
		{Zendesk, "", ""},
		{Zendesk, "ftp://acme.zendesk.com", ""},
	} {
		got, err := BaseURL(c.kind, c.in)
		if c.want == "" && tandem.ErrorCode(err) != tandem.EINVALID {
			t.Errorf("%q: %q %v, want it refused", c.in, got, err)
		}
		if c.want != "" && (err != nil || got != c.want) {
			t.Errorf("%q = %q %v, want %q", c.in, got, err, c.want)
		}
	}
}

func TestRetryAfterIsReadAsSecondsOrADate(t *testing.T) {
	for v, want := range map[string]time.Duration{
		"37":                            37 * time.Second,
		"0":                             0,
		"Mon, 02 Mar 2026 12:01:30 GMT": 90 * time.Second,
		"Mon, 02 Mar 2026 11:00:00 GMT": 0,
	} {
		got, ok := retryAfter(http.Header{"Retry-After": {v}}, now)
		if !ok || got != want {
			t.Errorf("Retry-After %q = %v %v, want %v", v, got, ok, want)
		}
	}
	if _, ok := retryAfter(http.Header{"Retry-After": {"soon"}}, now); ok {
		t.Error("Retry-After: soon was read")
	}
}
