package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tandem-hq/tandem/internal/helpdesk"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// Helpdesk is the helpdesk sync as the connector pages use it
// (helpdesk.Syncer).
type Helpdesk interface {
	// Keyring seals credentials; nil without TANDEM_SECRET_KEY.
	Keyring() *helpdesk.Keyring
	// Groups checks a connector's address and credentials by listing its
	// groups (and saves them for a stored connector).
	Groups(ctx context.Context, c store.HelpdeskConnector) ([]store.HelpdeskGroup, error)
	// Wake runs due syncs now.
	Wake()
}

// SetHelpdesk connects the server to the helpdesk sync.
func (s *Server) SetHelpdesk(h Helpdesk) { s.helpdesk = h }

// checkTimeout bounds the check of a helpdesk's credentials while the
// person waits for the page.
const checkTimeout = 20 * time.Second

// connectorForm is the settings form as filled in.
type connectorForm struct {
	Kind, Name, Account, Source, Email, CSAT, Every, Lookback, Start string
	Active                                                           bool
}

func readConnectorForm(c echo.Context) connectorForm {
	return connectorForm{Kind: c.FormValue("kind"), Name: c.FormValue("name"), Account: c.FormValue("account"), Source: c.FormValue("source"),
		Email: c.FormValue("email"), CSAT: c.FormValue("zendesk_csat"), Every: c.FormValue("every"), Lookback: c.FormValue("lookback"),
		Start: c.FormValue("start"), Active: c.FormValue("active") != ""}
}

func connectorFormOf(c store.HelpdeskConnector) connectorForm {
	return connectorForm{Kind: c.Kind, Name: c.Name, Account: c.BaseURL, Source: c.Source, CSAT: c.Options,
		Every: c.Every.String(), Lookback: strconv.Itoa(c.Lookback), Start: tandem.FormatDate(c.StartAt), Active: c.Active}
}

// settings reads the form into helpdesk settings.
func (f connectorForm) settings(token string) (helpdesk.Settings, error) {
	set := helpdesk.Settings{Kind: f.Kind, Name: f.Name, Account: f.Account, Source: f.Source, ZendeskCSAT: f.CSAT, Active: f.Active,
		Credentials: helpdesk.Credentials{Email: f.Email, Token: token}}
	var err error
	if set.Every, err = time.ParseDuration(strings.TrimSpace(f.Every)); err != nil && strings.TrimSpace(f.Every) != "" {
		return set, tandem.FieldErrorf("every", "%q is not a time between syncs, such as 1h or 30m", f.Every)
	}
	if strings.TrimSpace(f.Lookback) == "" {
		set.Lookback = helpdesk.DefaultLookback
	} else if set.Lookback, err = strconv.Atoi(strings.TrimSpace(f.Lookback)); err != nil {
		return set, tandem.FieldErrorf("lookback", "%q is not a number of days", f.Lookback)
	}
	if set.StartAt, err = tandem.ParseDate(strings.TrimSpace(f.Start)); err != nil {
		return set, tandem.FieldErrorf("start", "%q is not a date; give the first day to pull ratings from, as YYYY-MM-DD", f.Start)
	}
	return set, nil
}

// everyChoices are the offered times between syncs.
var everyChoices = []struct{ Value, Label string }{
	{"15m0s", "every 15 minutes"}, {"30m0s", "every 30 minutes"}, {"1h0m0s", "every hour"},
	{"6h0m0s", "every 6 hours"}, {"24h0m0s", "every day"},
}

// connectorRow is a connector as the list shows it.
type connectorRow struct {
	store.HelpdeskConnector
	Status string // ok, error, syncing, paused, new
}

func rowOf(c store.HelpdeskConnector, now time.Time) connectorRow {
	st := "ok"
	switch {
	case !c.Active:
		st = "paused"
	case c.LeaseUntil.After(now):
		st = "syncing"
	case c.LastError != "":
		st = "error"
	case c.LastFinished.IsZero():
		st = "new"
	}
	return connectorRow{HelpdeskConnector: c, Status: st}
}

func (s *Server) helpdeskPage(c echo.Context) error {
	return s.renderHelpdesk(c, http.StatusOK, connectorForm{Kind: helpdesk.Zendesk, Every: "1h0m0s", Lookback: strconv.Itoa(helpdesk.DefaultLookback),
		Start: tandem.FormatDate(tandem.Today(s.now()).AddDate(0, -3, 0)), Active: true, CSAT: helpdesk.ZendeskLegacy}, "")
}

func (s *Server) renderHelpdesk(c echo.Context, status int, form connectorForm, errMsg string) error {
	cs, err := s.store.HelpdeskConnectors(c.Request().Context())
	if err != nil {
		return err
	}
	now := s.now()
	rows := make([]connectorRow, 0, len(cs))
	for _, x := range cs {
		rows = append(rows, rowOf(x, now))
	}
	return s.renderStatus(c, status, "helpdesk", pageData{Title: "Helpdesk connectors", Nav: "ratings", Data: map[string]any{
		"Connectors": rows, "Form": form, "Error": errMsg, "Every": everyChoices, "Running": s.helpdesk != nil,
		"HasKey": s.helpdesk != nil && s.helpdesk.Keyring() != nil, "KeyEnv": helpdesk.SecretKeyEnv, "MaxLookback": helpdesk.MaxLookback,
	}})
}

