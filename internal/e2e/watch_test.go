package e2e

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The journeys trust pageProblems to notice what breaks silently in a
// browser. This checks that it does, under the app's own security headers.
func TestJourneysNoticeCSPViolationsExceptionsAndMissingAssets(t *testing.T) {
	t.Parallel()
	skipJourneyIfShort(t)
	a := newApp(t)
	resp, err := http.Get(a.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") {
		t.Fatalf("the app's Content-Security-Policy is %q; this test expects script-src 'self'", csp)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>untouched</title>
<script>document.title = "inline script ran"</script>
<script src="/boom.js"></script>
<img src="/missing.png" alt="">
<p id="done">done</p>`))
	})
	mux.HandleFunc("/boom.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write([]byte(`throw new Error("boom from the test");`))
	})
	ts := httptest.NewServer(mux)
	defer ts.Close()

	problems := &pageProblems{}
	ctx := startBrowser(t, problems, journeyTimeout)
	navigate(t, ctx, "open the broken page", 200, chromedp.Navigate(ts.URL+"/broken"))
	if title := run(t, ctx, "read the title", chromedp.Title()); title != "untouched" {
		t.Errorf("title = %q: the inline script ran, so the CSP header was not applied", title)
	}
	// Events arrive on their own; give the last ones a moment by waiting
	// for the image's request to end.
	run(t, ctx, "wait for the image", chromedp.Poll[bool](`document.querySelector("img").complete`))

	got := strings.Join(problems.all(), "\n")
	for _, want := range []string{"CSP violation", "JS exception", "boom from the test", "missing.png answered 404"} {
		if !strings.Contains(got, want) {
			t.Errorf("problems noticed:\n%s\nwant one mentioning %q", got, want)
		}
	}
}
