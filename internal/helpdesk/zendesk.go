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

	"github.com/tandem-hq/tandem/internal/store"
)

// zendesk is a Zendesk account's API (developer.zendesk.com/api-reference):
// GET /api/v2/satisfaction_ratings (legacy CSAT), GET
// /api/v2/guide/survey_responses (CSAT survey responses), and the users,
// tickets and groups they name. Lists use cursor pagination:
// page[size] and page[after], with meta.has_more and meta.after_cursor.
type zendesk struct {
	c    *client
	csat string
}

// zendeskPageSize is the most a cursor page holds.
const zendeskPageSize = 100

func newZendesk(c *client, cred Credentials, csat string) *zendesk {
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(cred.Email+"/token:"+cred.Token))
	c.auth = func(r *http.Request) { r.Header.Set("Authorization", auth) }
	c.vendor = "Zendesk"
	return &zendesk{c: c, csat: csat}
}

func (z *zendesk) vendor() string { return "Zendesk" }

func (z *zendesk) streams() []stream {
	switch z.csat {
	case ZendeskResponses:
		return []stream{zendeskResponses{z}}
	case ZendeskBoth:
		return []stream{zendeskLegacy{z}, zendeskResponses{z}}
	}
	return []stream{zendeskLegacy{z}}
}

type zendeskMeta struct {
	HasMore     bool   `json:"has_more"`
	AfterCursor string `json:"after_cursor"`
}

func (m zendeskMeta) next() string {
	if m.HasMore {
		return m.AfterCursor
	}
	return ""
}

func cursorQuery(q url.Values, pos string) url.Values {
	q.Set("page[size]", strconv.Itoa(zendeskPageSize))
	if pos != "" {
		q.Set("page[after]", pos)
	}
	return q
}

// zendeskLegacy reads satisfaction ratings created since start_time, of
// every score: good and bad are ratings; offered and unoffered are surveys
// not answered yet. A rating is created when its survey is offered and
// keeps that created_at when the customer answers or changes the score,
// so every pass reads the last MaxLookback days again (changeWindow): a
// late answer or a changed score is pulled, not missed, and replaces the
// stored rating by its id.
type zendeskLegacy struct{ z *zendesk }

func (zendeskLegacy) name() string { return ZendeskLegacy }

// changeWindow: a legacy rating says nothing of until when it may change,
// and the endpoint filters on created_at, so every pass reads the last
// MaxLookback days again (a customer may change the rating until the
// ticket closes, at most 28 days after it is solved).
func (zendeskLegacy) changeWindow() int { return MaxLookback }

func (s zendeskLegacy) page(ctx context.Context, since time.Time, pos string) (page, error) {
	var body struct {
		Ratings []struct {
			ID         json.RawMessage `json:"id"`
			AssigneeID json.RawMessage `json:"assignee_id"`
			GroupID    json.RawMessage `json:"group_id"`
			Score      string          `json:"score"`
			Comment    string          `json:"comment"`
			CreatedAt  string          `json:"created_at"`
			UpdatedAt  string          `json:"updated_at"`
		} `json:"satisfaction_ratings"`
		Meta zendeskMeta `json:"meta"`
	}
	q := cursorQuery(url.Values{"start_time": {strconv.FormatInt(since.Unix(), 10)}}, pos)
	if _, err := s.z.c.get(ctx, "/api/v2/satisfaction_ratings", q, &body); err != nil {
		return page{}, err
	}
	var p page
	for _, r := range body.Ratings {
		rt := Rating{ID: idString(r.ID), Created: parseTime(r.CreatedAt), RatedAt: r.UpdatedAt, Score: r.Score,
			AgentID: idString(r.AssigneeID), GroupID: idString(r.GroupID), Comment: r.Comment}
		switch strings.ToLower(r.Score) {
		case "good", "bad":
		case "offered", "unoffered", "":
			rt.Unrated = true
		default:
			rt.Problem = fmt.Sprintf("Zendesk gave the score %q; Tandem reads good and bad", r.Score)
		}
		if rt.RatedAt == "" {
			rt.RatedAt = r.CreatedAt
		}
		p.Ratings = append(p.Ratings, rt)
	}
	p.Next = body.Meta.next()
	return p, nil
}

// zendeskResponses reads CSAT survey responses created since
// filter[created_at_start] (milliseconds). A response names the ticket it
// rates, not the agent: the ticket's assignee and group (as they are now)
// are looked up for each page.
type zendeskResponses struct{ z *zendesk }

func (zendeskResponses) name() string { return ZendeskResponses }

// changeWindow: a response says until when it may change (expires_at).
func (zendeskResponses) changeWindow() int { return 0 }