// createConnector checks the settings and the credentials (by listing the
// helpdesk's groups) and stores the connector; its first sync starts at
// once.
func (s *Server) createConnector(c echo.Context) error {
	ctx := c.Request().Context()
	form := readConnectorForm(c)
	fail := func(err error) error {
		if code := tandem.ErrorCode(err); code == tandem.EINTERNAL {
			return err
		}
		return s.renderHelpdesk(c, http.StatusUnprocessableEntity, form, tandem.ErrorMessage(err))
	}
	if s.helpdesk == nil {
		return fail(tandem.Errorf(tandem.EUNAVAILABLE, "the helpdesk sync is not running in this process"))
	}
	set, err := form.settings(c.FormValue("token"))
	if err != nil {
		return fail(err)
	}
	conn, err := helpdesk.Connector(set, s.helpdesk.Keyring(), nil)
	if err != nil {
		return fail(err)
	}
	cctx, cancel := context.WithTimeout(ctx, checkTimeout)
	groups, err := s.helpdesk.Groups(cctx, conn)
	cancel()
	if err != nil {
		return fail(tandem.Errorf(tandem.EINVALID, "Tandem could not read %s with these settings: %s", conn.BaseURL, helpdesk.Message(err)))
	}
	earlier, err := s.store.RatingsCountBySource(ctx, conn.Source)
	if err != nil {
		return err
	}
	if err := s.store.CreateHelpdeskConnector(ctx, &conn, s.now()); err != nil {
		return fail(err)
	}
	if err := s.store.SaveHelpdeskGroups(ctx, conn.ID, groups, s.now()); err != nil {
		return err
	}
	s.helpdesk.Wake()
	msg := fmt.Sprintf("Connected %s (%s): %d groups found. Map them to units below; the first sync has started.", conn.Name, conn.BaseURL, len(groups))
	if earlier > 0 {
		msg += fmt.Sprintf(" Note: %d ratings with source %q were stored before, from files or the API. The sync counts a rating once only if those carried the helpdesk's rating id; if they came from a ticket export (ticket numbers as ids), delete this connector and add it again with another source name, such as %s-sync.",
			earlier, conn.Source, conn.Kind)
	}
	s.audit(c, "helpdesk.create", fmt.Sprintf("%s %s (%s), source %s", conn.Kind, conn.Name, conn.BaseURL, conn.Source))
	s.flash(c, msg)
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/helpdesk/%d", conn.ID))
}

func (s *Server) connectorOf(c echo.Context) (store.HelpdeskConnector, error) {
	id, err := paramID(c, "id")
	if err != nil {
		return store.HelpdeskConnector{}, err
	}
	return s.store.HelpdeskConnector(c.Request().Context(), id)
}

// maxSetAsideShown is how many set-aside ratings the page lists.
const maxSetAsideShown = 200

func (s *Server) connectorPage(c echo.Context) error {
	conn, err := s.connectorOf(c)
	if err != nil {
		return err
	}
	return s.renderConnector(c, http.StatusOK, conn, connectorFormOf(conn), "")
}

func (s *Server) renderConnector(c echo.Context, status int, conn store.HelpdeskConnector, form connectorForm, errMsg string) error {
	ctx := c.Request().Context()
	groups, err := s.store.HelpdeskGroups(ctx, conn.ID)
	if err != nil {
		return err
	}
	aside, total, err := s.store.HelpdeskSetAside(ctx, conn.ID, maxSetAsideShown)
	if err != nil {
		return err
	}
	tree, err := s.store.Tree(ctx)
	if err != nil {
		return err
	}
	return s.renderStatus(c, status, "helpdesk_connector", pageData{Title: conn.Name, Nav: "ratings", Data: map[string]any{
		"C": rowOf(conn, s.now()), "Form": form, "Error": errMsg, "Groups": groups, "Units": tree.Walk(), "SetAside": aside,
		"SetAsideTotal": total, "Every": everyChoices, "HasKey": s.helpdesk != nil && s.helpdesk.Keyring() != nil,
		"KeyEnv": helpdesk.SecretKeyEnv, "MaxLookback": helpdesk.MaxLookback,
	}})
}

