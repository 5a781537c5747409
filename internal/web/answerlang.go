package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tandem-hq/tandem/internal/lang"
	"github.com/tandem-hq/tandem/internal/pulse"
)

// answerRoute is the answer link's route: its pages, notices and errors
// speak the employee's language.
const answerRoute = "/p/:token"

// ctxLang holds the *lang.Printer of an answer-link request, so that its
// error pages speak the employee's language too.
const ctxLang = "tandem.lang"

// langParam is the query parameter of a language chosen on the answer
// page. It travels in links and the form's action only: it is never
// stored, and an answer does not record it.
const langParam = "lang"

// answerPrinter decides the language of an answer-link page (lang.Choose:
// the choice made on the page, the roster's language, the browser's, the
// organisation's default) and remembers it for the error pages.
func (s *Server) answerPrinter(c echo.Context, roster string) *lang.Printer {
	choice := c.QueryParam(langParam)
	t, ok := lang.First(choice, roster, c.Request().Header.Get("Accept-Language"))
	if !ok {
		// Read only when needed: browsers nearly always name a language.
		if def, err := s.store.OrgLanguage(c.Request().Context()); err == nil {
			t = lang.Choose(def)
		}
	}
	p := lang.For(t)
	c.Set(ctxLang, p)
	return p
}

// answerLang is the request's printer, set by answerPrinter; nil outside
// the answer links.
func answerLang(c echo.Context) *lang.Printer {
	p, _ := c.Get(ctxLang).(*lang.Printer)
	return p
}

// langLink is one language of the answer page's language switch.
type langLink struct {
	Code, Name string
	Href       string
	Current    bool
}

// languageLinks are the links to the same page in each language, and the
// form action that keeps the shown language for the pages that follow.
func languageLinks(c echo.Context, p *lang.Printer) (links []langLink, action string) {
	path := c.Request().URL.Path
	for _, t := range lang.Supported {
		href := path + "?" + url.Values{langParam: {t.String()}}.Encode()
		links = append(links, langLink{Code: t.String(), Name: lang.Name(t), Href: href, Current: t == p.Tag()})
		if t == p.Tag() {
			action = href
		}
	}
	return links, action
}

// languageChoice is one option of a language select on the staff pages.
type languageChoice struct {
	Code, Name string
	Selected   bool
}

// languageChoices lists the languages Tandem speaks, with current selected;
// a current value that is none of them exactly (de-AT) is kept as its own
// option, so saving a form does not change it.
func languageChoices(current string) []languageChoice {
	var out []languageChoice
	found := current == ""
	for _, t := range lang.Supported {
		out = append(out, languageChoice{Code: t.String(), Name: lang.Name(t), Selected: t.String() == current})
		found = found || t.String() == current
	}
	if !found {
		out = append(out, languageChoice{Code: current, Name: current, Selected: true})
	}
	return out
}

// problemText says what is wrong with an answer in the page's language.
func problemText(p *lang.Printer, err error) string {
	var ap *pulse.AnswerProblem
	if !errors.As(err, &ap) {
		return err.Error()
	}
	return p.T("problem."+ap.Code, "Lo", ap.Lo, "Hi", ap.Hi, "Max", ap.Max)
}

// likertLabel and serviceLabel are the words of the 1–5 answer scales.
func likertLabel(p *lang.Printer, v int) string  { return p.T("likert." + strconv.Itoa(v)) }
func serviceLabel(p *lang.Printer, v int) string { return p.T("service." + strconv.Itoa(v)) }

// questionText is a question as the employee reads it: a built-in
// question in their language (the message files), a custom one in its
// translation when HR gave one, else as written. Answers keep the
// question's id, so answers in every language count together.
func questionText(p *lang.Printer, q pulse.Question) string {
	if !q.Builtin {
		return q.TextIn(p.Code())
	}
	if p.Tag() != lang.English && p.Has("question."+q.Key) {
		return p.T("question." + q.Key)
	}
	return q.Text
}

// translationField is one language of a custom question's translation
// form.
type translationField struct {
	Code, Name    string
	Text, Choices string
}

// translationFields lays out the translation form of q, or of what was
// entered (form, when not nil). English is included: a question written
// in another language can be translated into English.
func translationFields(q pulse.Question, form map[string]string) []translationField {
	out := make([]translationField, 0, len(lang.Supported))
	for _, t := range lang.Supported {
		code := t.String()
		f := translationField{Code: code, Name: lang.Name(t)}
		if form != nil {
			f.Text, f.Choices = form["text_"+code], form["choices_"+code]
		} else if tr, ok := q.Translations[code]; ok {
			f.Text, f.Choices = tr.Text, strings.Join(tr.Choices, "\n")
		}
		out = append(out, f)
	}
	return out
}

// translationsOf reads the translation fields of a question form
// (text_de, choices_de, …) into translations and the form map, which
// keeps them for showing the form again.
func translationsOf(c echo.Context, form map[string]string) map[string]pulse.Translation {
	tr := map[string]pulse.Translation{}
	for _, t := range lang.Supported {
		code := t.String()
		text, choices := c.FormValue("text_"+code), c.FormValue("choices_"+code)
		form["text_"+code], form["choices_"+code] = text, choices
		if strings.TrimSpace(text) == "" && strings.TrimSpace(choices) == "" {
			continue
		}
		tr[code] = pulse.Translation{Text: text, Choices: strings.Split(choices, "\n")}
	}
	return tr
}

// answerErrorPage is the error page of an answer link, in the employee's
// language: a title and message by status, without the staff pages' way
// home.
func answerErrorPage(p *lang.Printer, status int) (title, msg string) {
	key := "error.other"
	switch status {
	case http.StatusNotFound, http.StatusRequestEntityTooLarge, http.StatusTooManyRequests,
		http.StatusServiceUnavailable, http.StatusInternalServerError:
		key = "error." + strconv.Itoa(status)
	default:
		if status > 500 {
			key = "error.500"
		}
	}
	return p.T(key + ".title"), p.T(key + ".message")
}
