// Package benchorg builds the organisation Tandem's pulse benchmarks run
// on: a new SQLite database with a generated roster and one weekly pulse
// program for the whole company, through the same store calls the app
// uses.
package benchorg

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"path/filepath"
	"time"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/roster"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// TeamSize is how many people each generated team has.
const TeamSize = 20

// Roster returns a roster CSV of n employees in the README's format: teams
// of TeamSize under ten divisions of one company, everyone with an email
// address, no dates. The same n gives the same file.
func Roster(n int) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"employee_id", "email", "name", "team"})
	for i := 1; i <= n; i++ {
		team := (i - 1) / TeamSize
		w.Write([]string{
			fmt.Sprintf("E%06d", i),
			fmt.Sprintf("person.%d@example.com", i),
			fmt.Sprintf("Person %d", i),
			fmt.Sprintf("Acme Group/Division %d/Team %d", team%10+1, team+1),
		})
	}
	w.Flush()
	return buf.Bytes()
}

// Org is a ready organisation.
type Org struct {
	Store   *store.Store
	Program pulse.Program
	// Path is the database file.
	Path string
}

// New creates dir/tandem.db with a roster of n employees (all active since
// 30 days ago) and a weekly program for the whole company delivering by
// channel, with Tandem's defaults otherwise (7 questions a round, k = 5).
func New(ctx context.Context, dir string, n int, channel string) (*Org, error) {
	path := filepath.Join(dir, "tandem.db")
	st, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		return nil, err
	}
	plan, err := st.PlanRoster(ctx, bytes.NewReader(Roster(n)), roster.Options{})
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("plan roster: %w", err)
	}
	if _, err := st.ApplyRoster(ctx, plan, tandem.Today(time.Now()).AddDate(0, 0, -30)); err != nil {
		st.Close()
		return nil, fmt.Errorf("apply roster: %w", err)
	}
	tree, err := st.Tree(ctx)
	if err != nil {
		st.Close()
		return nil, err
	}
	p := pulse.Defaults()
	p.Name = "Benchmark pulse"
	p.AudienceUnitID = tree.Roots()[0]
	p.Cadence.Zone = "Europe/Berlin"
	p.Channel = channel
	if err := st.SaveProgram(ctx, &p); err != nil {
		st.Close()
		return nil, fmt.Errorf("save program: %w", err)
	}
	return &Org{Store: st, Program: p, Path: path}, nil
}

// InvitationIDs returns the ids of a round's invitations in order.
func (o *Org) InvitationIDs(ctx context.Context, roundID int64) ([]int64, error) {
	rows, err := o.Store.DB().QueryContext(ctx, "SELECT id FROM invitations WHERE round_id = ? ORDER BY id", roundID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
