package helpdesk

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tandem-hq/tandem/internal/ratings"
	"github.com/tandem-hq/tandem/internal/store"
)

// freshdesk is a Freshdesk account's API (developers.freshdesk.com/api):
// GET /api/v2/surveys/satisfaction_ratings, /api/v2/agents and
// /api/v2/groups. Lists are pages (page, per_page up to 100), with a Link
// header naming the next one while there is more.
type freshdesk struct {
	c *client
	// byID holds every agent's email, listed once per sync.
	byID map[string]string
}

const freshdeskPageSize = 100

func newFreshdesk(c *client, cred Credentials) *freshdesk {
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(cred.Token+":X"))
	c.auth = func(r *http.Request) { r.Header.Set("Authorization", auth) }
	c.vendor = "Freshdesk"
	return &freshdesk{c: c}
}

func (f *freshdesk) vendor() string    { return "Freshdesk" }
func (f *freshdesk) streams() []stream { return []stream{freshdeskRatings{f}} }

// hasNext reports whether a Link header names a next page.
func hasNext(h http.Header) bool {
	for _, l := range h.Values("Link") {
		for _, part := range strings.Split(l, ",") {
			if strings.Contains(part, `rel="next"`) || strings.Contains(part, "rel=next") {
				return true
			}
		}
	}
	return false
}

func pageQuery(q url.Values, pos string) url.Values {
	if pos == "" {
		pos = "1"
	}
	q.Set("page", pos)
	q.Set("per_page", strconv.Itoa(freshdeskPageSize))
	return q
}

func nextPage(pos string, h http.Header) string {
	if !hasNext(h) {
		return ""
	}
	n, _ := strconv.Atoi(pos)
	return strconv.Itoa(max(n, 1) + 1)
}

// freshdeskRatings reads satisfaction ratings created since created_since.
// The score is the survey's default question: a value from 103 to -103
// (ratings.FreshdeskValues).
type freshdeskRatings struct{ f *freshdesk }

func (freshdeskRatings) name() string { return "ratings" }

// changeWindow: Freshdesk documents no time for changing a rating; the
// connector's lookback decides.
func (freshdeskRatings) changeWindow() int { return 0 }

func (s freshdeskRatings) page(ctx context.Context, since time.Time, pos string) (page, error) {
	var body []struct {
		ID        json.RawMessage            `json:"id"`
		AgentID   json.RawMessage            `json:"agent_id"`
		GroupID   json.RawMessage            `json:"group_id"`
		Feedback  string                     `json:"feedback"`
		Ratings   map[string]json.RawMessage `json:"ratings"`
		CreatedAt string                     `json:"created_at"`
		UpdatedAt string                     `json:"updated_at"`
	}
	q := pageQuery(url.Values{"created_since": {since.UTC().Format(time.RFC3339)}}, pos)
	h, err := s.f.c.get(ctx, "/api/v2/surveys/satisfaction_ratings", q, &body)
	if err != nil {
		return page{}, err
	}
	var p page
	for _, r := range body {
		rt := Rating{ID: idString(r.ID), Created: parseTime(r.CreatedAt), RatedAt: r.UpdatedAt,
			AgentID: idString(r.AgentID), GroupID: idString(r.GroupID), Comment: r.Feedback}
		if rt.RatedAt == "" {
			rt.RatedAt = r.CreatedAt
		}
		v, ok := r.Ratings["default_question"]
		switch {
		case !ok || idString(v) == "":
			rt.Unrated = true
		default:
			rt.Score = idString(v)
			if _, known := ratings.FreshdeskScore(rt.Score); !known {
				rt.Problem = fmt.Sprintf("Freshdesk gave the rating value %s, which is not one of its documented values (103 to -103)", rt.Score)
			}
		}
		p.Ratings = append(p.Ratings, rt)
	}
	p.Next = nextPage(pos, h)
	if len(body) == 0 {
		p.Next = "" // an empty page ends the list whatever the header says
	}
	return p, nil
}

// agents lists every agent once per sync (GET /api/v2/agents) and answers
// from that list.
func (f *freshdesk) agents(ctx context.Context, ids []string) (map[string]string, error) {
	if f.byID == nil {
		f.byID = map[string]string{}
		pos := ""
		for pages := 0; pages < maxGroupPages; pages++ {
			var body []struct {
				ID      json.RawMessage `json:"id"`
				Contact struct {
					Email string `json:"email"`
				} `json:"contact"`
			}
			h, err := f.c.get(ctx, "/api/v2/agents", pageQuery(url.Values{}, pos), &body)
			if err != nil {
				f.byID = nil
				return nil, err
			}
			for _, a := range body {
				f.byID[idString(a.ID)] = a.Contact.Email
			}
			if pos = nextPage(pos, h); pos == "" || len(body) == 0 {
				break
			}
		}
	}
	out := map[string]string{}
	for _, id := range ids {
		if e, ok := f.byID[id]; ok {
			out[id] = e
		}
	}
	return out, nil
}

// groups lists the account's groups (GET /api/v2/groups).
func (f *freshdesk) groups(ctx context.Context) ([]store.HelpdeskGroup, error) {
	var out []store.HelpdeskGroup
	pos := ""
	for pages := 0; pages < maxGroupPages; pages++ {
		var body []struct {
			ID   json.RawMessage `json:"id"`
			Name string          `json:"name"`
		}
		h, err := f.c.get(ctx, "/api/v2/groups", pageQuery(url.Values{}, pos), &body)
		if err != nil {
			return nil, err
		}
		for _, g := range body {
			out = append(out, store.HelpdeskGroup{ID: idString(g.ID), Name: g.Name})
		}
		if pos = nextPage(pos, h); pos == "" || len(body) == 0 {
			break
		}
	}
	return out, nil
}
