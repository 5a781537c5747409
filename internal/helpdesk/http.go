package helpdesk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// Retry says how a client waits out a helpdesk's rate limit and errors.
type Retry struct {
	// Tries is the most times one request is sent (default 6).
	Tries int
	// Backoff is the wait after the first 5xx answer or network error; it
	// doubles with each retry, up to MaxBackoff (defaults 2 s and 1 min).
	Backoff, MaxBackoff time.Duration
	// NoRetryAfter is the wait after a 429 without a Retry-After header
	// (default 1 min). MaxWait is the longest Retry-After a sync waits
	// out; a longer one ends the sync, which resumes at the next one
	// (default 15 min).
	NoRetryAfter, MaxWait time.Duration
}

func (r Retry) withDefaults() Retry {
	if r.Tries <= 0 {
		r.Tries = 6
	}
	if r.Backoff <= 0 {
		r.Backoff = 2 * time.Second
	}
	if r.MaxBackoff <= 0 {
		r.MaxBackoff = time.Minute
	}
	if r.NoRetryAfter <= 0 {
		r.NoRetryAfter = time.Minute
	}
	if r.MaxWait <= 0 {
		r.MaxWait = 15 * time.Minute
	}
	return r
}

// maxBody bounds a helpdesk's answer: a page of 100 ratings is a few
// hundred kilobytes.
const maxBody = 32 << 20

// client sends GET requests to one helpdesk account and decodes JSON,
// waiting out 429 (as Retry-After says) and retrying 5xx answers and
// network errors with backoff. Every wait goes through sleep, so tests
// run without waiting.
type client struct {
	vendor string // Zendesk, Freshdesk: for messages
	base   *url.URL
	http   *http.Client
	auth   func(*http.Request)
	retry  Retry
	sleep  func(ctx context.Context, d time.Duration) error
	now    func() time.Time
}

// apiError is a helpdesk's answer that retrying will not change.
type apiError struct {
	Status int
	Msg    string
}

func (e *apiError) Error() string { return e.Msg }

// Message is what a sync's error tells the person reading the connector's
// page: a helpdesk's answers and Tandem's own explanations in full,
// anything else (a database error) as the generic message, logged apart.
func Message(err error) string {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Msg
	}
	return tandem.ErrorMessage(err)
}

// get fetches path?query and decodes the JSON answer into out.
func (c *client) get(ctx context.Context, path string, query url.Values, out any) (http.Header, error) {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawQuery = query.Encode()
	backoff := c.retry.Backoff
	var last error
	for try := 1; ; try++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "Tandem helpdesk sync")
		c.auth(req)
		resp, err := c.http.Do(req)
		var wait time.Duration
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			last = fmt.Errorf("%s did not answer (%s): %w", c.vendor, c.base.Host, err)
			wait, backoff = backoff, min(2*backoff, c.retry.MaxBackoff)
		case resp.StatusCode == http.StatusOK:
			defer resp.Body.Close()
			body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
			if err != nil {
				return nil, tandem.Errorf(tandem.EUNAVAILABLE, "%s: reading the answer to %s: %v", c.vendor, path, err)
			}
			if len(body) > maxBody {
				return nil, tandem.Errorf(tandem.EUNAVAILABLE, "%s: the answer to %s is larger than %d MB", c.vendor, path, maxBody>>20)
			}
			if err := json.Unmarshal(body, out); err != nil {
				return nil, tandem.Errorf(tandem.EUNAVAILABLE, "%s: the answer to %s is not the JSON Tandem expects (%v); has the API changed?", c.vendor, path, err)
			}
			return resp.Header, nil
		case resp.StatusCode == http.StatusTooManyRequests:
			ra, ok := retryAfter(resp.Header, c.now())
			drain(resp)
			if !ok {
				ra = c.retry.NoRetryAfter
			}
			if ra > c.retry.MaxWait {
				return nil, tandem.Errorf(tandem.ETOOMANY, "%s's rate limit asks Tandem to wait %s; the sync stops here and resumes at the next one", c.vendor, ra.Round(time.Second))
			}
			last = fmt.Errorf("%s's rate limit was reached %d times in a row", c.vendor, try)
			wait = ra
		case resp.StatusCode >= 500:
			ra, ok := retryAfter(resp.Header, c.now())
			msg := describe(resp)
			last = fmt.Errorf("%s answered %d %s%s", c.vendor, resp.StatusCode, http.StatusText(resp.StatusCode), msg)
			if ok && ra <= c.retry.MaxWait {
				wait = max(ra, backoff)
			} else {
				wait = backoff
			}
			backoff = min(2*backoff, c.retry.MaxBackoff)
		default:
			return nil, c.refused(resp)
		}
		if try >= c.retry.Tries {
			return nil, tandem.Errorf(tandem.EUNAVAILABLE, "%v; gave up after %d tries, the next sync resumes here", last, try)
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// refused describes a 4xx answer: what the helpdesk said, and what to do.
func (c *client) refused(resp *http.Response) error {
	msg := describe(resp)
	var hint string
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		hint = "; check the credentials on the connector's page"
	case http.StatusForbidden:
		hint = "; the account whose credentials Tandem uses must be an admin"
	case http.StatusNotFound:
		hint = fmt.Sprintf("; check the address %s, and that the feature is on for the account", c.base.String())
	}
	return &apiError{Status: resp.StatusCode,
		Msg: fmt.Sprintf("%s refused the request: %d %s%s%s", c.vendor, resp.StatusCode, http.StatusText(resp.StatusCode), msg, hint)}
}

// describe reads the start of an error answer (helpdesks explain there)
// and closes it.
func describe(resp *http.Response) string {
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	if s == "" {
		return ""
	}
	return " (" + strings.ToValidUTF8(s, "") + ")"
}

func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// isRefused reports whether err is a helpdesk's 4xx answer.
func isRefused(err error) (int, bool) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Status, true
	}
	return 0, false
}

// sleepContext waits d or until ctx ends: the real sleeper.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
