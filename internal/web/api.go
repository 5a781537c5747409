package web

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/ratings"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

const ctxAPIKey = "tandem.apikey"

// apiKeyOf returns the API key the request was authenticated with, or nil
// (a signed-in browser, see apiOrSession).
func apiKeyOf(c echo.Context) *store.APIKey {
	k, _ := c.Get(ctxAPIKey).(*store.APIKey)
	return k
}

// apiKey authenticates a request by its `Authorization: Bearer tdm_…`
// header and requires the key to grant scope. No key, a malformed one, or
// one unknown, expired or revoked is 401 with a WWW-Authenticate challenge
// (RFC 6750); a key without the scope is 403.
func (s *Server) apiKey(scope string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			header := strings.TrimSpace(c.Request().Header.Get(echo.HeaderAuthorization))
			if header == "" {
				h.Set(echo.HeaderWWWAuthenticate, `Bearer realm="tandem"`)
				return tandem.Errorf(tandem.EUNAUTHORIZED, "This endpoint needs an API key: send it as the header Authorization: Bearer tdm_…. An admin creates keys in Tandem under Settings, API keys.")
			}
			scheme, token, _ := strings.Cut(header, " ")
			token = strings.TrimSpace(token)
			if !strings.EqualFold(scheme, "Bearer") || token == "" {
				h.Set(echo.HeaderWWWAuthenticate, `Bearer realm="tandem", error="invalid_request"`)
				return tandem.Errorf(tandem.EUNAUTHORIZED, "The Authorization header must be \"Bearer \" followed by the API key (tdm_…).")
			}
			if !strings.HasPrefix(token, store.APIKeyPrefix) || len(token) != len(store.APIKeyPrefix)+43 {
				h.Set(echo.HeaderWWWAuthenticate, `Bearer realm="tandem", error="invalid_token"`)
				return tandem.Errorf(tandem.EUNAUTHORIZED, "This is not a Tandem API key: keys start with tdm_ and have 47 characters. Check that it was copied whole.")
			}
			k, err := s.store.APIKeyByToken(c.Request().Context(), auth.HashToken(token), s.now())
			if tandem.ErrorCode(err) == tandem.EUNAUTHORIZED {
				h.Set(echo.HeaderWWWAuthenticate, `Bearer realm="tandem", error="invalid_token"`)
				return err
			} else if err != nil {
				return err
			}
			if !k.HasScope(scope) {
				h.Set(echo.HeaderWWWAuthenticate, fmt.Sprintf(`Bearer realm="tandem", error="insufficient_scope", scope=%q`, scope))
				return tandem.Errorf(tandem.EFORBIDDEN, "API key %q may do %s, not %s; ask an admin for a key with the %s scope.",
					k.Name, strings.Join(k.Scopes, " and "), scope, scope)
			}
			c.Set(ctxAPIKey, &k)
			return next(c)
		}
	}
}

// apiOrSession admits a request with an API key granting scope (when it
// sends an Authorization header) or from a signed-in browser, for GET
// endpoints that pages fetch too. A browser's state-changing request must
// carry the CSRF token as on any page. A request with a key has no user:
// it sees the whole organisation (scope(c) is 0), within the anonymity
// threshold like everyone.
func (s *Server) apiOrSession(scope string) echo.MiddlewareFunc {
	withKey := s.apiKey(scope)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		byKey := withKey(next)
		checked := s.csrf(next)
		bySession := s.loadSession(func(c echo.Context) error {
			if currentUser(c) == nil {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="tandem"`)
				return tandem.Errorf(tandem.EUNAUTHORIZED, "Sign in to Tandem, or send an API key with the %s scope as the header Authorization: Bearer tdm_….", scope)
			}
			switch c.Request().Method {
			case http.MethodGet, http.MethodHead, http.MethodOptions:
				return next(c)
			}
			return checked(c)
		})
		return func(c echo.Context) error {
			if c.Request().Header.Get(echo.HeaderAuthorization) != "" {
				return byKey(c)
			}
			return bySession(c)
		}
	}
}

// apiError writes an error in the API's shape with a status the domain
// codes do not have (413, 415, 422), and extra fields beside "error".
func apiError(c echo.Context, status int, code, msg string, extra map[string]any) error {
	body := map[string]any{"error": map[string]any{"code": code, "message": msg,
		"request_id": c.Response().Header().Get(echo.HeaderXRequestID)}}
	for k, v := range extra {
		body[k] = v
	}
	return c.JSON(status, body)
}

// isJSON reports whether a Content-Type names JSON.
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == echo.MIMEApplicationJSON || strings.HasSuffix(mt, "+json"))
}

// apiRowError is one problem in a rejected batch.
type apiRowError struct {
	Index   int    `json:"index"`
	Field   string `json:"field,omitempty"`
	Value   string `json:"value,omitempty"`
	Message string `json:"message"`
}

// postRatings takes one rating or a batch of up to ratings.MaxBatch, all
// or nothing: 200 {"accepted": n, "duplicates": m}; 422 with every problem
// by index when any rating is wrong (nothing is stored).
func (s *Server) postRatings(c echo.Context) error {
	if ct := c.Request().Header.Get(echo.HeaderContentType); !isJSON(ct) {
		if ct == "" {
			ct = "none"
		}
		return apiError(c, http.StatusUnsupportedMediaType, tandem.EINVALID,
			fmt.Sprintf("Send the ratings as JSON with the header Content-Type: application/json (this request's Content-Type: %s). For CSV files, use the upload page or tandem import ratings.", ct), nil)
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var he *echo.HTTPError
		if errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge {
			return apiError(c, http.StatusRequestEntityTooLarge, tandem.EINVALID,
				fmt.Sprintf("The body is larger than the server takes (%s); send at most %d ratings per request, in several requests.", s.cfg.BodyLimit, ratings.MaxBatch), nil)
		}
		return err
	}
	ins, err := ratings.ParseJSON(body, ratings.MaxBatch)
	var se *ratings.SyntaxError
	var tm *ratings.TooManyError
	switch {
	case errors.As(err, &se):
		return tandem.Errorf(tandem.EINVALID, "%s", se.Message)
	case errors.As(err, &tm):
		return apiError(c, http.StatusRequestEntityTooLarge, tandem.EINVALID, tm.Error(), nil)
	case err != nil:
		return err
	}
	ctx := c.Request().Context()
	agents := make([]string, len(ins))
	for i, in := range ins {
		agents[i] = in.AgentEmail
	}
	dir, err := s.store.RatingDirectoryFor(ctx, agents)
	if err != nil {
		return err
	}
	b := ratings.NewBatch(dir, s.now())
	for _, in := range ins {
		b.Add(in)
	}
	if err := b.Err(); err != nil {
		e := err.(*ratings.Error)
		list := make([]apiRowError, 0, len(e.Errors))
		for _, p := range e.Errors {
			list = append(list, apiRowError{Index: p.Index, Field: p.Field, Value: p.Value, Message: p.Message})
		}
		msg := fmt.Sprintf("%d of %d ratings have problems (%d in all, listed in \"errors\" by index); nothing was stored. Fix them and send the batch again.",
			e.Rows, len(ins), e.Total)
		return apiError(c, http.StatusUnprocessableEntity, tandem.EINVALID, msg, map[string]any{"errors": list})
	}
	res, err := s.store.IngestRatings(ctx, b.Ratings(), s.now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]int{"accepted": res.Accepted, "duplicates": res.Duplicates})
}
