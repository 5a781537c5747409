package web

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/lang"
	"github.com/tandem-hq/tandem/internal/privacy"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// answerHeaders keep the answer link out of Referer headers and caches.
func answerHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		setAnswerHeaders(c.Response().Header())
		return next(c)
	}
}

func setAnswerHeaders(h http.Header) {
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Robots-Tag", "noindex")
}

// maxAnswerBody bounds an answer form, below the server's body limit: a
// form of forty free-text questions at their longest, URL-encoded, fits.
// Read through http.MaxBytesReader, a larger body fails with
// *http.MaxBytesError instead of net/http's own 10 MB cap on URL-encoded
// forms, whose error (a plain "http: POST too large") was taken for an
// empty form.
const maxAnswerBody = 1 << 20

// bodyTooLarge reports whether reading a form failed because the body is
// too large: over the server's limit (echo's 413), over a MaxBytesReader,
// or over net/http's cap on URL-encoded forms, whose error is not exported.
func bodyTooLarge(err error) bool {
	var he *echo.HTTPError
	var mb *http.MaxBytesError
	return errors.As(err, &mb) || (errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge) ||
		strings.Contains(err.Error(), "http: POST too large")
}

// answerField is one question on the answer form, with what the person
// entered and any problem with it.
type answerField struct {
	pulse.Question
	Name    string
	Value   string
	Error   string
	Options []answerOption
	// Provider is the chosen team of a Service question, Providers its
	// choices.
	Provider  string
	Providers []answerOption
}

type answerOption struct {
	Value, Label string
}

// answerFields lays out the questions in the page's language: each
// question's text and the words of its scale.
func answerFields(qs []pulse.Question, form map[string]string, tree *tandem.Tree, p *lang.Printer) []answerField {
	out := make([]answerField, len(qs))
	for i, q := range qs {
		f := answerField{Question: q, Name: "q" + strconv.FormatInt(q.ID, 10)}
		f.Text = questionText(p, q)
		f.Value = form[f.Name]
		f.Provider = form[f.Name+"_provider"]
		switch q.Kind {
		case pulse.Service:
			for v := 1; v <= 5; v++ {
				f.Options = append(f.Options, answerOption{strconv.Itoa(v), serviceLabel(p, v)})
			}
			for _, p := range q.Providers {
				name := strconv.FormatInt(p, 10)
				if u := tree.Unit(p); u != nil {
					name = u.Name
				}
				f.Providers = append(f.Providers, answerOption{strconv.FormatInt(p, 10), name})
			}
		case pulse.Likert5:
			for v := 1; v <= 5; v++ {
				f.Options = append(f.Options, answerOption{strconv.Itoa(v), likertLabel(p, v)})
			}
		case pulse.Scale010:
			for v := 0; v <= 10; v++ {
				f.Options = append(f.Options, answerOption{strconv.Itoa(v), strconv.Itoa(v)})
			}
		case pulse.Choice:
			// Translated options keep the original's positions, which is
			// what an answer stores.
			for v, l := range q.ChoicesIn(p.Code()) {
				f.Options = append(f.Options, answerOption{strconv.Itoa(v), l})
			}
		}
		out[i] = f
	}
	return out
}

// answerPage shows the round's questions for a personal link.
func (s *Server) answerPage(c echo.Context) error {
	ctx := c.Request().Context()
	inv, err := s.store.InvitationByToken(ctx, auth.HashToken(c.Param("token")))
	p := s.answerPrinter(c, inv.Language)
	if tandem.ErrorCode(err) == tandem.ENOTFOUND {
		return s.unknownLink(c, "notice.unknown")
	} else if err != nil && err != store.ErrRoundClosed {
		return err
	}
	if err == nil && inv.Responded {
		return s.answerNotice(c, http.StatusOK, p, "notice.thanks", "notice.answered")
	}
	if err == store.ErrRoundClosed || !inv.Round.OpenAt(s.now()) {
		return s.answerNotice(c, http.StatusGone, p, "notice.closed", "notice.closed")
	}
	qs, err := s.store.RoundQuestions(ctx, inv.RoundID)
	if err != nil {
		return err
	}
	tree, err := s.treeFor(c, qs)
	if err != nil {
		return err
	}
	return s.renderAnswer(c, http.StatusOK, inv, qs, answerFields(qs, nil, tree, p), "", false)
}

