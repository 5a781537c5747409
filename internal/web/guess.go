package web

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// Answer links are 256 random bits, so guessing one is hopeless; guessing
// should still be slow and noisy, and must not cost a whole office its
// answers. The rule:
//
//   - A link is always looked up first: the SHA-256 of its token, then
//     one indexed read (none for a link this server minted). A working link
//     opens and takes its answer from any address, however many bad links
//     that address opened: people behind one office address never wait
//     for a colleague who mistyped links, or for someone guessing.
//   - Only links that do not work spend the address's allowance:
//     --rate-limit a second, bursts of three times that. Within it, such a
//     link gets the "This link does not work" page (404); past it, 429
//     with Retry-After, until the allowance refills. A working link does
//     not refill it.
//
// A refusal therefore says "this link does not work", as the 404 does; it
// could say nothing only by refusing working links too, which is what
// blocked offices before. What slows a guesser is the allowance: a client
// that keeps going past 429s is refused every time, and gets no more than
// --rate-limit answers a second that are not refusals. The allowance is
// kept per replica.

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

const ctxGuesses = "tandem.guesses"

func newGuessLimiter(perSecond float64, now func() time.Time) *guessLimiter {
	return &guessLimiter{every: rate.Limit(perSecond), burst: burstOf(perSecond), by: map[string]*guesses{}, now: now}
}

// spend takes one unknown link from addr's allowance; false when there is
// none left.
func (g *guessLimiter) spend(addr string, now time.Time) bool {
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
	return x.lim.AllowN(now, 1)
}

// guard gives the answer handlers the limiter: they spend the allowance
// once the lookup says a link does not work (unknownLink), so nothing is
// refused before a working link is recognised.
func (g *guessLimiter) guard(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Set(ctxGuesses, g)
		return next(c)
	}
}

// unknownLink answers a link that does not work: the page that says so, or
// 429 when the address has opened too many such links lately.
func (s *Server) unknownLink(c echo.Context, msgKey string) error {
	if g, ok := c.Get(ctxGuesses).(*guessLimiter); ok && !g.spend(c.RealIP(), g.now()) {
		// The time one more unknown link takes to be allowed again.
		c.Response().Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(1/float64(g.every))))))
		return tandem.Errorf(tandem.ETOOMANY, "Too many links that do not work were opened from your address; wait a moment and try again.")
	}
	return s.answerNotice(c, http.StatusNotFound, s.answerPrinterOf(c, store.Invitation{}), "notice.unknown", msgKey)
}
