package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// limitedPulseApp is a pulse app for a round of size people, served by a
// second server on the same store with --rate-limit 2 (bursts of 6), and
// the round's answer links on that server.
func limitedPulseApp(t *testing.T, size int) (*pulseApp, []string) {
	t.Helper()
	app := newPulseApp(t, map[string]int{"Acme/Sales/EMEA": size})
	_, links := app.sendRound()
	srv, err := New(Config{RateLimit: 2}, app.st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	limited := *app
	limited.testApp = &testApp{t: t, st: app.st, srv: srv, http: hs, units: app.units}
	var out []string
	for _, l := range links {
		out = append(out, hs.URL+strings.TrimPrefix(l, app.http.URL))
	}
	return &limited, out
}

func TestAnOfficeBehindOneAddressAnswersARoundWithoutBeingLimited(t *testing.T) {
	app, links := limitedPulseApp(t, 30)
	// 30 people, one address, a page and an answer each, as fast as the
	// test goes: 60 requests against a limit of 2 a second.
	for i, link := range links {
		if res := app.answer(link, 4, ""); res.status != http.StatusOK {
			t.Fatalf("answer %d from the shared address: %d, want 200", i+1, res.status)
		}
	}
}

func TestGuessesAtAnswerLinksAreSlowedAndARefusalSaysNothing(t *testing.T) {
	app, links := limitedPulseApp(t, 5)
	c := app.client()
	limited := 0
	for i := 0; i < 20; i++ {
		r := c.get("/p/some-guessed-token")
		switch r.status {
		case http.StatusNotFound:
		case http.StatusTooManyRequests:
			limited++
			if r.header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		default:
			t.Fatalf("guess %d: %d, want 404 or 429", i+1, r.status)
		}
	}
	if limited == 0 {
		t.Fatal("20 quick guesses at answer links were all answered")
	}
	// While limited, a working link is refused the same way: the refusal
	// does not tell a guesser which guess was right.
	if r := c.get(strings.TrimPrefix(links[0], app.http.URL)); r.status != http.StatusTooManyRequests {
		t.Errorf("a working link from a guessing address: %d, want 429", r.status)
	}
	// The API stays limited per address, whatever the answers.
	apiLimited := 0
	for i := 0; i < 20; i++ {
		if r := c.get("/api/v1/reports/correlation"); r.status == http.StatusTooManyRequests {
			apiLimited++
		}
	}
	if apiLimited == 0 {
		t.Error("20 quick API requests from one address were all answered")
	}
	// Signed-in pages are not limited this way.
	for i := 0; i < 20; i++ {
		if r := c.get("/login"); r.status != http.StatusOK {
			t.Fatalf("sign-in page %d: %d", i, r.status)
		}
	}
}