// renderAnswerWith shows the form again with what was entered, a problem
// with the comment, or a message about saving.
func (s *Server) renderAnswerWith(c echo.Context, status int, inv store.Invitation, fields []answerField, comment, commentErr, notSaved string) error {
	return s.renderAnswerPage(c, status, inv, fields, comment, notSaved == "", commentErr, notSaved)
}

func (s *Server) renderAnswer(c echo.Context, status int, inv store.Invitation, qs []pulse.Question, fields []answerField, comment string, hasErrors bool) error {
	return s.renderAnswerPage(c, status, inv, fields, comment, hasErrors, "", "")
}

// renderAnswerPage is the one answer page: the form, what was entered, its
// problems, and the leaders' "you said, we did" notes from the round
// before (the same rule as the invitation's email,
// store.NotesForInvitation).
func (s *Server) renderAnswerPage(c echo.Context, status int, inv store.Invitation, fields []answerField, comment string, hasErrors bool, commentErr, notSaved string) error {
	p := s.answerPrinterOf(c, inv)
	links, action := languageLinks(c, p)
	notes, err := s.store.NotesForInvitation(c.Request().Context(), inv.ID)
	if err != nil {
		return err
	}
	return s.renderStatus(c, status, "answer", pageData{Title: inv.Program, Bare: true, L: p, Data: map[string]any{
		"Program": inv.Program, "Fields": fields, "Comment": comment, "HasErrors": hasErrors, "CommentError": commentErr, "NotSaved": notSaved, "Notes": notes,
		"K": privacy.Threshold(inv.Round.MinGroup), "Closes": p.Date(tandem.InZone(inv.Round.ClosesAt, inv.Round.TimeZone)), "Action": action, "Languages": links, "Preview": false,
	}})
}

// answerableInvitation reads the whole invitation behind a link and
// refuses it when it was answered or its round is not open. The lean read
// of the submit path may not have known (a link this process minted is
// not read at all): an answered link or a closed round says so rather
// than showing a form that could not be saved.
func (s *Server) answerableInvitation(ctx context.Context, hash string) (store.Invitation, error) {
	inv, err := s.store.InvitationByToken(ctx, hash)
	if err != nil {
		return inv, err
	}
	if inv.Responded {
		return inv, store.ErrAlreadyAnswered
	}
	if !inv.Round.OpenAt(s.now()) {
		return inv, store.ErrRoundClosed
	}
	return inv, nil
}

// answerPrinterOf is the printer the request chose, or chooses it now.
func (s *Server) answerPrinterOf(c echo.Context, inv store.Invitation) *lang.Printer {
	if p := answerLang(c); p != nil {
		return p
	}
	return s.answerPrinter(c, inv.Language)
}

// answerNotice shows one of a handful of fixed pages (thank you, already
// answered, closed, unknown link). They hold nothing about the request,
// so each is rendered once and served from memory: the answer path is the
// busiest in Tandem.
func (s *Server) answerNotice(c echo.Context, status int, p *lang.Printer, titleKey, msgKey string) error {
	title, msg := p.T(titleKey+".title"), p.T(msgKey+".message")
	key := p.Code() + "\x00" + title + "\x00" + msg
	if b, ok := s.notices.Load(key); ok {
		c.Response().Header().Set("Cache-Control", "no-store")
		return c.HTMLBlob(status, b.([]byte))
	}
	t := s.pages.set["answer_notice"]
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", pageData{Title: title, Bare: true, Version: s.cfg.Version, L: p,
		Data: map[string]string{"Title": title, "Message": msg}}); err != nil {
		return err
	}
	s.notices.Store(key, buf.Bytes())
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, buf.Bytes())
}

