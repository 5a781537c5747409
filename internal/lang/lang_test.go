package lang

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// messages reads one message file as id → (plural form → text); a plain
// message has the single form "other".
func messages(t *testing.T, tag language.Tag) map[string]map[string]string {
	t.Helper()
	b, err := fs.ReadFile(files, "active."+tag.String()+".toml")
	if err != nil {
		t.Fatalf("language %s has no message file: %v", tag, err)
	}
	var raw map[string]any
	if err := toml.Unmarshal(b, &raw); err != nil {
		t.Fatalf("active.%s.toml: %v", tag, err)
	}
	out := map[string]map[string]string{}
	for id, v := range raw {
		switch v := v.(type) {
		case string:
			out[id] = map[string]string{"other": v}
		case map[string]any:
			forms := map[string]string{}
			for f, s := range v {
				forms[f], _ = s.(string)
			}
			out[id] = forms
		default:
			t.Fatalf("active.%s.toml: %s is a %T, want a string or plural forms", tag, id, v)
		}
	}
	return out
}

func TestEveryMessageIsTranslatedIntoEveryLanguage(t *testing.T) {
	en := messages(t, English)
	if len(en) < 100 {
		t.Fatalf("English has %d messages; the file did not load as expected", len(en))
	}
	for _, tag := range Supported[1:] {
		other := messages(t, tag)
		var missing, stale []string
		for id := range en {
			if _, ok := other[id]; !ok {
				missing = append(missing, id)
			}
		}
		for id := range other {
			if _, ok := en[id]; !ok {
				stale = append(stale, id)
			}
		}
		sort.Strings(missing)
		sort.Strings(stale)
		if len(missing) > 0 {
			t.Errorf("%s lacks a translation of %d messages: %s", tag, len(missing), strings.Join(missing, ", "))
		}
		if len(stale) > 0 {
			t.Errorf("%s has %d messages English does not (renamed or removed?): %s", tag, len(stale), strings.Join(stale, ", "))
		}
		for id, forms := range other {
			for f, s := range forms {
				if strings.TrimSpace(s) == "" {
					t.Errorf("%s %s (%s) is empty", tag, id, f)
				}
				if en[id] != nil && en[id]["other"] == s && len(s) > 12 && !strings.HasPrefix(id, "month.") {
					t.Errorf("%s %s is the English text %q: not translated", tag, id, s)
				}
			}
		}
	}
}

// The values pages and emails put into a message are escaped by them; the
// message itself is inserted as it is, so it must hold no markup.
func TestMessagesHoldNoMarkup(t *testing.T) {
	for _, tag := range Supported {
		for id, forms := range messages(t, tag) {
			for _, s := range forms {
				if strings.ContainsAny(s, "<>&") {
					t.Errorf("%s %s holds markup characters: %q", tag, id, s)
				}
			}
		}
	}
}

// Every message renders in every language with the data English gets,
// and each plural message has the forms each language's plural rules ask
// for (French, Spanish and Portuguese have a "many" for a million).
func TestEveryMessageRendersInEveryLanguage(t *testing.T) {
	data := []any{"Closes", "Monday", "K", 5, "Reason", "busy", "Lo", 1, "Hi", 5, "Max", 2000, "Program", "Weekly pulse", "Name", "Ana",
		"Weekday", "Monday", "Day", 7, "Month", "December", "Year", 2026, "Time", "09:00", "Zone", "CET"}
	en := messages(t, English)
	for _, tag := range Supported {
		p := For(tag)
		if p.Code() != tag.String() {
			t.Errorf("For(%s).Code() = %s", tag, p.Code())
		}
		for id, forms := range en {
			if len(forms) == 1 && forms["other"] != "" {
				got, err := p.loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: dataOf(data)})
				if err != nil || strings.Contains(got, "<no value>") || strings.Contains(got, "{{") {
					t.Errorf("%s %s renders as %q, %v", tag, id, got, err)
				}
				continue
			}
			for _, n := range []int{0, 1, 2, 3, 5, 11, 21, 100, 1000000} {
				d := dataOf(data)
				d["Count"] = n
				got, err := p.loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: d, PluralCount: n})
				if err != nil || strings.Contains(got, "<no value>") {
					t.Errorf("%s %s with count %d renders as %q, %v", tag, id, n, got, err)
				}
			}
		}
	}
}

