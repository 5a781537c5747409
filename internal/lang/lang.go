// Package lang speaks to employees in their own language: the answer
// page, its notices and error pages, invitations and reminders (email and
// chat) and the built-in question bank, in English, German, French,
// Spanish and Brazilian Portuguese.
//
// Messages live in the TOML files beside this file (active.<tag>.toml),
// embedded into the binary and read with go-i18n; a test fails when any
// message lacks a translation in any language.
//
// The rules with their one home here:
//
//   - which languages Tandem speaks: Supported;
//   - whether a roster or settings value names one of them: Parse;
//   - which language a person is spoken to in: Choose (a choice made on
//     the page, else the roster's language, else the browser's
//     Accept-Language, else the organisation's default, else English).
//
// A language is only ever used to render; nothing here stores it, and an
// answer never records the language it was given in.
package lang

import (
	"embed"
	"fmt"
	"io/fs"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed active.*.toml
var files embed.FS

// Supported are the languages Tandem speaks, English first (the fallback).
var Supported = []language.Tag{
	language.English,
	language.German,
	language.French,
	language.Spanish,
	language.BrazilianPortuguese,
}

// English is the language of last resort.
var English = language.English

// names are each language's name in itself, for the language switch.
var names = map[language.Tag]string{
	language.English:             "English",
	language.German:              "Deutsch",
	language.French:              "Français",
	language.Spanish:             "Español",
	language.BrazilianPortuguese: "Português (Brasil)",
}

var (
	bundle  = mustBundle()
	matcher = language.NewMatcher(Supported)
)

func mustBundle() *i18n.Bundle {
	b, err := loadBundle(files)
	if err != nil {
		panic(err)
	}
	return b
}

// loadBundle reads every active.*.toml of fsys.
func loadBundle(fsys fs.FS) (*i18n.Bundle, error) {
	b := i18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	paths, err := fs.Glob(fsys, "active.*.toml")
	if err != nil {
		return nil, err
	}
	for _, p := range paths {
		if _, err := b.LoadMessageFileFS(fsys, p); err != nil {
			return nil, fmt.Errorf("lang: %s: %w", p, err)
		}
	}
	return b, nil
}

// Codes lists the supported languages as BCP 47 codes ("en, de, …"), for
// messages that say which are allowed.
func Codes() string {
	codes := make([]string, len(Supported))
	for i, t := range Supported {
		codes[i] = t.String()
	}
	return strings.Join(codes, ", ")
}

// match finds the supported language closest to t, and whether there is
// one at all (Italian is not close to any of them).
func match(t language.Tag) (language.Tag, bool) {
	_, i, conf := matcher.Match(t)
	if conf == language.No {
		return English, false
	}
	return Supported[i], true
}

// Parse checks a language given in a roster file or a setting: a
// well-formed BCP 47 tag ("de", "pt-BR", "fr-CA") close to a language
// Tandem speaks. It returns the tag in its canonical spelling, which is
// what gets stored; an empty value is no language.
func Parse(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	t, err := language.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a language tag (BCP 47, like de or pt-BR)", s)
	}
	if _, ok := match(t); !ok {
		return "", fmt.Errorf("%q is not a language Tandem speaks yet; use one of %s", s, Codes())
	}
	return t.String(), nil
}

// Choose picks the language to speak to one person: the first of the
// given preferences that names a supported language, in order. Callers
// pass, in this order, the language chosen on the page, the roster's
// language, the browser's Accept-Language header and the organisation's
// default. Values that do not parse are skipped; with none left it is
// English.
func Choose(prefs ...string) language.Tag {
	t, _ := First(prefs...)
	return t
}

// First is Choose that also says whether any preference named a supported
// language, so a caller can look up the organisation's default only when
// it is needed.
func First(prefs ...string) (language.Tag, bool) {
	for _, p := range prefs {
		if t, ok := choose(p); ok {
			return t, true
		}
	}
	return English, false
}

func choose(pref string) (language.Tag, bool) {
	pref = strings.TrimSpace(pref)
	if pref == "" {
		return English, false
	}
	if !strings.ContainsAny(pref, ",;") {
		t, err := language.Parse(pref)
		if err != nil {
			return English, false
		}
		return match(t)
	}
	// An Accept-Language header: the matcher weighs its q-values.
	tags, _, err := language.ParseAcceptLanguage(pref)
	if err != nil || len(tags) == 0 {
		return English, false
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No {
		return English, false
	}
	return Supported[i], true
}

// Lookup returns the supported language named exactly by code ("de",
// "pt-BR"), as used in links and form fields.
func Lookup(code string) (language.Tag, bool) {
	for _, t := range Supported {
		if t.String() == code {
			return t, true
		}
	}
	return English, false
}

// Name is a language's name in that language ("Deutsch").
func Name(t language.Tag) string {
	if n, ok := names[t]; ok {
		return n
	}
	return t.String()
}
