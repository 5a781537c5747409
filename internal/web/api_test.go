package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// apiKey makes a key directly in the store.
func (a *testApp) apiKey(scopes ...string) string {
	a.t.Helper()
	token, _, err := a.st.CreateAPIKey(context.Background(), "test "+strings.Join(scopes, "+"), scopes, 0, time.Time{})
	if err != nil {
		a.t.Fatal(err)
	}
	return token
}

// apiPost sends body to path with a bearer key ("" for none).
func (a *testApp) apiPost(path, key, contentType, body string) response {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.http.URL+path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	return a.client().do(req)
}

func (a *testApp) postRatings(key, body string) response {
	a.t.Helper()
	return a.apiPost("/api/v1/customer-ratings", key, "application/json", body)
}

// apiBody is the JSON the API answers with.
type apiBody struct {
	Accepted   *int `json:"accepted"`
	Duplicates *int `json:"duplicates"`
	Error      struct {
		Code, Message string
	} `json:"error"`
	Errors []struct {
		Index          int
		Field, Message string
	} `json:"errors"`
}

func decode(t *testing.T, r response) apiBody {
	t.Helper()
	var b apiBody
	if err := json.Unmarshal([]byte(r.body), &b); err != nil {
		t.Fatalf("status %d: body is not JSON: %v\n%s", r.status, err, r.body)
	}
	return b
}

func (a *testApp) ratingsStored() int {
	a.t.Helper()
	n, err := a.st.RatingsCount(context.Background())
	if err != nil {
		a.t.Fatal(err)
	}
	return n
}

// recent is a time within the last weeks, so that every test agent was
// employed then.
func recent(daysAgo int) string {
	return tandem.Today(timeNow()).AddDate(0, 0, -daysAgo).Add(10 * time.Hour).Format(time.RFC3339)
}

func TestRatingsAPIAcceptsOneRatingAndSkipsItWhenSentAgain(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	key := app.apiKey(store.ScopeRatingsWrite)
	one := fmt.Sprintf(`{"source":"zendesk","external_id":"T-1","occurred_at":%q,"metric":"csat","score":5,"agent_email":"ana@example.com","comment":"great"}`, recent(3))
	r := app.postRatings(key, one)
	b := decode(t, r)
	if r.status != http.StatusOK || b.Accepted == nil || *b.Accepted != 1 || *b.Duplicates != 0 {
		t.Fatalf("first: %d %s, want 200 with 1 accepted", r.status, r.body)
	}
	r = app.postRatings(key, "["+one+","+one+"]")
	b = decode(t, r)
	if r.status != http.StatusOK || *b.Accepted != 0 || *b.Duplicates != 2 {
		t.Fatalf("re-sent: %d %s, want 0 accepted and 2 duplicates", r.status, r.body)
	}
	if n := app.ratingsStored(); n != 1 {
		t.Errorf("%d ratings stored, want 1", n)
	}
}

func TestRatingsAPINeedsAValidKeyWithTheScope(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	body := fmt.Sprintf(`{"source":"s","id":"1","occurred_at":%q,"metric":"csat","score":4,"unit_path":"Acme/Support"}`, recent(1))
	good := app.apiKey(store.ScopeRatingsWrite)
	reader := app.apiKey(store.ScopeReportsRead)
	expiring, _, err := app.st.CreateAPIKey(ctx, "short-lived", []string{store.ScopeRatingsWrite}, 0, timeNow().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	revoked, rk, _ := app.st.CreateAPIKey(ctx, "old", []string{store.ScopeRatingsWrite}, 0, time.Time{})
	if err := app.st.RevokeAPIKey(ctx, rk.ID, timeNow()); err != nil {
		t.Fatal(err)
	}

	check := func(name, header string, wantStatus int, wantInMessage string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, app.http.URL+"/api/v1/customer-ratings", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		r := app.client().do(req)
		b := decode(t, r)
		if r.status != wantStatus || !strings.Contains(b.Error.Message, wantInMessage) {
			t.Errorf("%s: %d %q, want %d saying %q", name, r.status, b.Error.Message, wantStatus, wantInMessage)
		}
		if wantStatus == http.StatusUnauthorized && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: WWW-Authenticate %q, want a Bearer challenge", name, r.header.Get("WWW-Authenticate"))
		}
	}
	check("no key", "", http.StatusUnauthorized, "Authorization: Bearer")
	check("basic auth", "Basic YWRtaW46eA==", http.StatusUnauthorized, "Bearer")
	check("not a tandem key", "Bearer abc123", http.StatusUnauthorized, "tdm_")
	check("unknown key", "Bearer tdm_"+strings.Repeat("x", 43), http.StatusUnauthorized, "not known")
	check("revoked key", "Bearer "+revoked, http.StatusUnauthorized, "revoked")
	check("wrong scope", "Bearer "+reader, http.StatusForbidden, "ratings:write")
	if n := app.ratingsStored(); n != 0 {
		t.Fatalf("%d ratings stored by refused requests", n)
	}
	check("expiring key, before", "bearer "+expiring, http.StatusOK, "")
	app.srv.now = func() time.Time { return timeNow().Add(2 * time.Hour) }
	check("expired key", "Bearer "+expiring, http.StatusUnauthorized, "expired")
	check("good key", "Bearer "+good, http.StatusOK, "")
}

