package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/report"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// commentRounds is how many of a program's latest closed rounds the
// comments page shows.
const commentRounds = 12

// maxCommentQuery bounds the search box.
const maxCommentQuery = 200

// commentRound is one closed round on the comments page.
type commentRound struct {
	pulse.Round
	Groups []report.CommentGroup
	// Count is how many comments the round shows (after any search).
	Count int
	Notes []noteView
}

// noteView is a round's "you said, we did" note as leaders see it.
type noteView struct {
	store.RoundNote
	Unit *tandem.Unit
}

// roundComments loads a released round's comments as someone of scope may
// see them (report.RoundComments applies the threshold and the release
// rule; an open round has none).
func (s *Server) roundComments(ctx context.Context, tree *tandem.Tree, scope int64, r pulse.Round) ([]report.CommentGroup, error) {
	if !r.Released() {
		return nil, nil
	}
	qs, err := s.store.RoundQuestions(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	resp, err := s.store.Respondents(ctx, []int64{r.ID})
	if err != nil {
		return nil, err
	}
	texts, err := s.store.TextAnswers(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	return report.RoundComments(report.RoundInput{Tree: tree, Scope: scope, Round: r, Questions: qs, Respondents: resp[r.ID], Texts: texts}), nil
}

// commentsPage lists the comments of a program's latest closed rounds,
// by round and unit, within the viewer's scope; ?q= searches them on the
// server, so the page works without JavaScript.
func (s *Server) commentsPage(c echo.Context) error {
	ctx := c.Request().Context()
	tree, err := s.store.Tree(ctx)
	if err != nil {
		return err
	}
	sc := scope(c)
	q := strings.TrimSpace(c.QueryParam("q"))
	if len([]rune(q)) > maxCommentQuery {
		return tandem.FieldErrorf("q", "the search is %d characters long; search for at most %d", len([]rune(q)), maxCommentQuery)
	}
	prog, programs, err := s.chosenProgram(c, tree, sc)
	if err != nil {
		return err
	}
	// ?pending=1 keeps the comments nobody has acknowledged yet.
	pending := c.QueryParam("pending") == "1"
	data := map[string]any{"Q": q, "Pending": pending, "Programs": programs, "NoteMax": store.MaxNoteLength}
	if prog == nil {
		return s.render(c, "comments", pageData{Title: "Comments", Nav: "comments", Data: data})
	}
	data["Program"] = prog
	all, err := s.store.Rounds(ctx, prog.ID) // newest first
	if err != nil {
		return err
	}
	// The latest closed rounds, and the oldest round still open.
	var closed []pulse.Round
	var open *pulse.Round
	var ids []int64
	for i := range all {
		all[i].TimeZone = prog.Cadence.Zone
		if !all[i].Released() {
			if open == nil || all[i].ScheduledAt.Before(open.ScheduledAt) {
				open = &all[i]
			}
		} else if len(closed) < commentRounds {
			closed = append(closed, all[i])
			ids = append(ids, all[i].ID)
		}
	}
	if open != nil {
		data["Open"] = open
	}
	acks, err := s.store.CommentAcks(ctx, ids)
	if err != nil {
		return err
	}
	ackOf := map[string]*store.CommentAck{}
	for k, a := range acks {
		ackOf[k] = &a
	}
	var rounds []commentRound
	for _, r := range closed {
		groups, err := s.roundComments(ctx, tree, sc, r)
		if err != nil {
			return err
		}
		groups = report.SearchComments(groups, q)
		if pending {
			groups = unacknowledged(groups, ackOf)
		}
		cr := commentRound{Round: r, Groups: groups}
		for _, g := range groups {
			cr.Count += len(g.Items)
		}
		rounds = append(rounds, cr)
	}
	notes, err := s.store.RoundNotes(ctx, ids)
	if err != nil {
		return err
	}
	for i := range rounds {
		for _, n := range notes {
			if n.RoundID == rounds[i].ID && inScopeOf(tree, sc, n.UnitID) {
				rounds[i].Notes = append(rounds[i].Notes, noteView{RoundNote: n, Unit: tree.Unit(n.UnitID)})
			}
		}
	}
	total := 0
	for _, r := range rounds {
		total += r.Count
	}
	var units []*tandem.Unit
	for _, u := range tree.Walk() {
		if inScopeOf(tree, sc, u.ID) {
			units = append(units, u)
		}
	}
	data["Rounds"], data["Acks"], data["Total"], data["Units"] = rounds, ackOf, total, units
	return s.render(c, "comments", pageData{Title: "Comments", Nav: "comments", Data: data})
}

// inScopeOf says whether unit lies in scope (0: the whole organisation).
func inScopeOf(tree *tandem.Tree, scope, unit int64) bool {
	return tree.Unit(unit) != nil && tree.InScope(scope, unit)
}

// unacknowledged keeps the comments without an acknowledgement, and the
// groups that still have one.
func unacknowledged(groups []report.CommentGroup, acks map[string]*store.CommentAck) []report.CommentGroup {
	var out []report.CommentGroup
	for _, g := range groups {
		var keep []report.Comment
		for _, it := range g.Items {
			if acks[it.Key] == nil {
				keep = append(keep, it)
			}
		}
		if len(keep) > 0 {
			g.Items = keep
			out = append(out, g)
		}
	}
	return out
}

// commentsURL is the comments page of a program with a search (q, and
// pending "1" for unacknowledged comments only), at an anchor.
func commentsURL(program int64, q, pending, anchor string) string {
	v := url.Values{"program": {strconv.FormatInt(program, 10)}}
	if q != "" {
		v.Set("q", q)
	}
	if pending == "1" {
		v.Set("pending", "1")
	}
	u := "/comments?" + v.Encode()
	if anchor != "" {
		u += "#" + anchor
	}
	return u
}

// closedRoundOf loads a round for an action on its comments: one of a
// program the user may read, and closed.
func (s *Server) closedRoundOf(c echo.Context, tree *tandem.Tree) (pulse.Round, pulse.Program, error) {
	ctx := c.Request().Context()
	id, err := strconv.ParseInt(strings.TrimSpace(c.FormValue("round")), 10, 64)
	if err != nil || id <= 0 {
		return pulse.Round{}, pulse.Program{}, tandem.FieldErrorf("round", "the form names no round; open the comments page again")
	}
	r, err := s.store.Round(ctx, id)
	if err != nil {
		return r, pulse.Program{}, err
	}
	p, err := s.visibleProgram(c, tree, r.ProgramID)
	if err != nil {
		return r, p, tandem.Errorf(tandem.ENOTFOUND, "There is no round %d.", id)
	}
	if !r.Released() {
		return r, p, tandem.Errorf(tandem.ECONFLICT, "Round %d is still open: its comments are shown, and can be acknowledged or answered with a note, once it closes on %s.",
			r.Seq, tandem.InZone(r.ClosesAt, p.Cadence.Zone).Format("Mon 2 Jan 2006 15:04 MST"))
	}
	return r, p, nil
}

// acknowledgeComment marks one comment as acknowledged. The comment must
// be one the user sees: in a group at or above the threshold, in their
// scope. Nothing is sent to the person who wrote it.
func (s *Server) acknowledgeComment(c echo.Context) error {
	ctx := c.Request().Context()
	tree, err := s.store.Tree(ctx)
	if err != nil {
		return err
	}
	r, p, err := s.closedRoundOf(c, tree)
	if err != nil {
		return err
	}
	key := strings.TrimSpace(c.FormValue("comment"))
	// Where is the comment counted? The whole organisation's view says
	// whether it is shown at all; the user's scope whether it is theirs.
	all, err := s.roundComments(ctx, tree, 0, r)
	if err != nil {
		return err
	}
	var unit *tandem.Unit
	for _, g := range all {
		for _, it := range g.Items {
			if it.Key == key {
				unit = g.Unit
			}
		}
	}
	if unit == nil {
		return tandem.Errorf(tandem.ENOTFOUND, "Round %d has no such comment to show.", r.Seq)
	}
	if !inScopeOf(tree, scope(c), unit.ID) {
		// The message names no unit: a leader learns nothing of the others.
		return tandem.Errorf(tandem.EFORBIDDEN, "This comment is counted in a unit outside the part of the organisation you lead; you may acknowledge comments of your own units only.")
	}
	done, err := s.store.AcknowledgeComment(ctx, r.ID, key, currentUser(c), s.now())
	if err != nil {
		return err
	}
	if done {
		s.audit(c, "comment.acknowledge", fmt.Sprintf("round %d, %s: a comment in %s acknowledged", r.ID, p.Name, unit.Path))
		s.flash(c, "Comment marked as acknowledged. Nothing is sent to the person who wrote it.")
	} else {
		s.flash(c, "That comment was acknowledged already.")
	}
	return c.Redirect(http.StatusSeeOther, commentsURL(p.ID, c.FormValue("q"), c.FormValue("pending"), "c-"+key))
}

// saveRoundNote attaches (or replaces, or with remove=1 removes) the "you
// said, we did" note of a closed round for a unit the user may see. The
// unit's people read it with their invitation to the next round.
func (s *Server) saveRoundNote(c echo.Context) error {
	ctx := c.Request().Context()
	tree, err := s.store.Tree(ctx)
	if err != nil {
		return err
	}
	r, p, err := s.closedRoundOf(c, tree)
	if err != nil {
		return err
	}
	unitID, err := strconv.ParseInt(strings.TrimSpace(c.FormValue("unit")), 10, 64)
	if err != nil || tree.Unit(unitID) == nil {
		return tandem.FieldErrorf("unit", "choose the unit whose people should read the note")
	}
	u := tree.Unit(unitID)
	if !inScopeOf(tree, scope(c), unitID) {
		return tandem.Errorf(tandem.EFORBIDDEN, "Unit %d is outside the part of the organisation you lead: you may write notes for your own units only.", unitID)
	}
	back := commentsURL(p.ID, c.FormValue("q"), c.FormValue("pending"), fmt.Sprintf("round-%d", r.ID))
	if c.FormValue("remove") == "1" {
		removed, err := s.store.DeleteRoundNote(ctx, r.ID, unitID)
		if err != nil {
			return err
		}
		if removed {
			s.audit(c, "round.note.remove", fmt.Sprintf("round %d, %s: the note for %s removed", r.ID, p.Name, u.Path))
			s.flash(c, "Note removed.")
		}
		return c.Redirect(http.StatusSeeOther, back)
	}
	text := strings.TrimSpace(strings.ReplaceAll(c.FormValue("note"), "\r\n", "\n"))
	if err := s.store.SaveRoundNote(ctx, store.RoundNote{RoundID: r.ID, UnitID: unitID, Text: text, UpdatedAt: s.now()}, currentUser(c)); err != nil {
		return err
	}
	s.audit(c, "round.note.save", fmt.Sprintf("round %d, %s: note for %s saved (%d characters)", r.ID, p.Name, u.Path, len([]rune(text))))
	s.flash(c, fmt.Sprintf("Note saved. The people of %s read it with their invitation to the next round of %s.", u.Name, p.Name))
	return c.Redirect(http.StatusSeeOther, back)
}
