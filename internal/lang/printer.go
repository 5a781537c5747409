package lang

import (
	"fmt"
	"strconv"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Printer says things in one language. Templates reach it as .L: {{.L.T
// "answer.send"}}.
type Printer struct {
	tag language.Tag
	loc *i18n.Localizer
}

// For returns the printer of a supported language (English for any other).
func For(t language.Tag) *Printer {
	if m, ok := match(t); ok {
		t = m
	} else {
		t = English
	}
	return &Printer{tag: t, loc: i18n.NewLocalizer(bundle, t.String())}
}

// Tag is the printer's language.
func (p *Printer) Tag() language.Tag { return p.tag }

// Code is the printer's language as a BCP 47 code, for lang attributes
// and links ("pt-BR").
func (p *Printer) Code() string { return p.tag.String() }

// T says message id, with kv pairs of template data ("K", 5, …).
func (p *Printer) T(id string, kv ...any) string {
	// A message missing in this language comes back in English, with an
	// error; the test of the message files keeps that from shipping.
	s, _ := p.loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data(kv)})
	if s == "" {
		return id
	}
	return s
}

// N says message id in the plural form that fits n, with n as .Count.
func (p *Printer) N(id string, n int, kv ...any) string {
	d := data(kv)
	d["Count"] = n
	s, _ := p.loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: d, PluralCount: n})
	if s == "" {
		return id
	}
	return s
}

// Has says whether message id exists in the printer's language.
func (p *Printer) Has(id string) bool {
	_, err := p.loc.Localize(&i18n.LocalizeConfig{MessageID: id})
	return err == nil
}

func data(kv []any) map[string]any {
	d := make(map[string]any, len(kv)/2+1)
	for i := 0; i+1 < len(kv); i += 2 {
		d[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return d
}

// Date says a moment as people of this language write it: weekday, day,
// month, year and the time with its zone abbreviation ("Montag, 7.
// Dezember 2026, 09:00 CET").
func (p *Printer) Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return p.T("date.long",
		"Weekday", p.T("weekday."+strconv.Itoa(int(t.Weekday()))),
		"Day", t.Day(),
		"Month", p.T("month."+strconv.Itoa(int(t.Month()))),
		"Year", t.Year(),
		"Time", t.Format("15:04"),
		"Zone", t.Format("MST"))
}

// Name is the printer's language in itself.
func (p *Printer) Name() string { return Name(p.tag) }
