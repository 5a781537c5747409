package web

import (
	"context"
	"fmt"
	"html"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tandem-hq/tandem/internal/lang"
	"github.com/tandem-hq/tandem/internal/mail/mailtest"
	"github.com/tandem-hq/tandem/internal/roster"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// getLang opens path with an Accept-Language header.
func (c *client) getLang(path, accept string) response {
	req, _ := http.NewRequest(http.MethodGet, c.app.http.URL+path, nil)
	if accept != "" {
		req.Header.Set("Accept-Language", accept)
	}
	return c.do(req)
}

// postLang posts form to path with an Accept-Language header.
func (c *client) postLang(path, accept string, form url.Values) response {
	req, _ := http.NewRequest(http.MethodPost, c.app.http.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if accept != "" {
		req.Header.Set("Accept-Language", accept)
	}
	return c.do(req)
}

var htmlLang = regexp.MustCompile(`<html lang="([^"]+)">`)

func pageLang(body string) string {
	if m := htmlLang.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

var formAction = regexp.MustCompile(`<form class="stack answer" method="post" action="([^"]+)"`)

func TestAnswerPageSpeaksTheBrowsersLanguageAndTheOneChosenOnThePage(t *testing.T) {
	t.Parallel()
	app := newPulseApp(t, map[string]int{"Acme/Sales/EMEA": 5})
	_, links := app.sendRound()
	link := strings.TrimPrefix(links["p1@example.com"], app.http.URL)
	c := app.client()

	// A German browser gets the German page: the html element says so,
	// the frame, the scale and the built-in questions are German.
	de := c.getLang(link, "de-DE,de;q=0.9,en;q=0.5")
	if de.status != http.StatusOK || pageLang(de.body) != "de" {
		t.Fatalf("German browser: %d, <html lang=%q>, want 200 and de", de.status, pageLang(de.body))
	}
	body := html.UnescapeString(de.body)
	for _, want := range []string{"Antworten senden", "Stimme voll und ganz zu", "Zum Inhalt springen", "Anonym:"} {
		if !strings.Contains(body, want) {
			t.Errorf("German page lacks %q", want)
		}
	}
	for _, english := range []string{"Send my answers", "Strongly agree", "Skip to content"} {
		if strings.Contains(body, english) {
			t.Errorf("German page still says %q", english)
		}
	}
	// The switch offers every language as a link to this page, each
	// marked with its language; the current one is marked as such.
	for _, code := range []string{"en", "de", "fr", "es", "pt-BR"} {
		if !strings.Contains(de.body, `href="`+link+`?lang=`+code+`" lang="`+code+`" hreflang="`+code+`"`) {
			t.Errorf("language switch lacks a link to %s", code)
		}
	}
	if !strings.Contains(de.body, `hreflang="de" aria-current="page">Deutsch</a>`) {
		t.Errorf("language switch does not mark German as current")
	}

	// Choosing French on the page beats the browser; the form carries the
	// choice to the next page, and the thank-you is French too.
	fr := c.getLang(link+"?lang=fr", "de")
	if pageLang(fr.body) != "fr" || !strings.Contains(html.UnescapeString(fr.body), "Envoyer mes réponses") {
		t.Fatalf("French chosen on the page: <html lang=%q>", pageLang(fr.body))
	}
	m := formAction.FindStringSubmatch(fr.body)
	if m == nil || html.UnescapeString(m[1]) != link+"?lang=fr" {
		t.Fatalf("form action = %v, want %s?lang=fr", m, link)
	}
	// A required question left empty comes back with the problem in French.
	bad := c.postLang(html.UnescapeString(m[1]), "de", url.Values{"comment": {"x"}})
	if bad.status != http.StatusUnprocessableEntity || pageLang(bad.body) != "fr" ||
		!strings.Contains(html.UnescapeString(bad.body), "Merci de répondre à cette question.") {
		t.Fatalf("form with a problem: %d, lang %q\n%.2000s", bad.status, pageLang(bad.body), bad.body)
	}
	form := url.Values{"comment": {"Plus de café"}}
	for _, n := range regexp.MustCompile(`name="(q\d+)" value="(\d+)"`).FindAllStringSubmatch(fr.body, -1) {
		form.Set(n[1], n[2])
	}
	done := c.postLang(html.UnescapeString(m[1]), "de", form)
	if done.status != http.StatusOK || pageLang(done.body) != "fr" || !strings.Contains(done.body, "Merci !") {
		t.Fatalf("French thank-you: %d, lang %q\n%.1500s", done.status, pageLang(done.body), done.body)
	}
	// The same link again: already answered, in the browser's language.
	again := c.getLang(link, "es-MX,es;q=0.9")
	if pageLang(again.body) != "es" || !strings.Contains(again.body, "¡Gracias!") {
		t.Errorf("answered link in Spanish: lang %q\n%.1500s", pageLang(again.body), again.body)
	}

	// The answer stores no language: no column of the tables that hold
	// answers could say which language they were given in.
	for _, table := range []string{"responses", "answers"} {
		for _, col := range columns(t, app, table) {
			if strings.Contains(col, "lang") || strings.Contains(col, "locale") {
				t.Errorf("%s has column %q: an answer must not record its language", table, col)
			}
		}
	}
}

func TestAnswerLinksFallBackToTheOrganisationsLanguage(t *testing.T) {
	t.Parallel()
	app := newPulseApp(t, map[string]int{"Acme/Sales/EMEA": 5})
	_, links := app.sendRound()
	link := strings.TrimPrefix(links["p1@example.com"], app.http.URL)
	if err := app.st.SetSetting(context.Background(), store.OrgLanguageKey, "pt-BR"); err != nil {
		t.Fatal(err)
	}
	c := app.client()
	// An Italian browser: Tandem speaks no Italian, so the organisation's
	// default it is.
	if p := c.getLang(link, "it-IT,it;q=0.9"); pageLang(p.body) != "pt-BR" || !strings.Contains(html.UnescapeString(p.body), "Enviar minhas respostas") {
		t.Errorf("Italian browser, organisation in pt-BR: lang %q", pageLang(p.body))
	}
	// A browser that names a language Tandem speaks wins over the default.
	if p := c.getLang(link, "it, es;q=0.5"); pageLang(p.body) != "es" {
		t.Errorf("Italian-then-Spanish browser: lang %q, want es", pageLang(p.body))
	}
	// Error pages of the answer links follow: an unknown link, in Portuguese.
	if p := c.getLang("/p/not-a-real-token", ""); p.status != http.StatusNotFound || pageLang(p.body) != "pt-BR" ||
		!strings.Contains(html.UnescapeString(p.body), "Este link não funciona") {
		t.Errorf("unknown link: %d, lang %q\n%.1500s", p.status, pageLang(p.body), p.body)
	}
	// A body too large for the answer form: the error page is German for
	// a German browser and does not point at the staff pages.
	big := url.Values{"comment": {strings.Repeat("x", 2<<20)}}
	if p := c.postLang(link, "de", big); p.status != http.StatusRequestEntityTooLarge || pageLang(p.body) != "de" ||
		!strings.Contains(p.body, "Zu viel auf einmal") || strings.Contains(p.body, ">Home</a>") {
		t.Errorf("413 for a German browser: %d, lang %q\n%.1500s", p.status, pageLang(p.body), p.body)
	}
}

// The acceptance check: an employee with language=de in the
// roster gets a German invitation (through a real SMTP listener) and a
// German form, and their answers count in the same report as everyone
// else's.
func TestEmployeeWithLanguageDeGetsGermanInvitationAndFormAndCountsInTheSameReport(t *testing.T) {
	t.Parallel()
	app := newPulseApp(t, map[string]int{"Acme/Sales/EMEA": 6})
	ctx := context.Background()
	plan, err := app.st.PlanRoster(ctx, strings.NewReader("email,name,team,language\np1@example.com,Person 1,Acme/Sales/EMEA,de\n"), roster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.st.ApplyRoster(ctx, plan, tandem.Today(timeNow())); err != nil {
		t.Fatal(err)
	}
	r, links := app.sendRound()

	var german, english *mailtest.Message
	for _, m := range app.smtp.Messages() {
		m := m
		switch m.To[0] {
		case "p1@example.com":
			german = &m
		case "p2@example.com":
			english = &m
		}
	}
	if german == nil || english == nil {
		t.Fatal("no invitation for p1 or p2")
	}
	for _, want := range []string{"Hallo Person,", "Es sind", "kurze Fragen", "Ihre Antworten sind anonym", "ab 5 Personen"} {
		if !strings.Contains(german.Text, want) {
			t.Errorf("German invitation lacks %q:\n%s", want, german.Text)
		}
	}
	if !strings.Contains(german.Subject, "eine Minute für Ihre Meinung") || !strings.Contains(german.HTML, `<html lang="de">`) ||
		!strings.Contains(german.HTML, "Jetzt antworten") {
		t.Errorf("German invitation: subject %q, HTML:\n%s", german.Subject, german.HTML)
	}
	if !strings.Contains(english.Subject, "a one-minute pulse") || !strings.Contains(english.Text, "anonymous") {
		t.Errorf("English invitation for p2: %q\n%s", english.Subject, english.Text)
	}

	// The German form, with no Accept-Language at all: the roster decides.
	c := app.client()
	de := c.getLang(strings.TrimPrefix(links["p1@example.com"], app.http.URL), "")
	if pageLang(de.body) != "de" || !strings.Contains(html.UnescapeString(de.body), "Ich erzähle gern und mit Stolz, wo ich arbeite.") ||
		!strings.Contains(html.UnescapeString(de.body), "Antworten senden") {
		t.Fatalf("p1's form: lang %q\n%.3000s", pageLang(de.body), de.body)
	}
	// p1 answers 1 to every agreement question, the five others 5.
	if res := app.answer(links["p1@example.com"], 1, "Mehr Kaffee"); res.status != http.StatusOK {
		t.Fatalf("German answers: %d", res.status)
	}
	for i := 2; i <= 6; i++ {
		if res := app.answer(links[fmt.Sprintf("p%d@example.com", i)], 5, ""); res.status != http.StatusOK {
			t.Fatalf("p%d's answers: %d", i, res.status)
		}
	}
	// Nothing written by answering records the language: no column is
	// named for one, and no value is p1's "de".
	for _, table := range []string{"responses", "answers", "round_scores", "service_scores", "round_groups", "invitations"} {
		for _, col := range columns(t, app, table) {
			if strings.Contains(col, "lang") || strings.Contains(col, "locale") {
				t.Errorf("%s has column %q: an answer must not record its language", table, col)
			}
		}
		rows, err := app.st.DB().Query("SELECT * FROM " + table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				if v == "de" {
					t.Errorf("%s.%s holds %q, the language p1 answered in", table, cols[i], v)
				}
			}
		}
		rows.Close()
	}
	app.closeRound(r)
	hr := app.client()
	hr.login("hr@example.com")
	export := hr.get(fmt.Sprintf("/rounds/%d/export.csv", r.ID))
	if export.status != http.StatusOK {
		t.Fatalf("export: %d", export.status)
	}
	lines := strings.Split(strings.TrimSpace(export.body), "\n")
	head := strings.Split(lines[0], ",")
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	found := false
	for _, line := range lines[1:] {
		f := strings.Split(line, ",")
		if f[col["unit"]] != "Acme" {
			continue
		}
		found = true
		// Six respondents: the German answers are among them, under the
		// same question keys. Agreement items score (5·100 + 0)/6.
		if f[col["respondents"]] != "6" {
			t.Errorf("Acme respondents %s, want 6 (the German answers count with the rest)\n%s", f[col["respondents"]], export.body)
		}
		if !strings.Contains(line, ",83.33") {
			t.Errorf("Acme row has no agreement score of 83.33, the mean of five 100s and one 0:\n%s\n%s", lines[0], line)
		}
	}
	if !found {
		t.Fatalf("no Acme row in the export:\n%s", export.body)
	}
}

func TestHRSetsTheOrganisationsLanguageAndAnEmployeesLanguage(t *testing.T) {
	t.Parallel()
	app := newPulseApp(t, map[string]int{"Acme/Sales/EMEA": 5})
	ctx := context.Background()
	hr := app.client()
	hr.login("hr@example.com")

	if r := hr.postForm("/programs", "/settings/language", url.Values{"language": {"it"}}); r.status != http.StatusSeeOther {
		t.Fatalf("set Italian: %d", r.status)
	}
	if v, _ := app.st.OrgLanguage(ctx); v != "" {
		t.Errorf("after refusing Italian the setting is %q", v)
	}
	if page := hr.get("/programs"); !strings.Contains(html.UnescapeString(page.body), "not a language Tandem speaks yet") {
		t.Errorf("the refusal is not explained on the page")
	}
	if r := hr.postForm("/programs", "/settings/language", url.Values{"language": {"es"}}); r.status != http.StatusSeeOther {
		t.Fatalf("set Spanish: %d", r.status)
	}
	if v, _ := app.st.OrgLanguage(ctx); v != "es" {
		t.Errorf("organisation language %q, want es", v)
	}
	if page := hr.get("/programs"); !strings.Contains(page.body, `<option value="es" lang="es" selected>`) {
		t.Errorf("the programs page does not show Spanish as chosen")
	}

	emps, _ := app.st.AllEmployees(ctx)
	e := emps[0]
	page := fmt.Sprintf("/employees/%d", e.ID)
	form := url.Values{"name": {e.Name}, "email": {e.Email}, "unit": {fmt.Sprint(e.UnitID)}, "language": {"klingon!"}}
	if r := hr.postForm(page, page, form); r.status != http.StatusBadRequest || !strings.Contains(html.UnescapeString(r.body), "not a language tag") {
		t.Errorf("bad language: %d\n%.500s", r.status, r.body)
	}
	form.Set("language", "fr-CA")
	if r := hr.postForm(page, page, form); r.status != http.StatusSeeOther {
		t.Fatalf("save fr-CA: %d\n%.800s", r.status, r.body)
	}
	if got, _ := app.st.Employee(ctx, e.ID); got.Language != "fr-CA" {
		t.Errorf("employee language %q, want fr-CA", got.Language)
	}
	if r := hr.get(page); !strings.Contains(r.body, `<option value="fr-CA" lang="fr-CA" selected>`) {
		t.Errorf("the employee page does not keep fr-CA as its own choice")
	}
}

// fullForm fills every question of an answer page: agreement questions
// with value (doubled on the 0–10 scale), and the questions in choice
// with the option given there.
func fullForm(body string, value int, choice map[string]int) url.Values {
	form := url.Values{}
	for _, n := range regexp.MustCompile(`name="(q\d+)" value="(\d+)"`).FindAllStringSubmatch(body, -1) {
		if v, ok := choice[n[1]]; ok {
			form.Set(n[1], fmt.Sprint(v))
			continue
		}
		form.Set(n[1], fmt.Sprint(value))
		if strings.Contains(body, `name="`+n[1]+`" value="10"`) {
			form.Set(n[1], fmt.Sprint(value*2))
		}
	}
	return form
}

// HR gives a custom question its German and French text on the question
// form; a German employee reads it (and its options) in German, an
// English one as written, and both answers count under the one question.
func TestCustomQuestionTranslationsReachTheAnswerPageAndAnswersCountTogether(t *testing.T) {
	t.Parallel()
	app := newPulseApp(t, map[string]int{"Acme/Sales/EMEA": 6})
	ctx := context.Background()
	plan, err := app.st.PlanRoster(ctx, strings.NewReader("email,name,team,language\np1@example.com,Person 1,Acme/Sales/EMEA,de\n"), roster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.st.ApplyRoster(ctx, plan, tandem.Today(timeNow())); err != nil {
		t.Fatal(err)
	}
	hr := app.client()
	hr.login("hr@example.com")
	before, _ := app.st.Questions(ctx)

	// The options of a translation must match the original's, one for one.
	form := url.Values{"text": {"Where do you mostly work?"}, "kind": {"choice"}, "choices": {"Office\nHome\nBoth"},
		"text_de": {"Wo arbeiten Sie meistens?"}, "choices_de": {"Im Büro\nZu Hause"}}
	bad := hr.postForm("/questions", "/questions", form)
	if bad.status != http.StatusBadRequest || !strings.Contains(bad.body, "has 3 options and its Deutsch translation 2") ||
		!strings.Contains(bad.body, `value="Wo arbeiten Sie meistens?"`) {
		t.Fatalf("mismatched options: %d\n%.3000s", bad.status, bad.body)
	}
	// Options without the question's text are refused too.
	form.Set("choices_de", "Im Büro\nZu Hause\nBeides")
	form.Set("choices_fr", "Au bureau\nÀ la maison\nLes deux")
	if r := hr.postForm("/questions", "/questions", form); r.status != http.StatusBadRequest ||
		!strings.Contains(html.UnescapeString(r.body), "the Français options need the question in Français too") {
		t.Fatalf("French options without the question: %d\n%.3000s", r.status, r.body)
	}
	if after, _ := app.st.Questions(ctx); len(after) != len(before) {
		t.Fatalf("refused forms stored %d questions", len(after)-len(before))
	}
	form.Del("choices_fr")
	if r := hr.postForm("/questions", "/questions", form); r.status != http.StatusSeeOther {
		t.Fatalf("good question with a German translation: %d\n%.3000s", r.status, r.body)
	}
	after, _ := app.st.Questions(ctx)
	q := after[len(after)-1]
	if q.Text != "Where do you mostly work?" || len(q.Translations) != 1 || q.Translations["de"].Text != "Wo arbeiten Sie meistens?" ||
		strings.Join(q.Translations["de"].Choices, "|") != "Im Büro|Zu Hause|Beides" {
		t.Fatalf("stored question %+v", q)
	}
	// Later, a French text on the question's own form; German stays as
	// it is, and an emptied language would be removed.
	page := hr.get("/questions")
	if !strings.Contains(page.body, fmt.Sprintf(`action="/questions/%d/translations"`, q.ID)) || !strings.Contains(page.body, `value="Wo arbeiten Sie meistens?"`) {
		t.Fatalf("the question bank shows no translation form with the German text")
	}
	edit := url.Values{"text_de": {"Wo arbeiten Sie meistens?"}, "choices_de": {"Im Büro\nZu Hause\nBeides"}, "text_fr": {"Où travaillez-vous le plus souvent ?"}}
	if r := hr.postForm("/questions", fmt.Sprintf("/questions/%d/translations", q.ID), edit); r.status != http.StatusSeeOther {
		t.Fatalf("add French: %d\n%.2000s", r.status, r.body)
	}
	edit.Set("choices_es", "Oficina")
	if r := hr.postForm("/questions", fmt.Sprintf("/questions/%d/translations", q.ID), edit); r.status != http.StatusBadRequest ||
		!strings.Contains(html.UnescapeString(r.body), "the Español options need the question in Español too") {
		t.Errorf("Spanish options alone: %d", r.status)
	}
	qs, _ := app.st.Questions(ctx)
	for _, x := range qs {
		if x.ID == q.ID && (len(x.Translations) != 2 || x.Translations["fr"].Text != "Où travaillez-vous le plus souvent ?" || x.Translations["fr"].Choices != nil) {
			t.Errorf("after adding French: %+v", x.Translations)
		}
	}

	// Ask it in every round.
	p := app.program
	p.QuestionIDs, p.QuestionsPerRound = nil, p.QuestionsPerRound+1
	for _, x := range qs {
		if x.Builtin || x.ID == q.ID {
			p.QuestionIDs = append(p.QuestionIDs, x.ID)
		}
	}
	if err := app.st.SaveProgram(ctx, &p); err != nil {
		t.Fatal(err)
	}
	r, links := app.sendRound()
	name := fmt.Sprintf("q%d", q.ID)

	c := app.client()
	de := c.getLang(strings.TrimPrefix(links["p1@example.com"], app.http.URL), "")
	body := html.UnescapeString(de.body)
	if !strings.Contains(body, "Wo arbeiten Sie meistens?") || !strings.Contains(body, `value="1" required><span>Zu Hause</span>`) || strings.Contains(body, "Where do you mostly work?") {
		t.Fatalf("German page does not ask the German question with German options:\n%s", regexp.MustCompile(`<legend>.*</legend>|<span>[^<]*</span>`).FindAllString(de.body, -1))
	}
	// A corrected translation reaches the open round's page at once.
	edit.Del("choices_es")
	edit.Set("text_de", "Wo arbeiten Sie überwiegend?")
	if r := hr.postForm("/questions", fmt.Sprintf("/questions/%d/translations", q.ID), edit); r.status != http.StatusSeeOther {
		t.Fatalf("correct German: %d", r.status)
	}
	if again := html.UnescapeString(c.getLang(strings.TrimPrefix(links["p1@example.com"], app.http.URL), "").body); !strings.Contains(again, "Wo arbeiten Sie überwiegend?") {
		t.Errorf("the open round still shows the old German text")
	}
	// French chosen on the page: French text, original options.
	if fr := html.UnescapeString(c.getLang(strings.TrimPrefix(links["p1@example.com"], app.http.URL)+"?lang=fr", "").body); !strings.Contains(fr, "Où travaillez-vous le plus souvent ?") ||
		!strings.Contains(fr, "<span>Home</span>") {
		t.Errorf("French page: no French question with the original options")
	}
	if res := c.post(strings.TrimPrefix(links["p1@example.com"], app.http.URL), fullForm(de.body, 4, map[string]int{name: 1})); res.status != http.StatusOK {
		t.Fatalf("German answers: %d\n%.2000s", res.status, res.body)
	}
	for i := 2; i <= 6; i++ {
		link := strings.TrimPrefix(links[fmt.Sprintf("p%d@example.com", i)], app.http.URL)
		en := c.getLang(link, "en")
		if !strings.Contains(en.body, "Where do you mostly work?") {
			t.Fatalf("p%d's page lacks the English question", i)
		}
		opt := 0
		if i <= 3 {
			opt = 1
		}
		if res := c.post(link, fullForm(en.body, 4, map[string]int{name: opt})); res.status != http.StatusOK {
			t.Fatalf("p%d's answers: %d", i, res.status)
		}
	}
	app.closeRound(r)
	// One question, one tally: "Zu Hause" counted as "Home".
	res := hr.get(fmt.Sprintf("/rounds/%d", r.ID))
	if !strings.Contains(html.UnescapeString(res.body), "Office: 3; Home: 3; Both: 0;") {
		t.Errorf("round page does not count the German and English answers together (want Office 3, Home 3):\n%.6000s", res.body)
	}
}

// The language buttons inside the form show the same form in another
// language with everything entered still there, and save nothing.
func TestLanguageButtonsKeepWhatWasEnteredAndSaveNothing(t *testing.T) {
	t.Parallel()
	app := newPulseApp(t, map[string]int{"Acme/Sales/EMEA": 5})
	_, links := app.sendRound()
	link := strings.TrimPrefix(links["p1@example.com"], app.http.URL)
	c := app.client()
	en := c.getLang(link, "en")
	if !strings.Contains(en.body, `name="relang" value="de" formaction="`+link+`?lang=de" lang="de">Deutsch</button>`) {
		t.Fatalf("the form has no German button:\n%.5000s", en.body)
	}
	// The buttons come after Send, so Enter in the form still sends.
	if strings.Index(en.body, `name="relang"`) < strings.Index(en.body, `class="wide"`) {
		t.Errorf("a language button comes before Send")
	}
	form := fullForm(en.body, 2, nil)
	answered := slices.Sorted(maps.Keys(form))
	form.Set("comment", "Mehr Kaffee, bitte")
	form.Set("relang", "de")
	de := c.postLang(link+"?lang=de", "en", form)
	if de.status != http.StatusOK || pageLang(de.body) != "de" {
		t.Fatalf("switch to German: %d, lang %q", de.status, pageLang(de.body))
	}
	body := html.UnescapeString(de.body)
	// Every answer entered, each at its own value (2, or 4 on a 0–10 item),
	// not one picked by map order.
	for _, q := range answered {
		if want := `name="` + q + `" value="` + form.Get(q) + `" checked`; !strings.Contains(body, want) {
			t.Errorf("the German form lost %s = %s:\n%.5000s", q, form.Get(q), de.body)
		}
	}
	if !strings.Contains(body, "Mehr Kaffee, bitte</textarea>") {
		t.Errorf("the German form lost the comment:\n%.5000s", de.body)
	}
	if strings.Contains(body, `role="alert"`) {
		t.Errorf("switching language shows a problem banner")
	}
	if n := countRows(t, app, "responses"); n != 0 {
		t.Errorf("switching language stored %d responses", n)
	}
	// The German form's action keeps the link and the language; sending
	// it saves once and thanks in German.
	m := formAction.FindStringSubmatch(de.body)
	if m == nil || html.UnescapeString(m[1]) != link+"?lang=de" {
		t.Fatalf("German form action %v", m)
	}
	form.Del("relang")
	if done := c.postLang(link+"?lang=de", "en", form); done.status != http.StatusOK || !strings.Contains(done.body, "Vielen Dank!") {
		t.Fatalf("send after switching: %d\n%.1500s", done.status, done.body)
	}
	if n := countRows(t, app, "responses"); n != 1 {
		t.Errorf("%d responses after sending, want 1", n)
	}
}

func countRows(t *testing.T, app *pulseApp, table string) int {
	t.Helper()
	var n int
	if err := app.st.DB().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Tandem's own question bank reads naturally in every language: each
// built-in question has its own text there, not the English one.
func TestEveryBuiltinQuestionIsTranslated(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	qs, err := app.st.Questions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, q := range qs {
		if !q.Builtin {
			continue
		}
		n++
		seen := map[string]string{}
		for _, tag := range lang.Supported[1:] {
			got := questionText(lang.For(tag), q)
			if got == q.Text || strings.HasPrefix(got, "question.") {
				t.Errorf("%s: built-in question %s is not translated (%q)", tag, q.Key, got)
			}
			if other, dup := seen[got]; dup {
				t.Errorf("%s: %s reads the same as in %s", tag, q.Key, other)
			}
			seen[got] = tag.String()
		}
		if got := questionText(lang.For(lang.English), q); got != q.Text {
			t.Errorf("English %s = %q, want the bank's %q", q.Key, got, q.Text)
		}
	}
	if n < 20 {
		t.Fatalf("only %d built-in questions", n)
	}
}
