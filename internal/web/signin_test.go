package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/tandem-hq/tandem/internal/auth"
)

// signInForm is one browser ready to post the sign-in form: its CSRF
// cookie and token.
type signInForm struct {
	base, cookie, token string
}

func newSignInForm(t *testing.T, base string) signInForm {
	t.Helper()
	res, err := http.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfRe.FindStringSubmatch(string(b))
	var ck string
	for _, c := range res.Cookies() {
		if c.Name == csrfCookie {
			ck = c.Name + "=" + c.Value
		}
	}
	if m == nil || ck == "" {
		t.Fatal("sign-in page without CSRF token or cookie")
	}
	return signInForm{base: base, cookie: ck, token: m[1]}
}

// post sends the form; header sets extra request headers (X-Forwarded-For).
func (f signInForm) post(t *testing.T, email, password string, header map[string]string) response {
	form := url.Values{"email": {email}, "password": {password}, csrfField: {f.token}}
	req, _ := http.NewRequest(http.MethodPost, f.base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", f.cookie)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := (&http.Client{Transport: ownTransport(true), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Error(err)
		return response{}
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, string(b), res.Header}
}

// TestParallelSignInsCannotBeatTheThrottleAcrossReplicas sends 60 wrong
// passwords at once to one account, half through each of two replicas on
// one database: at most 5 passwords are checked — every other attempt is
// refused with 429 and Retry-After before any hash — so the throttle holds
// however the requests interleave. (Every guess is wrong on purpose: a
// right one, checked early, would rightly forget the address's failures
// and make it known, with its larger allowance, and the bound would then
// depend on the interleaving.)
func TestParallelSignInsCannotBeatTheThrottleAcrossReplicas(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	other, err := New(Config{Now: timeNow}, app.st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(other.Handler())
	defer hs.Close()
	forms := make([]signInForm, 60)
	for i := range forms {
		base := app.http.URL
		if i%2 == 1 {
			base = hs.URL
		}
		forms[i] = newSignInForm(t, base)
	}
	results := make([]response, len(forms))
	var wg sync.WaitGroup
	for i, f := range forms {
		password := "wrong password " + itoa64(int64(i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = f.post(t, "hr@example.com", password, nil)
		}()
	}
	wg.Wait()
	checked := 0
	for i, r := range results {
		switch r.status {
		case http.StatusUnauthorized:
			checked++
		case http.StatusTooManyRequests:
			if r.header.Get("Retry-After") == "" {
				t.Errorf("attempt %d: 429 without Retry-After", i)
			}
		default:
			t.Errorf("attempt %d: %d, want 401 or 429", i, r.status)
		}
	}
	if checked > auth.DefaultThrottle.PairFree {
		t.Errorf("%d of 60 parallel attempts had their password checked, want at most %d", checked, auth.DefaultThrottle.PairFree)
	}
}

// TestSignInsBeyondTheHashingSlotsAreRefusedNotQueued takes every password
// hashing slot of a server, as a flood of sign-ins would: a sign-in then
// is refused at once with 429 and Retry-After, hashes nothing and counts
// no failure; once a slot is free, the same sign-in works.
func TestSignInsBeyondTheHashingSlotsAreRefusedNotQueued(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	var releases []func()
	for {
		release, ok := app.srv.hasher.Reserve()
		if !ok {
			break
		}
		releases = append(releases, release)
	}
	if len(releases) != auth.DefaultHashSlots {
		t.Fatalf("%d slots, want %d", len(releases), auth.DefaultHashSlots)
	}
	f := newSignInForm(t, app.http.URL)
	before := app.srv.hasher.Hashes()
	r := f.post(t, "hr@example.com", testPassword, nil)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Errorf("a sign-in with every slot taken: %d, want 429 with Retry-After", r.status)
	}
	if got := app.srv.hasher.Hashes() - before; got != 0 {
		t.Errorf("%d password hashes computed for the refused sign-in, want 0", got)
	}
	var failures int
	if err := app.st.DB().QueryRow("SELECT COUNT(*) FROM login_failures").Scan(&failures); err != nil || failures != 0 {
		t.Errorf("%d failures counted (%v), want 0: a busy server is not the person's mistake", failures, err)
	}
	for _, release := range releases {
		release()
	}
	if r := f.post(t, "hr@example.com", testPassword, nil); r.status != http.StatusSeeOther {
		t.Errorf("the same sign-in with slots free: %d, want 303", r.status)
	}
}