// keyUse finds message ids written out in Go code ("p.T(\"answer.send\"")
// and templates ({{.L.T "answer.send"}}).
var keyUse = regexp.MustCompile(`\.(?:T|N)\(?\s*"([a-z0-9_]+(?:\.[a-z0-9_]+)+)"`)

// A message used in the code but missing from the files would show its id
// to an employee.
func TestEveryMessageUsedExists(t *testing.T) {
	en := messages(t, English)
	root := filepath.Join("..", "..")
	found := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !(strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".html")) || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range keyUse.FindAllStringSubmatch(string(b), -1) {
			found++
			if _, ok := en[m[1]]; !ok {
				t.Errorf("%s uses message %q, which active.en.toml does not have", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 10 {
		t.Errorf("found %d uses of messages in the code; the pattern no longer matches how the code calls them", found)
	}
}

func TestChooseTakesTheFirstPreferenceTandemSpeaks(t *testing.T) {
	cases := []struct {
		name  string
		prefs []string
		want  language.Tag
	}{
		{"page choice first", []string{"fr", "de", "es", "pt-BR"}, language.French},
		{"roster language", []string{"", "de", "fr-FR,fr;q=0.9", "es"}, language.German},
		{"regional roster language", []string{"", "de-AT", "", ""}, language.German},
		{"browser when no roster language", []string{"", "", "fr-CH, fr;q=0.9, en;q=0.8", "de"}, language.French},
		{"browser weights", []string{"", "", "it, es;q=0.5, de;q=0.8", "en"}, language.German},
		{"Portugal gets Brazilian Portuguese", []string{"", "", "pt-PT", ""}, language.BrazilianPortuguese},
		{"org default when the browser speaks nothing of ours", []string{"", "", "it, ja;q=0.5", "es"}, language.Spanish},
		{"English at last", []string{"", "", "", ""}, language.English},
		{"garbage is skipped", []string{"xx-!!", "", "*", "pt-BR"}, language.BrazilianPortuguese},
	}
	for _, c := range cases {
		if got := Choose(c.prefs...); got != c.want {
			t.Errorf("%s: Choose(%q) = %s, want %s", c.name, c.prefs, got, c.want)
		}
	}
}

func TestParseAcceptsSpokenLanguagesAndExplainsTheRest(t *testing.T) {
	ok := map[string]string{"de": "de", "DE-at": "de-AT", "pt-br": "pt-BR", " fr ": "fr", "": "", "en-GB": "en-GB", "es-419": "es-419"}
	for in, want := range ok {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := map[string]string{"it": "not a language Tandem speaks", "german": "not a language tag", "de_DE!": "not a language tag", "zh-Hant": "not a language Tandem speaks"}
	for in, want := range bad {
		_, err := Parse(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) error = %v, want one saying %q", in, err, want)
		}
	}
}

func TestDatesReadAsEachLanguageWritesThem(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no zone data:", err)
	}
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, berlin)
	want := map[language.Tag]string{
		language.English:             "Monday 7 December 2026, 09:00 CET",
		language.German:              "Montag, 7. Dezember 2026, 09:00 Uhr (CET)",
		language.French:              "lundi 7 décembre 2026 à 09:00 (CET)",
		language.Spanish:             "lunes, 7 de diciembre de 2026, 09:00 (CET)",
		language.BrazilianPortuguese: "segunda-feira, 7 de dezembro de 2026, às 09:00 (CET)",
	}
	for tag, w := range want {
		if got := For(tag).Date(at); got != w {
			t.Errorf("%s: Date = %q, want %q", tag, got, w)
		}
	}
}

func dataOf(kv []any) map[string]any { return data(kv) }