func TestRatingsAPIRefusesMalformedJSONWithTheReason(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	key := app.apiKey(store.ScopeRatingsWrite)
	r := app.postRatings(key, "[\n {\"source\": \"s\", \"score\": 5,,}\n]")
	b := decode(t, r)
	if r.status != http.StatusBadRequest || b.Error.Code != tandem.EINVALID ||
		!strings.Contains(b.Error.Message, "invalid character ','") || !strings.Contains(b.Error.Message, "line 2") {
		t.Errorf("malformed JSON: %d %s, want 400 with the reason and where", r.status, r.body)
	}
	r = app.postRatings(key, `{"ratings": [`)
	if b := decode(t, r); r.status != http.StatusBadRequest || !strings.Contains(b.Error.Message, "ends too early") {
		t.Errorf("cut-off JSON: %d %s", r.status, r.body)
	}
}

func TestRatingsAPINeedsAJSONContentType(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	key := app.apiKey(store.ScopeRatingsWrite)
	for _, ct := range []string{"text/csv", "", "application/x-www-form-urlencoded"} {
		r := app.apiPost("/api/v1/customer-ratings", key, ct, `{"source":"s"}`)
		if b := decode(t, r); r.status != http.StatusUnsupportedMediaType || !strings.Contains(b.Error.Message, "Content-Type: application/json") {
			t.Errorf("Content-Type %q: %d %s, want 415 saying what to send", ct, r.status, r.body)
		}
	}
	body := fmt.Sprintf(`{"source":"s","id":"1","occurred_at":%q,"metric":"nps","score":"10","unit_id":%d}`, recent(1), app.units["Support"])
	if r := app.apiPost("/api/v1/customer-ratings", key, "application/json; charset=utf-8", body); r.status != http.StatusOK {
		t.Errorf("JSON with a charset: %d %s", r.status, r.body)
	}
}

func TestRatingsAPIReportsEveryBadRatingAndStoresNothing(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	key := app.apiKey(store.ScopeRatingsWrite)
	body := fmt.Sprintf(`{"source": "zendesk", "metric": "csat", "ratings": [
		{"id": "1", "occurred_at": %[1]q, "score": 5, "agent_email": "ana@example.com"},
		{"id": "2", "occurred_at": %[1]q, "score": 5, "agent_email": "zoe@example.com"},
		{"id": "3", "occurred_at": "2022-01-10T10:00:00Z", "score": 4, "agent_email": "dev@example.com"},
		{"id": "4", "occurred_at": %[1]q, "score": 4.5, "unit_path": "Acme/Support"},
		{"id": "5", "occurred_at": %[1]q, "score": 4, "unit_path": "Acme/Marketing"},
		{"id": "6", "occurred_at": "2099-01-01T00:00:00Z", "score": 4, "unit_id": %[2]d}
	]}`, recent(2), app.units["Support"])
	r := app.postRatings(key, body)
	b := decode(t, r)
	if r.status != http.StatusUnprocessableEntity || b.Error.Code != tandem.EINVALID || !strings.Contains(b.Error.Message, "nothing was stored") {
		t.Fatalf("%d %s, want 422 saying nothing was stored", r.status, r.body)
	}
	got := map[int]string{}
	for _, e := range b.Errors {
		got[e.Index] = e.Field + ": " + e.Message
	}
	want := map[int]string{
		1: "agent_email: no employee has email zoe@example.com",
		2: "agent_email: the rating is dated 2022-01-10, before dev@example.com joined on 2022-06-01",
		3: "score: CSAT scores are whole numbers",
		4: `unit_path: no unit has the path "Acme/Marketing"`,
		5: "occurred_at: the date 2099-01-01T00:00:00Z is in the future",
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i], w) {
			t.Errorf("rating %d: %q, want %q", i, got[i], w)
		}
	}
	if len(b.Errors) != len(want) {
		t.Errorf("%d errors, want %d: %s", len(b.Errors), len(want), r.body)
	}
	if n := app.ratingsStored(); n != 0 {
		t.Errorf("%d ratings stored from a batch with bad ratings, want 0", n)
	}
}

