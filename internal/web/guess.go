package web

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// Answer links are unguessable, but guessing should still be slow. Only
// links that do not work count: each address may open unknown links at
// --rate-limit per second (bursts of three times that). Past that, every
// answer link it opens is refused with 429 until its allowance refills,
// working or not, so that a refusal tells a guesser nothing. Working links
// are never counted, so a whole office behind one address answers a round
// at 9:00 without anyone's answers being turned away.

type guessLimiter struct {
	every rate.Limit
	burst int
	now   func() time.Time

	mu    sync.Mutex
	by    map[string]*guesses
	sweep time.Time
}

type guesses struct {
	lim  *rate.Limiter
	last time.Time
}

func newGuessLimiter(perSecond float64, now func() time.Time) *guessLimiter {
	return &guessLimiter{every: rate.Limit(perSecond), burst: burstOf(perSecond), by: map[string]*guesses{}, now: now}
}

// blocked reports whether addr has used up its allowance of unknown links.
func (g *guessLimiter) blocked(addr string, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	x := g.by[addr]
	return x != nil && x.lim.TokensAt(now) < 1
}

// missed counts an unknown link opened from addr.
func (g *guessLimiter) missed(addr string, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if now.Sub(g.sweep) > limitIdle {
		for a, x := range g.by {
			if now.Sub(x.last) > limitIdle {
				delete(g.by, a)
			}
		}
		g.sweep = now
	}
	x := g.by[addr]
	if x == nil {
		x = &guesses{lim: rate.NewLimiter(g.every, g.burst)}
		g.by[addr] = x
	}
	x.last = now
	x.lim.AllowN(now, 1)
}

// guard refuses answer links to an address over its allowance and counts
// the links that turn out not to work.
func (g *guessLimiter) guard(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		addr, now := c.RealIP(), g.now()
		if g.blocked(addr, now) {
			// The time one more unknown link takes to be allowed again.
			c.Response().Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(1/float64(g.every))))))
			return tandem.Errorf(tandem.ETOOMANY, "Too many links that do not work were opened from your address; wait a moment and try again.")
		}
		err := next(c)
		if c.Response().Status == http.StatusNotFound || tandem.ErrorCode(err) == tandem.ENOTFOUND {
			g.missed(addr, now)
		}
		return err
	}
}
