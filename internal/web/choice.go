package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// programCookie remembers the pulse program a person last chose on the
// dashboard or a report, so the next page shows the same one.
const programCookie = "tandem_program"

// programChoice is the program the person asked for: the request's
// ?program= (remembered for the next page; an empty value goes back to the
// default and forgets the choice), else the remembered choice while it is
// still one they may read, else 0 for the default (pulse.DefaultProgram).
// A malformed ?program= is passed on as it is, for the report's parser to
// refuse with its own message.
func (s *Server) programChoice(c echo.Context) (string, error) {
	if c.QueryParams().Has("program") {
		v := strings.TrimSpace(c.QueryParam("program"))
		if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
			s.setProgramCookie(c, v, 0)
		} else if v == "" {
			s.setProgramCookie(c, "", -1)
		}
		return v, nil
	}
	ck, err := c.Cookie(programCookie)
	if err != nil || ck.Value == "" {
		return "", nil
	}
	id, err := strconv.ParseInt(ck.Value, 10, 64)
	if err != nil || id <= 0 {
		s.setProgramCookie(c, "", -1)
		return "", nil
	}
	ctx := c.Request().Context()
	p, err := s.store.Program(ctx, id)
	if err != nil {
		s.setProgramCookie(c, "", -1)
		return "", nil
	}
	tree, err := s.store.Tree(ctx)
	if err != nil {
		return "", err
	}
	if !p.VisibleTo(tree, scope(c)) {
		s.setProgramCookie(c, "", -1)
		return "", nil
	}
	return ck.Value, nil
}

func (s *Server) setProgramCookie(c echo.Context, v string, maxAge int) {
	c.SetCookie(&http.Cookie{Name: programCookie, Value: v, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.cfg.SecureCookies, MaxAge: maxAge})
}

// queryWithProgram reads the request's query for a report's parser, with
// "program" answered by programChoice.
func (s *Server) queryWithProgram(c echo.Context) (func(string) string, error) {
	prog, err := s.programChoice(c)
	if err != nil {
		return nil, err
	}
	return func(name string) string {
		if name == "program" {
			return prog
		}
		return c.QueryParam(name)
	}, nil
}

// visiblePrograms are the programs someone of scope may read, for a
// program picker.
func visiblePrograms(programs []pulse.Program, tree *tandem.Tree, scope int64) []pulse.Program {
	var out []pulse.Program
	for _, p := range programs {
		if p.VisibleTo(tree, scope) {
			out = append(out, p)
		}
	}
	return out
}

// chosenProgram is the program a page about one program shows: the
// person's choice (programChoice), else pulse's default for their scope;
// nil when they may see none. visible are the programs they may pick
// from.
func (s *Server) chosenProgram(c echo.Context, tree *tandem.Tree, scope int64) (prog *pulse.Program, visible []pulse.Program, err error) {
	ctx := c.Request().Context()
	programs, err := s.store.Programs(ctx)
	if err != nil {
		return nil, nil, err
	}
	counts, err := s.store.ProgramRoundCounts(ctx)
	if err != nil {
		return nil, nil, err
	}
	chosen, err := s.programChoice(c)
	if err != nil {
		return nil, nil, err
	}
	choice, _ := strconv.ParseInt(chosen, 10, 64)
	prog, err = pulse.ChooseProgram(programs, counts, tree, scope, choice)
	if err != nil {
		return nil, nil, err
	}
	return prog, visiblePrograms(programs, tree, scope), nil
}