func TestRatingsAPITakesABatchOf10000AndCountsEachOnce(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	key := app.apiKey(store.ScopeRatingsWrite)
	agents := []string{"ana@example.com", "ben@example.com", "cara@example.com", "dev@example.com"}
	unitOf := map[string]int64{"ana@example.com": app.units["EMEA"], "ben@example.com": app.units["EMEA"],
		"cara@example.com": app.units["Support"], "dev@example.com": app.units["Support"]}
	type key2 struct {
		week string
		unit int64
	}
	want := map[key2]*tandem.CustomerTotals{}
	var sb strings.Builder
	sb.WriteString(`{"source":"intercom","metric":"csat","ratings":[`)
	today := tandem.Today(timeNow())
	for i := 0; i < 10_000; i++ {
		agent := agents[i%4]
		at := today.AddDate(0, 0, -(i%60)-1).Add(time.Duration(i%86400) * time.Second)
		score := 1 + (i*7)%5
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"id":"c-%d","occurred_at":%q,"score":%d,"agent_email":%q}`, i, at.Format(time.RFC3339), score, agent)
		k := key2{tandem.FormatDate(tandem.PeriodStart(tandem.Week, at)), unitOf[agent]}
		if want[k] == nil {
			want[k] = &tandem.CustomerTotals{}
		}
		want[k].Add("csat", float64(score))
	}
	sb.WriteString("]}")
	r := app.postRatings(key, sb.String())
	b := decode(t, r)
	if r.status != http.StatusOK || *b.Accepted != 10_000 || *b.Duplicates != 0 {
		t.Fatalf("%d %.300s, want 10000 accepted", r.status, r.body)
	}
	rows, err := app.st.CustomerTotalsRows(context.Background(), tandem.Week, tandem.MetricCSAT, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(want) {
		t.Errorf("%d weekly rows, want %d", len(rows), len(want))
	}
	n := 0
	for _, row := range rows {
		w := want[key2{tandem.FormatDate(row.Period), row.UnitID}]
		if w == nil || *w != row.CustomerTotals {
			t.Errorf("week %s unit %d: %+v, want %+v", tandem.FormatDate(row.Period), row.UnitID, row.CustomerTotals, w)
		}
		n += row.N
	}
	if n != 10_000 {
		t.Errorf("weekly totals count %d ratings, want 10000", n)
	}
	r = app.postRatings(key, sb.String())
	if b := decode(t, r); r.status != http.StatusOK || *b.Accepted != 0 || *b.Duplicates != 10_000 {
		t.Errorf("re-sent batch: %d %.300s, want 10000 duplicates", r.status, r.body)
	}
}

func TestRatingsAPIRefusesMoreThan10000InOneBatch(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	key := app.apiKey(store.ScopeRatingsWrite)
	one := fmt.Sprintf(`{"source":"s","occurred_at":%q,"metric":"csat","score":5,"unit_path":"Acme/Support"}`, recent(1))
	body := "[" + strings.TrimSuffix(strings.Repeat(one+",", 10_001), ",") + "]"
	r := app.postRatings(key, body)
	if b := decode(t, r); r.status != http.StatusRequestEntityTooLarge || !strings.Contains(b.Error.Message, "at most 10000") {
		t.Errorf("10,001 ratings: %d %s, want 413 saying the limit", r.status, r.body)
	}
	if n := app.ratingsStored(); n != 0 {
		t.Errorf("%d stored, want 0", n)
	}
}

func TestRatingsAPIRefusesABodyOverTheServersLimit(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	srv, err := New(Config{Addr: "127.0.0.1:0", BodyLimit: "2K", Now: timeNow}, app.st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	key := app.apiKey(store.ScopeRatingsWrite)
	req, _ := http.NewRequest(http.MethodPost, hs.URL+"/api/v1/customer-ratings", strings.NewReader(`[`+strings.Repeat(`{"score":5},`, 400)+`{}]`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	r := app.client().do(req)
	if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.body, `"error"`) {
		t.Errorf("%d %s, want 413 as JSON", r.status, r.body)
	}
}

func TestAPIOrSessionTakesAKeyOrASignedInBrowser(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.srv.Echo().GET("/api/v1/test-either", func(c echo.Context) error {
		who := "key"
		if u := currentUser(c); u != nil {
			who = u.Email
		}
		return c.String(http.StatusOK, who)
	}, app.srv.apiOrSession(store.ScopeReportsRead))
	get := func(c *client, key string) response {
		req, _ := http.NewRequest(http.MethodGet, app.http.URL+"/api/v1/test-either", nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		return c.do(req)
	}
	if r := get(app.client(), ""); r.status != http.StatusUnauthorized || !strings.Contains(r.body, "Sign in") {
		t.Errorf("anonymous: %d %s, want 401", r.status, r.body)
	}
	if r := get(app.client(), app.apiKey(store.ScopeReportsRead)); r.status != http.StatusOK || r.body != "key" {
		t.Errorf("key: %d %s, want 200", r.status, r.body)
	}
	if r := get(app.client(), app.apiKey(store.ScopeRatingsWrite)); r.status != http.StatusForbidden {
		t.Errorf("key without the scope: %d, want 403", r.status)
	}
	c := app.client()
	c.login("sales.lead@example.com")
	if r := get(c, ""); r.status != http.StatusOK || r.body != "sales.lead@example.com" {
		t.Errorf("signed in: %d %s, want 200 as the leader", r.status, r.body)
	}
}
