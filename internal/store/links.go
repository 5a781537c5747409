package store

import (
	"sync"
	"time"

	"github.com/tandem-hq/tandem/internal/pulse"
)

// An answer is Tandem's busiest request, and finding the invitation of its
// link was its costliest read: a lookup through three tables on a reader
// whose page cache every commit empties. So the store remembers, for each
// link it mints, what never changes about the invitation behind it — which
// invitation, round and team it is, and when the round closes — and an
// answer to such a link needs no read before its write. What does change
// (answered already? closed early?) is checked by the write itself, as for
// every answer. Links minted elsewhere (another replica, a command run
// beside the server) and links of a process started since are looked up
// in the database as before.

// maxLinks bounds the memory the links take: about 150 bytes each.
const maxLinks = 250_000

// sweepEvery is how many links are minted between sweeps of those whose
// round has closed.
const sweepEvery = 4096

// link is what never changes about the invitation an answer link opens.
type link struct {
	invitationID, roundID, unitID int64
	closesAt                      time.Time
}

func linkOf(inv Invitation) link {
	return link{invitationID: inv.ID, roundID: inv.RoundID, unitID: inv.UnitID, closesAt: inv.Round.ClosesAt}
}

// invitation is what InvitationToSubmit knows of the link without a read:
// not whether it was answered, nor whether its round closed early.
func (l link) invitation() Invitation {
	return Invitation{ID: l.invitationID, RoundID: l.roundID, UnitID: l.unitID,
		Round: pulse.Round{ID: l.roundID, ClosesAt: l.closesAt}}
}

// linkCache holds the links this process minted, by token hash.
type linkCache struct {
	mu     sync.Mutex
	m      map[string]link
	minted int
}

// remember keeps l for the link whose token hashes to hash. When maxLinks
// are kept, new links are looked up in the database until a sweep makes
// room.
func (c *linkCache) remember(hash string, l link, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]link{}
	}
	c.minted++
	if c.minted%sweepEvery == 0 {
		for h, x := range c.m {
			if !now.Before(x.closesAt) {
				delete(c.m, h)
			}
		}
	}
	if len(c.m) < maxLinks {
		c.m[hash] = l
	}
}

// lookup returns the link whose token hashes to hash, if this process
// minted it.
func (c *linkCache) lookup(hash string) (link, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.m[hash]
	return l, ok
}