func (s zendeskResponses) page(ctx context.Context, since time.Time, pos string) (page, error) {
	type question struct {
		Type    string `json:"type"`
		SubType string `json:"sub_type"`
	}
	var body struct {
		Responses []struct {
			ID        string `json:"id"`
			ExpiresAt string `json:"expires_at"`
			Subjects  []struct {
				ID   string `json:"id"`
				Type string `json:"type"`
			} `json:"subjects"`
			Answers []struct {
				Type      string   `json:"type"`
				Rating    *int     `json:"rating"`
				Category  string   `json:"rating_category"`
				Value     string   `json:"value"`
				Question  question `json:"question"`
				CreatedAt string   `json:"created_at"`
				UpdatedAt string   `json:"updated_at"`
			} `json:"answers"`
		} `json:"survey_responses"`
		Meta zendeskMeta `json:"meta"`
	}
	q := cursorQuery(url.Values{"filter[created_at_start]": {strconv.FormatInt(since.UnixMilli(), 10)}}, pos)
	if _, err := s.z.c.get(ctx, "/api/v2/guide/survey_responses", q, &body); err != nil {
		return page{}, err
	}
	var p page
	ticketOf := map[int]string{}
	var tickets []string
	for _, resp := range body.Responses {
		r := Rating{ID: resp.ID, EditableUntil: parseTime(resp.ExpiresAt)}
		for _, a := range resp.Answers {
			if t := parseTime(a.CreatedAt); !t.IsZero() && (r.Created.IsZero() || t.Before(r.Created)) {
				r.Created = t
			}
		}
		// The CSAT question is the rating scale question of sub type
		// customer_satisfaction; a skipped one is a survey not answered.
		found := false
		for _, a := range resp.Answers {
			csat := a.Question.SubType == "customer_satisfaction" && strings.HasPrefix(a.Question.Type, "rating_scale")
			switch {
			case csat && a.Type == "rating_scale" && a.Rating != nil:
				r.Score, r.RatedAt, found = responseScore(*a.Rating, a.Category), a.UpdatedAt, true
			case csat && a.Type == "skipped":
				r.Unrated, found = true, true
			case a.Type == "open_ended" && r.Comment == "":
				r.Comment = a.Value
			}
		}
		if !found {
			r.Unrated = true
		}
		if r.RatedAt == "" {
			r.RatedAt = r.Created.Format(time.RFC3339)
		}
		for _, sub := range resp.Subjects {
			if sub.Type == "ticket" && sub.ID != "" {
				ticketOf[len(p.Ratings)] = sub.ID
				tickets = append(tickets, sub.ID)
				break
			}
		}
		p.Ratings = append(p.Ratings, r)
	}
	if len(tickets) > 0 {
		assigned, err := s.z.tickets(ctx, tickets)
		if err != nil {
			return page{}, err
		}
		for i, id := range ticketOf {
			t, ok := assigned[id]
			if !ok {
				p.Ratings[i].Problem = fmt.Sprintf("Zendesk has no ticket %s (deleted?), so no agent or group to attribute the response to", id)
				continue
			}
			p.Ratings[i].AgentID, p.Ratings[i].GroupID = t[0], t[1]
		}
	}
	p.Next = body.Meta.next()
	return p, nil
}

// responseScore reads a CSAT survey rating as a 1–5 score. Zendesk's
// surveys rate on a five-, three- or two-point scale and say of each rating
// whether it is good, neutral or bad: a good rating on a shorter scale is
// the top of it, 5 (as a legacy good), and a neutral one the middle, 3, so
// Tandem's "% satisfied" is Zendesk's good share whatever the scale. Other
// ratings are kept as given (1 is the bottom of every scale).
func responseScore(rating int, category string) string {
	switch {
	case strings.EqualFold(category, "good") && rating < 4:
		return "5"
	case strings.EqualFold(category, "neutral"):
		return "3"
	}
	return strconv.Itoa(rating)
}

// tickets returns the assignee and group of each ticket id, from GET
// /api/v2/tickets/show_many (100 ids a request).
func (z *zendesk) tickets(ctx context.Context, ids []string) (map[string][2]string, error) {
	out := map[string][2]string{}
	for start := 0; start < len(ids); start += 100 {
		var body struct {
			Tickets []struct {
				ID         json.RawMessage `json:"id"`
				AssigneeID json.RawMessage `json:"assignee_id"`
				GroupID    json.RawMessage `json:"group_id"`
			} `json:"tickets"`
		}
		part := ids[start:min(start+100, len(ids))]
		if _, err := z.c.get(ctx, "/api/v2/tickets/show_many", url.Values{"ids": {strings.Join(part, ",")}}, &body); err != nil {
			return nil, err
		}
		for _, t := range body.Tickets {
			out[idString(t.ID)] = [2]string{idString(t.AssigneeID), idString(t.GroupID)}
		}
	}
	return out, nil
}

// agents looks users up by id with GET /api/v2/users/show_many (100 ids a
// request).
func (z *zendesk) agents(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	for start := 0; start < len(ids); start += 100 {
		var body struct {
			Users []struct {
				ID    json.RawMessage `json:"id"`
				Email string          `json:"email"`
			} `json:"users"`
		}
		part := ids[start:min(start+100, len(ids))]
		if _, err := z.c.get(ctx, "/api/v2/users/show_many", url.Values{"ids": {strings.Join(part, ",")}}, &body); err != nil {
			return nil, err
		}
		for _, u := range body.Users {
			out[idString(u.ID)] = u.Email
		}
	}
	return out, nil
}

// groups lists the account's groups (GET /api/v2/groups).
func (z *zendesk) groups(ctx context.Context) ([]store.HelpdeskGroup, error) {
	var out []store.HelpdeskGroup
	pos := ""
	for pages := 0; pages < maxGroupPages; pages++ {
		var body struct {
			Groups []struct {
				ID   json.RawMessage `json:"id"`
				Name string          `json:"name"`
			} `json:"groups"`
			Meta zendeskMeta `json:"meta"`
		}
		if _, err := z.c.get(ctx, "/api/v2/groups", cursorQuery(url.Values{}, pos), &body); err != nil {
			return nil, err
		}
		for _, g := range body.Groups {
			out = append(out, store.HelpdeskGroup{ID: idString(g.ID), Name: g.Name})
		}
		if pos = body.Meta.next(); pos == "" {
			break
		}
	}
	return out, nil
}

// maxGroupPages bounds the listing of groups and agents.
const maxGroupPages = 100
