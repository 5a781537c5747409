package web

import (
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/roster"
	"github.com/tandem-hq/tandem/internal/sso"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
	"github.com/tandem-hq/tandem/internal/tandemtest"
)

// The authorization matrix: every route of the router × every kind of
// caller, each asserted allowed or denied. A route added to the router
// without an entry in authzTable fails TestEveryRouteHasAnAuthorizationRule.
// TANDEM_AUTHZ_LOG=1 go test -run TestEveryRouteHasAnAuthorizationRule -v
// prints every request and its status.

// authzPrincipal is who makes a request.
type authzPrincipal int

const (
	pAnonymous authzPrincipal = iota
	pEmployee                 // holds a valid link token (answer or setup link), no session
	pLeaderA                  // leader of Acme/Northwind
	pLeaderB                  // leader of Acme/Southgate
	pHR
	pAdmin
	pKeyAll     // API key with every scope
	pKeyOne     // API key with ratings:write only
	pKeyRevoked // revoked API key with every scope
	pKeyExpired // expired API key with every scope
	numPrincipals
)

var authzPrincipalNames = [numPrincipals]string{"anonymous", "employee with a link", "leader of A", "leader of B", "hr", "admin",
	"API key (all scopes)", "API key (ratings:write)", "revoked API key", "expired API key"}

func (p authzPrincipal) String() string { return authzPrincipalNames[p] }

// authzWho is a set of principals: those allowed; all others are denied.
type authzWho uint16

func authzAnyOf(ps ...authzPrincipal) authzWho {
	var w authzWho
	for _, p := range ps {
		w |= 1 << p
	}
	return w
}

func (w authzWho) has(p authzPrincipal) bool { return w&(1<<p) != 0 }

var (
	authzEveryone  = authzWho(1<<numPrincipals - 1)
	authzHolder    = authzAnyOf(pEmployee)
	authzSignedIn  = authzAnyOf(pLeaderA, pLeaderB, pHR, pAdmin)
	authzEditors   = authzAnyOf(pHR, pAdmin)
	authzAdmins    = authzAnyOf(pAdmin)
	authzInA       = authzAnyOf(pLeaderA, pHR, pAdmin) // may see unit A's data
	authzInB       = authzAnyOf(pLeaderB, pHR, pAdmin) // may see unit B's data
	authzKeyAll    = authzAnyOf(pKeyAll)
	authzRatingKey = authzAnyOf(pKeyAll, pKeyOne)
)

// authzCase is one request to a route. path may hold placeholders that
// are filled per principal: {answer} and {setup} (the valid link token for
// the employee, a well-formed unknown one for everyone else), {upload:kind}
// (an upload of the requesting user) and {victimkey} (a fresh API key).
type authzCase struct {
	path string
	want authzWho
	form url.Values // POST form fields besides _csrf
	json string     // POST body as JSON instead of a form
}

// authzOrg is a small organisation with two units and a leader of each,
// two programs (one for everyone, one for unit B only) with an open round
// each, an answer link, a setup link, and API keys in every state.
type authzOrg struct {
	*testApp
	unitA, unitB     int64
	pathA, pathB     string
	empA, empB       int64
	users            map[authzPrincipal]int64
	victimUser       int64
	progAll, progB   int64
	roundAll, roundB int64
	// Keys of a comment of unit A and of unit B in the company round, and
	// of one in unit B's own program.
	commentA, commentB, commentBOnly string
	question                         int64
	answerLink, setupTok             string
	keys                             map[authzPrincipal]string
	anonCSRF                         string
	// Markers: text that only unit A's or unit B's data contains.
	markersA, markersB []string
}

// authzJobs stands in for the scheduler: "send a round now" answers with
// the existing round.
type authzJobs struct{ round pulse.Round }

func (j authzJobs) SendNow(context.Context, int64, time.Time) (pulse.Round, bool, error) {
	return j.round, false, nil
}
func (j authzJobs) Sync(context.Context) error { return nil }
func (j authzJobs) NextRun(int64) time.Time    { return time.Time{} }

