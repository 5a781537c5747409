package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// scopeInfo describes a scope on the API keys page.
type scopeInfo struct {
	Name, About string
}

var scopeInfos = []scopeInfo{
	{store.ScopeRatingsWrite, "send customer ratings (POST /api/v1/customer-ratings)"},
	{store.ScopeReportsRead, "read reports (GET /api/v1/reports/…), for the whole organisation, within the anonymity threshold"},
	{store.ScopeRosterWrite, "record leavers from an HR system (POST /api/v1/exits)"},
	{store.ScopeMetricsRead, "scrape operational metrics (GET /metrics, for Prometheus): request counts and latencies, which include when answers arrive"},
}

// apiKeyForm is the create form as filled in.
type apiKeyForm struct {
	Name, Expires string
	Scopes        map[string]bool
}

// apiKeyRow is a key as the list shows it.
type apiKeyRow struct {
	store.APIKey
	Status string // active, expired or revoked
}

func (s *Server) apiKeysPage(c echo.Context) error {
	return s.renderAPIKeys(c, http.StatusOK, map[string]any{"Form": apiKeyForm{Scopes: map[string]bool{}}})
}

func (s *Server) renderAPIKeys(c echo.Context, status int, data map[string]any) error {
	keys, err := s.store.APIKeys(c.Request().Context())
	if err != nil {
		return err
	}
	now := s.now()
	rows := make([]apiKeyRow, 0, len(keys))
	for _, k := range keys {
		st := "active"
		switch {
		case !k.RevokedAt.IsZero():
			st = "revoked"
		case !k.Active(now):
			st = "expired"
		}
		rows = append(rows, apiKeyRow{APIKey: k, Status: st})
	}
	data["Keys"] = rows
	data["Scopes"] = scopeInfos
	data["BaseURL"] = s.cfg.BaseURL
	return s.renderStatus(c, status, "api_keys", pageData{Title: "API keys", Nav: "apikeys", Data: data})
}

// createAPIKey makes a key and shows its token on the page this once; it
// is never stored or shown again.
func (s *Server) createAPIKey(c echo.Context) error {
	name := strings.TrimSpace(c.FormValue("name"))
	form, _ := c.FormParams()
	scopes := form["scopes"]
	chosen := map[string]bool{}
	for _, sc := range scopes {
		chosen[sc] = true
	}
	expiresRaw := strings.TrimSpace(c.FormValue("expires"))
	fail := func(err error) error {
		if tandem.ErrorCode(err) != tandem.EINVALID {
			return err
		}
		return s.renderAPIKeys(c, http.StatusBadRequest, map[string]any{"Error": tandem.ErrorMessage(err),
			"Form": apiKeyForm{Name: name, Expires: expiresRaw, Scopes: chosen}})
	}
	var expires time.Time
	if expiresRaw != "" {
		d, err := tandem.ParseDate(expiresRaw)
		if err != nil {
			return fail(tandem.FieldErrorf("expires", "%s", tandem.ErrorMessage(err)))
		}
		// The key works through the whole of its last day (UTC).
		expires = d.AddDate(0, 0, 1)
		if !expires.After(s.now()) {
			return fail(tandem.FieldErrorf("expires", "the expiry date has passed; choose a later one, or none"))
		}
	}
	token, k, err := s.store.CreateAPIKey(c.Request().Context(), name, scopes, currentUser(c).ID, expires)
	if err != nil {
		return fail(err)
	}
	until := "no expiry"
	if !k.ExpiresAt.IsZero() {
		until = "valid until " + k.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC")
	}
	s.audit(c, "apikey.create", fmt.Sprintf("key %d %q (tdm_%s…): %s, %s", k.ID, k.Name, k.Prefix, strings.Join(k.Scopes, " "), until))
	return s.renderAPIKeys(c, http.StatusCreated, map[string]any{"NewToken": token, "NewKey": k,
		"Form": apiKeyForm{Scopes: map[string]bool{}}})
}

// revokeAPIKeyPage asks before a key is revoked: a page, so that the
// question is asked without JavaScript too.
func (s *Server) revokeAPIKeyPage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	k, err := s.store.APIKey(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return s.render(c, "api_key_revoke", pageData{Title: "Revoke key " + k.Name, Nav: "apikeys", Data: map[string]any{"Key": k}})
}

func (s *Server) revokeAPIKey(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	k, err := s.store.APIKey(ctx, id)
	if err != nil {
		return err
	}
	if err := s.store.RevokeAPIKey(ctx, id, s.now()); err != nil {
		return err
	}
	s.audit(c, "apikey.revoke", fmt.Sprintf("key %d %q (tdm_%s…)", k.ID, k.Name, k.Prefix))
	s.flash(c, fmt.Sprintf("Key %q is revoked: requests with it are refused from now on.", k.Name))
	return c.Redirect(http.StatusSeeOther, "/settings/api-keys")
}