// submitAnswer checks every answer and stores them anonymously. A form with
// problems comes back with each problem next to its question and
// everything entered kept.
func (s *Server) submitAnswer(c echo.Context) error {
	ctx := c.Request().Context()
	hash := auth.HashToken(c.Param("token"))
	// The form's action carries the language the page was shown in.
	p := s.answerPrinter(c, "")
	// The lean read: a stored answer needs no more (a link this server
	// minted needs no read at all). A form with problems reads the rest
	// to show the page again (full, below).
	inv, err := s.store.InvitationToSubmit(ctx, hash)
	if err != nil {
		return s.notSubmitted(c, err)
	}
	if inv.Responded {
		return s.notSubmitted(c, store.ErrAlreadyAnswered)
	}
	if !inv.Round.OpenAt(s.now()) {
		return s.notSubmitted(c, store.ErrRoundClosed)
	}
	qs, err := s.store.RoundQuestions(ctx, inv.RoundID)
	if err != nil {
		return err
	}
	// FormValue drops errors: a body over the limit without a
	// Content-Length (found only while reading) would come back as an
	// empty form, 422, with everything entered lost. Other parse errors
	// still give an empty form, which the checks below refuse.
	c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, maxAnswerBody)
	if _, err := c.FormParams(); err != nil && bodyTooLarge(err) {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
	}
	form := map[string]string{}
	for _, q := range qs {
		name := "q" + strconv.FormatInt(q.ID, 10)
		form[name] = c.FormValue(name)
		if q.Kind == pulse.Service {
			form[name+"_provider"] = c.FormValue(name + "_provider")
		}
	}
	comment := strings.TrimSpace(c.FormValue("comment"))
	tree, err := s.treeFor(c, qs)
	if err != nil {
		return err
	}
	fields := answerFields(qs, form, tree, p)
	if c.FormValue("relang") != "" {
		// A language button of the form: the same form in the language
		// chosen (its action's ?lang=), with everything entered kept;
		// nothing is checked or saved.
		full, err := s.answerableInvitation(ctx, hash)
		if err != nil {
			return s.notSubmitted(c, err)
		}
		return s.renderAnswer(c, http.StatusOK, full, qs, fields, comment, false)
	}
	var answers []pulse.Answer
	bad := false
	for i := range fields {
		var a pulse.Answer
		var ok bool
		var err error
		if fields[i].Kind == pulse.Service {
			a, ok, err = pulse.ParseServiceAnswer(&fields[i].Question, fields[i].Provider, fields[i].Value)
		} else {
			a, ok, err = pulse.ParseAnswer(&fields[i].Question, fields[i].Value)
		}
		if err != nil {
			fields[i].Error = problemText(p, err)
			bad = true
			continue
		}
		if ok {
			answers = append(answers, a)
		}
	}
	commentErr := ""
	if len([]rune(comment)) > pulse.MaxTextLength {
		commentErr = p.T("problem.comment_too_long", "Max", pulse.MaxTextLength)
	} else if !pulse.StorableText(comment) {
		commentErr = p.T("problem.comment_unstorable")
	}
	if bad || commentErr != "" {
		full, err := s.answerableInvitation(ctx, hash)
		if err != nil {
			return s.notSubmitted(c, err)
		}
		return s.renderAnswerWith(c, http.StatusUnprocessableEntity, full, fields, comment, commentErr, "")
	}
	err = s.store.SubmitInvitation(ctx, &inv, answers, comment, s.now())
	switch {
	case tandem.ErrorCode(err) == tandem.EUNAVAILABLE:
		// Busy or out of disk: nothing was saved; give the form back with
		// everything entered, so one click sends it again.
		c.Response().Header().Set("Retry-After", "5")
		full, ferr := s.store.InvitationByToken(ctx, hash)
		if ferr != nil {
			return err
		}
		return s.renderAnswerWith(c, http.StatusServiceUnavailable, full, fields, comment, "",
			p.T("answer.not_saved", "Reason", tandem.ErrorMessage(err)))
	case err != nil:
		return s.notSubmitted(c, err)
	}
	return s.answerNotice(c, http.StatusOK, p, "notice.thanks", "notice.saved")
}

// notSubmitted shows why an answer was not stored: an unknown link, one
// answered already or a closed round. Other errors go to the error page.
func (s *Server) notSubmitted(c echo.Context, err error) error {
	p := s.answerPrinterOf(c, store.Invitation{})
	switch {
	case err == store.ErrAlreadyAnswered:
		return s.answerNotice(c, http.StatusConflict, p, "notice.twice", "notice.twice")
	case err == store.ErrRoundClosed:
		return s.answerNotice(c, http.StatusGone, p, "notice.closed", "notice.closed_unsaved")
	case tandem.ErrorCode(err) == tandem.ENOTFOUND:
		return s.unknownLink(c, "notice.unknown_unsaved")
	}
	return err
}

// treeFor loads the organisation only when a question names teams.
func (s *Server) treeFor(c echo.Context, qs []pulse.Question) (*tandem.Tree, error) {
	for _, q := range qs {
		if q.Kind == pulse.Service {
			return s.store.Tree(c.Request().Context())
		}
	}
	return tandem.NewTree(nil), nil
}