func newAuthzOrg(t *testing.T) *authzOrg {
	t.Helper()
	app := newTestApp(t)
	ctx := context.Background()
	o := &authzOrg{testApp: app, users: map[authzPrincipal]int64{}, keys: map[authzPrincipal]string{}, anonCSRF: auth.NewToken(),
		markersA: []string{"Northwind", "north.example", "NORTH-ONLY"},
		markersB: []string{"Southgate", "south.example", "SOUTH-ONLY"}}
	var b strings.Builder
	b.WriteString("email,name,team\n")
	for i := 1; i <= 6; i++ {
		fmt.Fprintf(&b, "n%d@north.example,Nadia Northwind %d,Acme/Northwind\n", i, i)
		fmt.Fprintf(&b, "s%d@south.example,Sam Southgate %d,Acme/Southgate\n", i, i)
	}
	plan, err := app.st.PlanRoster(ctx, strings.NewReader(b.String()), roster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.st.ApplyRoster(ctx, plan, tandem.Today(timeNow()).AddDate(0, 0, -60)); err != nil {
		t.Fatal(err)
	}
	tree, _ := app.st.Tree(ctx)
	for _, u := range tree.Walk() {
		app.units[u.Name] = u.ID
	}
	o.unitA, o.unitB = app.units["Northwind"], app.units["Southgate"]
	o.pathA, o.pathB = tree.Unit(o.unitA).Path, tree.Unit(o.unitB).Path
	for _, e := range []struct {
		id    *int64
		email string
	}{{&o.empA, "n1@north.example"}, {&o.empB, "s1@south.example"}} {
		found, _, err := app.st.Employees(ctx, store.EmployeeFilter{Query: e.email})
		if err != nil || len(found) != 1 {
			t.Fatalf("employee %s: %v %v", e.email, found, err)
		}
		*e.id = found[0].ID
	}

	hash := tandemtest.PasswordHash(t, testPassword)
	for _, u := range []tandem.User{
		{Email: "lead.a@example.com", Role: tandem.RoleLeader, ScopeUnitID: o.unitA, PasswordHash: hash},
		{Email: "lead.b@example.com", Role: tandem.RoleLeader, ScopeUnitID: o.unitB, PasswordHash: hash},
		{Email: "victim@example.com", Role: tandem.RoleLeader, ScopeUnitID: o.unitA, PasswordHash: hash},
	} {
		if err := app.st.CreateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
	}
	for p, email := range map[authzPrincipal]string{pLeaderA: "lead.a@example.com", pLeaderB: "lead.b@example.com",
		pHR: "hr@example.com", pAdmin: "admin@example.com"} {
		u, err := app.st.UserByEmail(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		o.users[p] = u.ID
	}
	victim, _ := app.st.UserByEmail(ctx, "victim@example.com")
	o.victimUser = victim.ID

	// A service question rating A and B, so that both rounds have an
	// internal-service page.
	svc := &pulse.Question{Text: "How well does this team support you?", Kind: pulse.Service, Providers: []int64{o.unitA, o.unitB}}
	if err := app.st.CreateQuestion(ctx, svc); err != nil {
		t.Fatal(err)
	}
	spare := &pulse.Question{Text: "A question only the matrix retires", Kind: pulse.Likert5}
	if err := app.st.CreateQuestion(ctx, spare); err != nil {
		t.Fatal(err)
	}
	o.question = spare.ID
	qs, _ := app.st.Questions(ctx)
	var pool []int64
	for _, q := range qs {
		if q.Builtin || q.ID == svc.ID {
			pool = append(pool, q.ID)
		}
	}
	now := timeNow()
	round := func(name string, audience int64) (int64, int64) {
		p := pulse.Defaults()
		p.Name, p.AudienceUnitID, p.Channel, p.QuestionIDs, p.QuestionsPerRound = name, audience, pulse.ChannelLog, pool, 8
		if err := app.st.SaveProgram(ctx, &p); err != nil {
			t.Fatal(err)
		}
		r, _, err := app.st.CreateRound(ctx, &p, now.Add(-time.Hour).Truncate(time.Second), true, now)
		if err != nil {
			t.Fatal(err)
		}
		rqs, _ := app.st.RoundQuestions(ctx, r.ID)
		invs, _ := app.st.RoundInvitations(ctx, r.ID)
		var rs []store.RecordedResponse
		for _, inv := range invs {
			if inv.UnitID != o.unitA && inv.UnitID != o.unitB {
				continue
			}
			rec := store.RecordedResponse{InvitationID: inv.ID, Comment: "NORTH-ONLY remark"}
			if inv.UnitID == o.unitB {
				rec.Comment = "SOUTH-ONLY remark"
			}
			for _, q := range rqs {
				switch q.Kind {
				case pulse.Likert5:
					rec.Answers = append(rec.Answers, pulse.Answer{QuestionID: q.ID, Value: 4, HasValue: true})
				case pulse.Scale010:
					rec.Answers = append(rec.Answers, pulse.Answer{QuestionID: q.ID, Value: 8, HasValue: true})
				case pulse.Service:
					rec.Answers = append(rec.Answers, pulse.Answer{QuestionID: q.ID, Value: 4, HasValue: true, ProviderUnitID: inv.UnitID})
				}
			}
			rs = append(rs, rec)
		}
		if err := app.st.RecordResponses(ctx, r.ID, rs); err != nil {
			t.Fatal(err)
		}
		return p.ID, r.ID
	}
	o.progAll, o.roundAll = round("Company pulse", app.units["Acme"])
	o.progB, o.roundB = round("Southgate pulse", o.unitB)
	// Results are released when the rounds close.
	if _, err := app.st.CloseDueRounds(ctx, now.AddDate(0, 1, 0)); err != nil {
		t.Fatal(err)
	}
	r, err := app.st.Round(ctx, o.roundAll)
	if err != nil {
		t.Fatal(err)
	}
	app.srv.SetJobs(authzJobs{round: r})
	for _, c := range []struct {
		round  int64
		marker string
		key    *string
	}{{o.roundAll, "NORTH-ONLY", &o.commentA}, {o.roundAll, "SOUTH-ONLY", &o.commentB}, {o.roundB, "SOUTH-ONLY", &o.commentBOnly}} {
		texts, err := app.st.TextAnswers(ctx, c.round)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range texts {
			if strings.Contains(x.Text, c.marker) {
				*c.key = x.Key
			}
		}
		if *c.key == "" {
			t.Fatalf("round %d has no comment %q", c.round, c.marker)
		}
	}

	// An answer link for someone who has not answered (Ana, in Sales).
	invs, _ := app.st.RoundInvitations(ctx, o.roundAll)
	for _, inv := range invs {
		if !inv.Responded {
			token := auth.NewToken()
			if err := app.st.AddInvitationToken(ctx, inv.ID, auth.HashToken(token)); err != nil {
				t.Fatal(err)
			}
			o.answerLink = token
			break
		}
	}
	o.setupTok = auth.NewToken()
	if err := app.st.CreateSetupToken(ctx, auth.HashToken(o.setupTok), now.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}

	key := func(name string, scopes []string, expires time.Time) (string, store.APIKey) {
		token, k, err := app.st.CreateAPIKey(ctx, name, scopes, 0, expires)
		if err != nil {
			t.Fatal(err)
		}
		return token, k
	}
	o.keys[pKeyAll], _ = key("all scopes", store.APIScopes, time.Time{})
	o.keys[pKeyOne], _ = key("ratings only", []string{store.ScopeRatingsWrite}, time.Time{})
	var revoked store.APIKey
	o.keys[pKeyRevoked], revoked = key("revoked", store.APIScopes, time.Time{})
	if err := app.st.RevokeAPIKey(ctx, revoked.ID, now); err != nil {
		t.Fatal(err)
	}
	// The server's clock runs two hours ahead, past this key's expiry
	// (sessions, links and uploads of the matrix last a day).
	o.keys[pKeyExpired], _ = key("expired", store.APIScopes, now.Add(time.Hour))
	app.srv.now = func() time.Time { return timeNow().Add(2 * time.Hour) }
	return o
}

// authzTable maps every route (method and pattern, as the router lists
// it) to its requests and who each one admits.
func (o *authzOrg) authzTable() map[string][]authzCase {
	id := func(format string, v int64) string { return fmt.Sprintf(format, v) }
	q := func(path, k, v string) string { return path + "?" + url.Values{k: {v}}.Encode() }
	login := url.Values{"email": {"admin@example.com"}, "password": {testPassword}}
	setup := url.Values{"email": {"second@example.com"}, "password": {"a long password"}, "password2": {"a long password"}}
	rating := fmt.Sprintf(`{"source":"matrix","external_id":"m-1","occurred_at":%q,"metric":"csat","score":4,"unit_path":%q}`, recent(1), o.pathA)
	one := func(path string, want authzWho) []authzCase { return []authzCase{{path: path, want: want}} }
	// scoped lists a report route's default request and its requests for
	// unit A and unit B (by path and by id).
	scoped := func(path string, all authzWho) []authzCase {
		extra := all &^ authzSignedIn
		return []authzCase{{path: path, want: all},
			{path: q(path, "unit", o.pathA), want: authzInA | extra}, {path: q(path, "unit", o.pathB), want: authzInB | extra},
			{path: q(path, "unit", fmt.Sprint(o.unitB)), want: authzInB | extra}}
	}
	return map[string][]authzCase{
		// Public: health, metrics, the API description, static files.
		"GET /healthz":          one("/healthz", authzEveryone),
		"GET /readyz":           one("/readyz", authzEveryone),
		"GET /metrics":          one("/metrics", authzKeyAll),
		"GET /api/openapi.json": one("/api/openapi.json", authzEveryone),
		"GET /static/*":         one("/static/app.css", authzEveryone),
		"GET /favicon.ico":      one("/favicon.ico", authzEveryone),

		// Sign-in pages: anyone may use them (with the CSRF token).
		"GET /":              one("/", authzEveryone),
		"GET /login":         one("/login", authzEveryone),
		"POST /login":        {{path: "/login", want: authzEveryone, form: login}},
		"POST /logout":       one("/logout", authzEveryone),
		"GET /setup/:token":  one("/setup/{setup}", authzHolder),
		"POST /setup/:token": {{path: "/setup/{setup}", want: authzHolder, form: setup}},

		// Anyone signed in; leaders within their unit.
		"GET /dashboard": one("/dashboard", authzSignedIn),
		"GET /units":     one("/units", authzSignedIn),
		"GET /units/:id": {{path: id("/units/%d", o.unitA), want: authzInA}, {path: id("/units/%d", o.unitB), want: authzInB}},
		"GET /employees": {{path: "/employees", want: authzSignedIn},
			{path: q("/employees", "unit", fmt.Sprint(o.unitA)), want: authzInA}, {path: q("/employees", "unit", fmt.Sprint(o.unitB)), want: authzInB}},
		"GET /employees/:id":     {{path: id("/employees/%d", o.empA), want: authzInA}, {path: id("/employees/%d", o.empB), want: authzInB}},
		"GET /roster/export.csv": one("/roster/export.csv", authzSignedIn),
		"GET /account":           one("/account", authzSignedIn),
		"POST /account/password": one("/account/password", authzSignedIn),
		"GET /results":           one("/results", authzSignedIn),
		"GET /service":           {{path: "/service", want: authzSignedIn}, {path: id("/service?round=%d", o.roundB), want: authzInB}},
		"GET /results/:id":       {{path: id("/results/%d", o.progAll), want: authzSignedIn}, {path: id("/results/%d", o.progB), want: authzInB}},
		"GET /rounds/:id":        {{path: id("/rounds/%d", o.roundAll), want: authzSignedIn}, {path: id("/rounds/%d", o.roundB), want: authzInB}},
		"GET /rounds/:id/export.csv": {{path: id("/rounds/%d/export.csv", o.roundAll), want: authzSignedIn},
			{path: id("/rounds/%d/export.csv", o.roundB), want: authzInB}},
		"GET /reports/correlation":     scoped("/reports/correlation", authzSignedIn),
		"GET /reports/correlation.csv": scoped("/reports/correlation.csv", authzSignedIn),
		"GET /reports/retention":       scoped("/reports/retention", authzSignedIn),
		"GET /reports/retention.csv":   scoped("/reports/retention.csv", authzSignedIn),
		"GET /risks":                   one("/risks", authzSignedIn),
		"GET /comments": {{path: "/comments", want: authzSignedIn}, {path: id("/comments?program=%d", o.progAll), want: authzSignedIn},
			{path: id("/comments?program=%d", o.progB), want: authzInB}},
		"POST /comments/ack": {{path: "/comments/ack", want: authzInA, form: url.Values{"round": {fmt.Sprint(o.roundAll)}, "comment": {o.commentA}}},
			{path: "/comments/ack", want: authzInB, form: url.Values{"round": {fmt.Sprint(o.roundAll)}, "comment": {o.commentB}}},
			{path: "/comments/ack", want: authzInB, form: url.Values{"round": {fmt.Sprint(o.roundB)}, "comment": {o.commentBOnly}}}},
		"POST /comments/note": {{path: "/comments/note", want: authzInA, form: url.Values{"round": {fmt.Sprint(o.roundAll)}, "unit": {fmt.Sprint(o.unitA)}, "note": {"We fixed the rota."}}},
			{path: "/comments/note", want: authzInB, form: url.Values{"round": {fmt.Sprint(o.roundAll)}, "unit": {fmt.Sprint(o.unitB)}, "note": {"We fixed the rota."}}},
			{path: "/comments/note", want: authzInB, form: url.Values{"round": {fmt.Sprint(o.roundB)}, "unit": {fmt.Sprint(o.unitB)}, "note": {"We fixed the rota."}}}},

		// HR and admins.
		"POST /units/:id":                       one(id("/units/%d", o.unitA), authzEditors),
		"POST /employees/:id":                   one(id("/employees/%d", o.empA), authzEditors),
		"GET /roster/import":                    one("/roster/import", authzEditors),
		"POST /roster/import":                   one("/roster/import", authzEditors),
		"POST /roster/import/:upload/apply":     one("/roster/import/{upload:roster}/apply", authzEditors),
		"GET /history/import":                   one("/history/import", authzEditors),
		"POST /history/import":                  one("/history/import", authzEditors),
		"POST /history/import/:upload/apply":    one("/history/import/{upload:history}/apply", authzEditors),
		"GET /programs":                         one("/programs", authzEditors),
		"GET /programs/new":                     one("/programs/new", authzEditors),
		"POST /programs":                        one("/programs", authzEditors),
		"GET /programs/:id":                     one(id("/programs/%d", o.progAll), authzEditors),
		"GET /programs/:id/edit":                one(id("/programs/%d/edit", o.progAll), authzEditors),
		"POST /programs/:id":                    one(id("/programs/%d", o.progAll), authzEditors),
		"POST /programs/:id/pause":              one(id("/programs/%d/pause", o.progAll), authzEditors),
		"POST /programs/:id/resume":             one(id("/programs/%d/resume", o.progAll), authzEditors),
		"POST /programs/:id/send":               one(id("/programs/%d/send", o.progAll), authzEditors),
		"GET /programs/:id/preview":             one(id("/programs/%d/preview", o.progAll), authzEditors),
		"GET /questions":                        one("/questions", authzEditors),
		"POST /questions":                       one("/questions", authzEditors),
		"POST /questions/:id/translations":      one(id("/questions/%d/translations", o.question), authzEditors),
		"POST /questions/:id/retire":            one(id("/questions/%d/retire", o.question), authzEditors),
		"POST /questions/:id/restore":           one(id("/questions/%d/restore", o.question), authzEditors),
		"GET /outbox":                           one("/outbox", authzEditors),
		"POST /outbox/retry":                    one("/outbox/retry", authzEditors),
		"GET /ratings/import":                   one("/ratings/import", authzEditors),
		"POST /ratings/import":                  one("/ratings/import", authzEditors),
		"POST /ratings/import/:upload/check":    one("/ratings/import/{upload:ratings}/check", authzEditors),
		"POST /ratings/import/:upload/apply":    one("/ratings/import/{upload:ratings}/apply", authzEditors),
		"GET /users":                            one("/users", authzAdmins),
		"POST /users":                           one("/users", authzAdmins),
		"GET /users/:id":                        one(id("/users/%d", o.victimUser), authzAdmins),
		"POST /users/:id":                       one(id("/users/%d", o.victimUser), authzAdmins),
		"GET /audit":                            one("/audit", authzAdmins),
		"GET /settings/api-keys":                one("/settings/api-keys", authzAdmins),
		"POST /settings/api-keys":               one("/settings/api-keys", authzAdmins),
		"GET /settings/api-keys/:id/revoke":     one("/settings/api-keys/{victimkey}/revoke", authzAdmins),
		"POST /settings/api-keys/:id/revoke":    one("/settings/api-keys/{victimkey}/revoke", authzAdmins),
		"GET /settings/sso":                     one("/settings/sso", authzAdmins),
		"POST /settings/sso/rules":              one("/settings/sso/rules", authzAdmins),
		"POST /settings/sso/rules/:id/delete":   one("/settings/sso/rules/{ssorule}/delete", authzAdmins),
		"GET /api/v1/reports/correlation":       scoped("/api/v1/reports/correlation", authzSignedIn|authzKeyAll),
		"GET /api/v1/reports/correlation/pairs": scoped("/api/v1/reports/correlation/pairs", authzSignedIn|authzKeyAll),
		"GET /api/v1/reports/retention":         scoped("/api/v1/reports/retention", authzSignedIn|authzKeyAll),
		"POST /api/v1/customer-ratings":         {{path: "/api/v1/customer-ratings", want: authzRatingKey, json: rating}},
		"POST /api/v1/exits":                    {{path: "/api/v1/exits", want: authzKeyAll, json: `{}`}},
		"GET /p/:token":                         one("/p/{answer}", authzHolder),
		"POST /p/:token":                        one("/p/{answer}", authzHolder),
		"GET /helpdesk":                         one("/helpdesk", authzEditors),
		"POST /helpdesk":                        one("/helpdesk", authzEditors),
		"GET /helpdesk/:id":                     one("/helpdesk/{connector}", authzEditors),
		"POST /helpdesk/:id":                    one("/helpdesk/{connector}", authzEditors),
		"POST /helpdesk/:id/groups":             one("/helpdesk/{connector}/groups", authzEditors),
		"POST /helpdesk/:id/sync":               one("/helpdesk/{connector}/sync", authzEditors),
		"POST /helpdesk/:id/retry":              one("/helpdesk/{connector}/retry", authzEditors),
		"POST /helpdesk/:id/delete":             one("/helpdesk/{connector}/delete", authzEditors),
		"GET /programs/cadence-preview":         one("/programs/cadence-preview?repeat=weekly&weeks=2&weekday=1&start=2026-12-07&at=09:00&timezone=UTC", authzEditors),
		"POST /settings/timezone":               one("/settings/timezone?timezone=UTC", authzEditors),
		"POST /settings/language":               one("/settings/language?language=de", authzEditors),
		"POST /programs/:id/skip":               one(id("/programs/%d/skip?day=2030-01-07", o.progAll), authzEditors),
		"POST /programs/:id/unskip":             one(id("/programs/%d/unskip?day=2030-01-07", o.progAll), authzEditors),
		"POST /users/throttles/clear":           {{path: "/users/throttles/clear", want: authzAdmins, form: url.Values{"email": {"x@example.com"}, "ip": {"192.0.2.1"}}}},
	}
}

// resolve fills a case's placeholders for principal p.
func (o *authzOrg) resolve(t *testing.T, p authzPrincipal, path string) string {
	t.Helper()
	ctx := context.Background()
	link := func(valid string) string {
		if p == pEmployee {
			return valid
		}
		return auth.NewToken() // well-formed, unknown
	}
	path = strings.ReplaceAll(path, "{answer}", link(o.answerLink))
	path = strings.ReplaceAll(path, "{setup}", link(o.setupTok))
	for _, kind := range []string{"roster", "ratings", "history"} {
		ph := "{upload:" + kind + "}"
		if !strings.Contains(path, ph) {
			continue
		}
		token := auth.NewToken()
		if uid, ok := o.users[p]; ok {
			up := store.Upload{IDHash: auth.HashToken(token), UserID: uid, Kind: kind, Filename: kind + ".csv"}
			switch kind {
			case "roster":
				up.Data = []byte("email,name,team\nn1@north.example,Nadia Northwind 1,Acme/Northwind\n")
			case "ratings":
				up.Options, up.Data = "source=matrix&metric=csat", []byte("no,ratings\nhere,\n")
			default:
				up.Data = []byte("unit,date,eng.proud\nAcme,2020-01-01,\n")
			}
			if err := o.st.SaveUpload(ctx, up, timeNow(), timeNow().Add(24*time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		path = strings.ReplaceAll(path, ph, token)
	}
	if strings.Contains(path, "{ssorule}") {
		r := sso.Rule{Kind: sso.RuleGroup, Value: auth.NewToken(), Role: tandem.RoleHR}
		if err := o.st.AddSSORule(ctx, &r); err != nil {
			t.Fatal(err)
		}
		path = strings.ReplaceAll(path, "{ssorule}", fmt.Sprint(r.ID))
	}
	if strings.Contains(path, "{connector}") {
		// A fresh connector for each request (one of them deletes it); the
		// machine's clock only makes its source unique, it dates nothing.
		c := store.HelpdeskConnector{Kind: "zendesk", Name: "Matrix", Source: fmt.Sprintf("zendesk-m%d", time.Now().UnixNano()),
			BaseURL: "https://matrix.zendesk.com", Secret: "v1:sealed", Active: true, Every: time.Hour, Lookback: 7, StartAt: timeNow().AddDate(0, -1, 0)}
		if err := o.st.CreateHelpdeskConnector(ctx, &c, timeNow()); err != nil {
			t.Fatal(err)
		}
		path = strings.ReplaceAll(path, "{connector}", fmt.Sprint(c.ID))
	}
	if strings.Contains(path, "{victimkey}") {
		_, k, err := o.st.CreateAPIKey(ctx, "victim", []string{store.ScopeReportsRead}, 0, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		path = strings.ReplaceAll(path, "{victimkey}", fmt.Sprint(k.ID))
	}
	return path
}

// do sends one request as p. A session principal gets a fresh session of
// its own (so that signing out or in, or a password change, cannot
// disturb the next request) and sends its CSRF token; everyone else sends
// a valid CSRF cookie and token, so that CSRF is never what refuses.
func (o *authzOrg) do(t *testing.T, p authzPrincipal, method, path string, c authzCase) response {
	t.Helper()
	ctx := context.Background()
	csrf := o.anonCSRF
	cookies := []string{csrfCookie + "=" + o.anonCSRF}
	if uid, ok := o.users[p]; ok {
		sid := auth.NewToken()
		csrf = auth.NewToken()
		now := timeNow()
		if err := o.st.CreateSession(ctx, store.Session{IDHash: auth.HashToken(sid), UserID: uid, CSRFToken: csrf,
			CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		cookies = append(cookies, sessionCookie+"="+sid)
	}
	var body io.Reader
	form := url.Values{}
	for k, v := range c.form {
		form[k] = v
	}
	if method == http.MethodPost {
		if c.json != "" {
			body = strings.NewReader(c.json)
		} else {
			form.Set(csrfField, csrf)
			body = strings.NewReader(form.Encode())
		}
	}
	req, err := http.NewRequest(method, o.http.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Cookie", strings.Join(cookies, "; "))
	if method == http.MethodPost {
		req.Header.Set(csrfHeader, csrf)
		if c.json != "" {
			req.Header.Set("Content-Type", "application/json")
		} else {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if key, ok := o.keys[p]; ok {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	cl := &http.Client{Transport: ownTransport(true), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := cl.Do(req)
	if err != nil {
		t.Fatalf("%s %s as %s: %v", method, path, p, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, string(b), res.Header}
}

// authzDenied reports whether a response refuses the caller: 401, 403, 404, or
// a page sending the browser to sign in first.
func authzDenied(r response) bool {
	switch r.status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		return true
	}
	return r.status/100 == 3 && strings.HasPrefix(r.header.Get("Location"), "/login?next=")
}

// authzRouteKeys lists the router's routes as "METHOD /pattern", sorted by
// pattern then method.
func authzRouteKeys(s *Server) []string {
	var keys []string
	seen := map[string]bool{}
	for _, r := range s.Echo().Routes() {
		k := r.Method + " " + r.Path
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b string) int {
		ma, pa, _ := strings.Cut(a, " ")
		mb, pb, _ := strings.Cut(b, " ")
		return strings.Compare(pa+" "+ma, pb+" "+mb)
	})
	return keys
}

func TestEveryRouteHasAnAuthorizationRule(t *testing.T) {
	t.Parallel() // its own server and database; among the slowest of the package
	o := newAuthzOrg(t)
	table := o.authzTable()
	routes := authzRouteKeys(o.srv)
	inRouter := map[string]bool{}
	for _, k := range routes {
		inRouter[k] = true
		if _, ok := table[k]; !ok {
			t.Errorf("add an entry for %s to authzTable in authz_test.go: who may call it, and who not?", k)
		}
	}
	for k := range table {
		if !inRouter[k] {
			t.Errorf("authzTable has an entry for %s, which the router does not have: remove it", k)
		}
	}
	// The markers are real: HR's view of the company round shows both
	// units' data, so their absence from a leader's pages means something.
	hr := o.do(t, pHR, http.MethodGet, fmt.Sprintf("/rounds/%d", o.roundAll), authzCase{})
	for _, m := range append(append([]string{}, o.markersA[0], o.markersA[2]), o.markersB[0], o.markersB[2]) {
		if !strings.Contains(hr.body, m) {
			t.Fatalf("HR's results of the company round lack %q: the leader checks below would prove nothing", m)
		}
	}
	requests := 0
	for _, k := range routes {
		method, _, _ := strings.Cut(k, " ")
		for _, c := range table[k] {
			for p := authzPrincipal(0); p < numPrincipals; p++ {
				path := o.resolve(t, p, c.path)
				r := o.do(t, p, method, path, c)
				if os.Getenv("TANDEM_AUTHZ_LOG") != "" {
					t.Logf("%-6s %-45.45s %-24s %d %s", method, path, p, r.status, r.header.Get("Location"))
				}
				requests++
				want := c.want.has(p)
				switch {
				case r.status >= 500:
					t.Errorf("%s %s as %s: %d, want no server error\n%.300s", method, path, p, r.status, r.body)
					continue
				case r.status == http.StatusTooManyRequests:
					t.Errorf("%s %s as %s: 429; the matrix must not hit a rate limit", method, path, p)
					continue
				case strings.Contains(r.body, "did not come from Tandem"):
					t.Errorf("%s %s as %s: refused for its CSRF token; the matrix sends a valid one", method, path, p)
					continue
				}
				if got := !authzDenied(r); got != want {
					verdict := "allowed"
					if !want {
						verdict = "denied"
					}
					t.Errorf("%s %s as %s: %d (Location %q), want %s", method, path, p, r.status, r.header.Get("Location"), verdict)
				}
				o.checkNoOtherUnitsData(t, p, method, path, r)
			}
		}
	}
	t.Logf("%d routes, %d requests", len(routes), requests)
}

// checkNoOtherUnitsData asserts that a leader's response, allowed or
// denied, names nothing of the other unit (unless the request itself
// named it, as a filter the answer may quote).
func (o *authzOrg) checkNoOtherUnitsData(t *testing.T, p authzPrincipal, method, path string, r response) {
	t.Helper()
	var other []string
	switch p {
	case pLeaderA:
		other = o.markersB
	case pLeaderB:
		other = o.markersA
	default:
		return
	}
	asked, _ := url.QueryUnescape(path)
	for _, m := range other {
		if strings.Contains(r.body, m) && !strings.Contains(asked, m) {
			t.Errorf("%s %s as %s: the response shows %q, data of the other leader's unit", method, path, p, m)
		}
	}
}

func TestALeaderIsDeniedTheOtherUnitsRecordsByIDAndByFilter(t *testing.T) {
	t.Parallel()
	// The matrix above asserts the status of each request; this states the
	// leader's case on its own, for the reader of docs/security.md.
	o := newAuthzOrg(t)
	for _, path := range []string{
		fmt.Sprintf("/units/%d", o.unitB),
		fmt.Sprintf("/employees/%d", o.empB),
		fmt.Sprintf("/employees?unit=%d", o.unitB),
		fmt.Sprintf("/results/%d", o.progB),
		fmt.Sprintf("/rounds/%d", o.roundB),
		fmt.Sprintf("/rounds/%d/export.csv", o.roundB),
		fmt.Sprintf("/service?round=%d", o.roundB),
		"/reports/correlation?unit=" + url.QueryEscape(o.pathB),
		"/reports/retention?unit=" + url.QueryEscape(o.pathB),
		"/reports/retention.csv?unit=" + fmt.Sprint(o.unitB),
		"/api/v1/reports/correlation?unit=" + url.QueryEscape(o.pathB),
		"/api/v1/reports/correlation/pairs?unit=" + url.QueryEscape(o.pathB),
		"/api/v1/reports/retention?unit=" + fmt.Sprint(o.unitB),
	} {
		r := o.do(t, pLeaderA, http.MethodGet, path, authzCase{})
		if r.status != http.StatusNotFound {
			t.Errorf("leader of A GET %s: %d, want 404 (not even confirming it exists)", path, r.status)
		}
		o.checkNoOtherUnitsData(t, pLeaderA, http.MethodGet, path, r)
	}
}

// authzSetCookie returns the Set-Cookie line of a response for cookie name.
func authzSetCookie(r response, name string) string {
	for _, line := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(line, name+"=") {
			return line
		}
	}
	return ""
}

// authzSignIn signs in on a server by hand (GET /login for the CSRF
// cookie, then POST), so that Set-Cookie lines can be read whatever their
// Secure flag.
func authzSignIn(t *testing.T, base, email string) (login, signIn response) {
	t.Helper()
	cl := &http.Client{Transport: ownTransport(true), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(req *http.Request) response {
		res, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return response{res.StatusCode, string(b), res.Header}
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/login", nil)
	login = do(req)
	m := csrfRe.FindStringSubmatch(login.body)
	ck := authzSetCookie(login, csrfCookie)
	if m == nil || ck == "" {
		t.Fatalf("sign-in page without CSRF token or cookie")
	}
	form := url.Values{"email": {email}, "password": {testPassword}, csrfField: {m[1]}}
	req, _ = http.NewRequest(http.MethodPost, base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", strings.SplitN(ck, ";", 2)[0])
	return login, do(req)
}

func TestSessionCookieIsHttpOnlyLaxAndSecureWhenServedOverTLS(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	secure, err := New(Config{SecureCookies: true, Now: timeNow}, app.st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(secure.Handler())
	defer hs.Close()
	for _, tc := range []struct {
		name, base string
		secure     bool
	}{{"plain HTTP", app.http.URL, false}, {"--secure-cookies", hs.URL, true}} {
		login, signIn := authzSignIn(t, tc.base, "hr@example.com")
		if signIn.status != http.StatusSeeOther {
			t.Fatalf("%s: sign-in %d", tc.name, signIn.status)
		}
		for _, line := range []string{authzSetCookie(login, csrfCookie), authzSetCookie(signIn, sessionCookie)} {
			if line == "" {
				t.Fatalf("%s: a cookie was not set", tc.name)
			}
			if !strings.Contains(line, "HttpOnly") || !strings.Contains(line, "SameSite=Lax") {
				t.Errorf("%s: %q, want HttpOnly and SameSite=Lax", tc.name, line)
			}
			if strings.Contains(line, "Secure") != tc.secure {
				t.Errorf("%s: %q, want Secure %v", tc.name, line, tc.secure)
			}
		}
	}
}

func TestSessionIDIsStoredOnlyAsItsHash(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	c.login("admin@example.com")
	sid := c.cookie(sessionCookie)
	if len(sid) < 43 {
		t.Fatalf("session id %q: want 256 random bits", sid)
	}
	rows, err := app.st.DB().Query("SELECT id_hash FROM sessions")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	found := false
	for rows.Next() {
		var h string
		rows.Scan(&h)
		if h == sid {
			t.Error("the session id itself is stored")
		}
		found = found || h == auth.HashToken(sid)
	}
	if !found {
		t.Error("the session's hash is not stored: the check above saw nothing")
	}
}

func TestSignInIsRefusedPerAddressAcrossAccountsAndReplicas(t *testing.T) {
	t.Parallel() // its own server and database; among the slowest of the package
	app := newTestApp(t)
	// A second replica on the same database: failures are counted there.
	other, err := New(Config{Now: timeNow}, app.st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(other.Handler())
	defer hs.Close()
	c := app.client()
	for i := 0; i < auth.DefaultThrottle.AddressFree; i++ {
		// A different account each time: no account reaches its own limit.
		r := c.postForm("/login", "/login", url.Values{"email": {fmt.Sprintf("guess%d@example.com", i)}, "password": {"guess"}})
		if r.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401", i+1, r.status)
		}
	}
	_, r := authzSignIn(t, hs.URL, "admin@example.com")
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Errorf("the right password from the same address on another replica after %d failures: %d, want 429 with Retry-After",
			auth.DefaultThrottle.AddressFree, r.status)
	}
}

func TestPasswordsAreHashedWithArgon2idAtTheOWASPMinimum(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	a := app.client()
	a.login("admin@example.com")
	if r := a.postForm("/users", "/users", url.Values{"email": {"new.hr@example.com"}, "role": {"hr"}, "password": {"a long enough password"}}); r.status != http.StatusSeeOther {
		t.Fatalf("creating an account: %d", r.status)
	}
	u, err := app.st.UserByEmail(context.Background(), "new.hr@example.com")
	if err != nil {
		t.Fatal(err)
	}
	// OWASP Password Storage Cheat Sheet: argon2id, m = 19 MiB, t = 2, p = 1.
	if want := "$argon2id$v=19$m=19456,t=2,p=1$"; !strings.HasPrefix(u.PasswordHash, want) {
		t.Errorf("password stored as %.40q…, want a hash starting %q", u.PasswordHash, want)
	}
	if strings.Contains(u.PasswordHash, "a long enough password") {
		t.Error("the password is stored")
	}
}

// authzLog is a log destination that tests read while the server writes.
type authzLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *authzLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *authzLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestRequestLogNamesTheRoutePatternNeverTheLinkToken(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	var logs authzLog
	srv, err := New(Config{Now: timeNow}, app.st, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	answer, setup := auth.NewToken(), auth.NewToken()
	for _, path := range []string{"/p/" + answer, "/setup/" + setup} {
		res, err := http.Get(hs.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	deadline := time.Now().Add(2 * time.Second)
	for !strings.Contains(logs.String(), "route=/setup/:token") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	got := logs.String()
	for _, want := range []string{"route=/p/:token", "route=/setup/:token"} {
		if !strings.Contains(got, want) {
			t.Errorf("the request log lacks %s:\n%s", want, got)
		}
	}
	for _, secret := range []string{answer, setup} {
		if strings.Contains(got, secret) {
			t.Errorf("the request log holds a link token:\n%s", got)
		}
	}
}

func TestSignInRedirectStaysOnThisSite(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	for next, want := range map[string]string{
		"/results":                 "/results",
		"//evil.example/x":         "/",
		"https://evil.example/":    "/",
		"/\\evil.example":          "/",
		"javascript:alert(1)":      "/",
		"":                         "/",
		"/reports/correlation?x=1": "/reports/correlation?x=1",
	} {
		c := app.client()
		r := c.postForm("/login", "/login", url.Values{"email": {"hr@example.com"}, "password": {testPassword}, "next": {next}})
		if got := r.header.Get("Location"); r.status != http.StatusSeeOther || got != want {
			t.Errorf("next=%q: %d to %q, want 303 to %q", next, r.status, got, want)
		}
	}
}

// browserTarget resolves a Location header the way a browser does before it
// follows it (WHATWG URL parsing): tabs and newlines anywhere are removed,
// leading and trailing control characters and spaces are trimmed, and "\"
// is read as "/" in a special scheme's URL.
func browserTarget(base, loc string) (*url.URL, error) {
	loc = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, loc)
	loc = strings.TrimFunc(loc, func(r rune) bool { return r <= ' ' })
	loc = strings.ReplaceAll(loc, `\`, "/")
	b, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	return b.Parse(loc)
}

func TestSignInRedirectRefusesKnownBypasses(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	site, _ := url.Parse(app.http.URL)
	for _, next := range []string{
		"//evil.example",
		"///evil.example",
		"/\\evil.example",
		"\\\\evil.example",
		"/\t/evil.example", // next=/%09/evil.example, decoded
		"/\n/evil.example",
		"/\r\n/evil.example",
		"\t//evil.example",
		" //evil.example",
		"/\x00/evil.example",
		"/\\/evil.example",
		"/%2F/evil.example",
		"/%5Cevil.example",
		"%2F%2Fevil.example",
		"https://evil.example/",
		"https:evil.example",
		"HTTPS://evil.example",
		"//evil.example@tandem.example",
		"/@evil.example",
		"javascript:alert(1)",
		"JaVaScRiPt:alert(1)",
		"\tjavascript:alert(1)",
		"java\tscript:alert(1)",
		"data:text/html,<script>alert(1)</script>",
		"/%0d%0aLocation:%20//evil.example",
	} {
		c := app.client()
		r := c.roundTrip(http.MethodPost, "/login", url.Values{csrfField: {c.csrf("/login")}, "email": {"hr@example.com"}, "password": {testPassword}, "next": {next}})
		if r.status != http.StatusSeeOther {
			t.Errorf("next=%q: status %d, want 303", next, r.status)
			continue
		}
		loc := r.header.Get("Location")
		got, err := browserTarget(app.http.URL, loc)
		if err != nil || got.Scheme != site.Scheme || got.Host != site.Host || strings.ContainsAny(loc, "\t\r\n\\") {
			t.Errorf("next=%q: redirected to %q, which a browser follows to %v (%v); want a path on this site", next, loc, got, err)
		}
		// A signed-in browser sent to /login?next=… is redirected the same way.
		r = c.roundTrip(http.MethodGet, "/login?next="+url.QueryEscape(next), nil)
		loc = r.header.Get("Location")
		if got, err := browserTarget(app.http.URL, loc); r.status != http.StatusSeeOther || err != nil || got.Host != site.Host || got.Scheme != site.Scheme {
			t.Errorf("signed in, GET /login?next=%q: %d to %q (%v), want 303 to a path on this site", next, r.status, loc, got)
		}
	}
	// The query string of the report, as the browser sent it.
	c := app.client()
	r := c.get("/login?next=/%09/evil.example")
	m := regexp.MustCompile(`name="next" value="([^"]*)"`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatal("the sign-in page does not carry next")
	}
	next := html.UnescapeString(m[1])
	r = c.roundTrip(http.MethodPost, "/login", url.Values{csrfField: {c.csrf("/login")}, "email": {"hr@example.com"}, "password": {testPassword}, "next": {next}})
	loc := r.header.Get("Location")
	if got, err := browserTarget(app.http.URL, loc); err != nil || got.Host != site.Host {
		t.Errorf("next=/%%09/evil.example: redirected to %q, which a browser follows to %v; want this site", loc, got)
	}
}

// roundTrip sends one request with the browser's cookies but without Go's
// redirect handling, which refuses to parse a Location a browser would
// follow; the cookies the answer sets are kept.
func (c *client) roundTrip(method, path string, form url.Values) response {
	c.app.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, c.app.http.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, ck := range c.c.Jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		c.app.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	c.c.Jar.SetCookies(req.URL, res.Cookies())
	return response{res.StatusCode, string(b), res.Header}
}