// updateConnector saves new settings; new credentials are checked first.
func (s *Server) updateConnector(c echo.Context) error {
	ctx := c.Request().Context()
	old, err := s.connectorOf(c)
	if err != nil {
		return err
	}
	form := readConnectorForm(c)
	form.Kind, form.Source = old.Kind, old.Source
	fail := func(err error) error {
		if tandem.ErrorCode(err) == tandem.EINTERNAL {
			return err
		}
		return s.renderConnector(c, http.StatusUnprocessableEntity, old, form, tandem.ErrorMessage(err))
	}
	if s.helpdesk == nil {
		return fail(tandem.Errorf(tandem.EUNAVAILABLE, "the helpdesk sync is not running in this process"))
	}
	set, err := form.settings(c.FormValue("token"))
	if err != nil {
		return fail(err)
	}
	conn, err := helpdesk.Connector(set, s.helpdesk.Keyring(), &old)
	if err != nil {
		return fail(err)
	}
	if conn.Secret != "" || conn.BaseURL != old.BaseURL {
		check := conn
		if check.Secret == "" {
			check.Secret = old.Secret
		}
		cctx, cancel := context.WithTimeout(ctx, checkTimeout)
		_, err := s.helpdesk.Groups(cctx, check)
		cancel()
		if err != nil {
			return fail(tandem.Errorf(tandem.EINVALID, "Tandem could not read %s with these settings: %s", conn.BaseURL, helpdesk.Message(err)))
		}
	}
	if err := s.store.UpdateHelpdeskConnector(ctx, &conn, s.now()); err != nil {
		return fail(err)
	}
	detail := fmt.Sprintf("%s (%s)", conn.Name, conn.Source)
	if conn.Secret != "" {
		detail += ", new credentials"
	}
	s.audit(c, "helpdesk.update", detail)
	s.flash(c, "Saved.")
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/helpdesk/%d", conn.ID))
}

// mapConnectorGroups saves the unit of each group (group_ID → unit id).
func (s *Server) mapConnectorGroups(c echo.Context) error {
	conn, err := s.connectorOf(c)
	if err != nil {
		return err
	}
	params, err := c.FormParams()
	if err != nil {
		return err
	}
	units := map[string]int64{}
	for k, v := range params {
		g, ok := strings.CutPrefix(k, "group_")
		if !ok || len(v) == 0 {
			continue
		}
		u := int64(0)
		if strings.TrimSpace(v[0]) != "" {
			if u, err = strconv.ParseInt(strings.TrimSpace(v[0]), 10, 64); err != nil {
				return s.renderConnector(c, http.StatusUnprocessableEntity, conn, connectorFormOf(conn), fmt.Sprintf("%q is not a unit; choose one from the list", v[0]))
			}
		}
		units[g] = u
	}
	if err := s.store.MapHelpdeskGroups(c.Request().Context(), conn.ID, units); err != nil {
		if tandem.ErrorCode(err) == tandem.EINTERNAL {
			return err
		}
		return s.renderConnector(c, http.StatusUnprocessableEntity, conn, connectorFormOf(conn), tandem.ErrorMessage(err))
	}
	s.audit(c, "helpdesk.groups", fmt.Sprintf("%s: %d groups mapped", conn.Name, len(units)))
	s.flash(c, "Groups saved. They apply to ratings synced from now on; use “Try the set-aside ratings again” for those set aside before.")
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/helpdesk/%d", conn.ID))
}

// syncConnectorNow asks for a sync at once.
func (s *Server) syncConnectorNow(c echo.Context) error {
	conn, err := s.connectorOf(c)
	if err != nil {
		return err
	}
	if err := s.store.RequestHelpdeskSync(c.Request().Context(), conn.ID); err != nil {
		return err
	}
	if s.helpdesk != nil {
		s.helpdesk.Wake()
	}
	s.flash(c, "Sync requested; it starts within a minute. Reload this page to see how it went.")
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/helpdesk/%d", conn.ID))
}

// retrySetAside reads the helpdesk again from the oldest set-aside
// rating, after the roster or the group mapping changed.
func (s *Server) retrySetAside(c echo.Context) error {
	conn, err := s.connectorOf(c)
	if err != nil {
		return err
	}
	from, err := helpdesk.Rewind(c.Request().Context(), s.store, conn.ID, s.now())
	if err != nil {
		if tandem.ErrorCode(err) == tandem.EINTERNAL {
			return err
		}
		return s.renderConnector(c, http.StatusConflict, conn, connectorFormOf(conn), tandem.ErrorMessage(err))
	}
	if from.IsZero() {
		s.flash(c, "No ratings are set aside.")
	} else {
		if s.helpdesk != nil {
			s.helpdesk.Wake()
		}
		s.flash(c, fmt.Sprintf("The next sync reads again from %s, and has been requested.", tandem.FormatDate(from)))
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/helpdesk/%d", conn.ID))
}

// deleteConnector removes a connector; the ratings it stored stay.
func (s *Server) deleteConnector(c echo.Context) error {
	conn, err := s.connectorOf(c)
	if err != nil {
		return err
	}
	if err := s.store.DeleteHelpdeskConnector(c.Request().Context(), conn.ID); err != nil {
		return err
	}
	s.audit(c, "helpdesk.delete", fmt.Sprintf("%s (%s)", conn.Name, conn.Source))
	s.flash(c, fmt.Sprintf("Removed %s. The ratings it stored stay.", conn.Name))
	return c.Redirect(http.StatusSeeOther, "/helpdesk")
}
