package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// limitedPulseApp is a pulse app for a round of size people, served by a
// second server on the same store with --rate-limit 2 (bursts of 6) and a
// clock that stands still, and the round's answer links on that server.
func limitedPulseApp(t *testing.T, size int) (*pulseApp, []string) {
	t.Helper()
	app := newPulseApp(t, map[string]int{"Acme/Sales/EMEA": size})
	_, links := app.sendRound()
	// The clock stands still, so the allowance never refills during the
	// test however slow the machine: the verdict does not depend on speed.
	frozen := timeNow()
	srv, err := New(Config{RateLimit: 2, Now: func() time.Time { return frozen }}, app.st, slog.New(slog.NewTextHandler(io.Discard, nil)))
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
	t.Parallel()
	app, links := limitedPulseApp(t, 30)
	// 30 people, one address, a page and an answer each, as fast as the
	// test goes: 60 requests against a limit of 2 a second.
	for i, link := range links {
		if res := app.answer(link, 4, ""); res.status != http.StatusOK {
			t.Fatalf("answer %d from the shared address: %d, want 200", i+1, res.status)
		}
	}
}

// TestGuessesAtAnswerLinksAreSlowedButWorkingLinksStillOpen guesses at
// answer links from one address until it is refused, then opens and
// answers a colleague's working link from that same address: it opens and
// takes the answer, while guesses stay refused.
func TestGuessesAtAnswerLinksAreSlowedButWorkingLinksStillOpen(t *testing.T) {
	t.Parallel()
	app, links := limitedPulseApp(t, 5)
	c := app.client()
	limited := 0
	for i := 0; i < 20; i++ {
		r := c.get("/p/some-guessed-token-" + strconv.Itoa(i))
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
	if limited != 20-6 {
		t.Fatalf("%d of 20 guesses refused, want all past the burst of 6 (14)", limited)
	}
	// A colleague behind the same address: their link opens and takes
	// the answer, however many bad links the address opened.
	colleague := strings.TrimPrefix(links[0], app.http.URL)
	if r := c.get(colleague); r.status != http.StatusOK {
		t.Errorf("a working link from the guessing address: %d, want 200", r.status)
	}
	if r := app.answer(links[1], 4, ""); r.status != http.StatusOK {
		t.Errorf("an answer through a working link from the guessing address: %d, want 200", r.status)
	}
	// Working links do not refill the allowance: guesses, GET or POST,
	// are still refused.
	if r := c.get("/p/another-guess"); r.status != http.StatusTooManyRequests {
		t.Errorf("a guess after the working links: %d, want 429", r.status)
	}
	if r := c.post("/p/another-guess", url.Values{"comment": {"x"}}); r.status != http.StatusTooManyRequests {
		t.Errorf("a guessed answer post: %d, want 429", r.status)
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
