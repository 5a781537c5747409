package schedule_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/tandem-hq/tandem/internal/mail"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/schedule"
	"github.com/tandem-hq/tandem/internal/store"
)

// With the organisation's default language set, invitations and reminders
// arrive in it: subject, greeting, dates, the anonymity promise and the
// button, through a real SMTP listener.
func TestInvitationsAndRemindersSpeakTheOrganisationsLanguage(t *testing.T) {
	t.Parallel()
	e := newEmailSetup(t)
	if err := e.st.SetSetting(e.ctx, store.OrgLanguageKey, "fr"); err != nil {
		t.Fatal(err)
	}
	const ana = "ana@example.com"
	e.runOnce(t, orgSize)
	var subject, text string
	for _, r := range e.smtp.all() {
		if r.To == ana {
			subject, text = plainText(t, r.Data)
		}
	}
	wantSubject := "Weekly pulse : une minute pour donner votre avis"
	if subject != wantSubject {
		t.Errorf("subject %q, want %q", subject, wantSubject)
	}
	for _, want := range []string{"Bonjour ", "Vous pouvez répondre à Weekly pulse jusqu’au samedi 13 juin 2026 à 09:00 (CEST)",
		"Tandem les enregistre sans votre nom", "au moins 5 personnes", "Ce lien vous est personnel"} {
		if !strings.Contains(text, want) {
			t.Errorf("French invitation lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "anonymous") || strings.Contains(text, "Answer here") {
		t.Errorf("French invitation still has English:\n%s", text)
	}

	e.clock.Advance(e.round.RemindAt.Sub(e.clock.Now()))
	if err := e.runner().Housekeep(e.ctx, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	e.runOnce(t, orgSize)
	reminders := 0
	for _, r := range e.smtp.all() {
		if s, body := plainText(t, r.Data); strings.HasPrefix(s, "Rappel – Weekly pulse") {
			reminders++
			if !strings.Contains(body, "Petit rappel : vous pouvez encore répondre") {
				t.Errorf("French reminder body:\n%s", body)
			}
		}
	}
	if reminders != orgSize {
		t.Errorf("%d French reminders, want %d", reminders, orgSize)
	}
}

// Chat invitations speak each person's language too: the roster's
// language first, else the organisation's default. A Slack-compatible
// webhook post and a Teams card (its text, its button and its lang) to
// a German, a Brazilian and a Spanish-by-default colleague.
func TestChatInvitationsSpeakEachPersonsLanguage(t *testing.T) {
	t.Parallel()
	o := newTestOrg(t)
	ctx := context.Background()
	lines := strings.Split(strings.TrimSpace(orgRoster), "\n")
	for i, l := range lines {
		lines[i] = l + "," + map[int]string{0: "language", 1: "de", 2: "pt-BR"}[i] // Ana German, Ben Brazilian
	}
	withLang := strings.Join(lines, "\n") + "\n"
	o.Import(withLang, time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC))
	if err := o.st.SetSetting(ctx, store.OrgLanguageKey, "es"); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	byRecipient := map[string]map[string]any{} // "webhook @ana", "teams ana@example.com"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b map[string]any
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
			t.Errorf("decode: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == "/hook" {
			byRecipient["webhook "+fmt.Sprint(b["channel"])] = b
		} else {
			byRecipient["teams "+fmt.Sprint(b["recipient"])] = b
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	hook, err := mail.NewWebhook(srv.URL+"/hook", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	teams, err := mail.NewTeamsWorkflow(srv.URL+"/workflows/1/triggers/manual/paths/invoke?sig=s", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	slot := o.at0900(2026, 6, 8)
	for _, ch := range []string{pulse.ChannelWebhook, pulse.ChannelTeams} {
		p := o.newProgram(t, created, func(p *pulse.Program) { p.Name = "Pulse " + ch; p.Channel = ch })
		if _, ok, err := o.runner().FireProgram(ctx, p.ID, slot); err != nil || !ok {
			t.Fatalf("%s round: %v %v", ch, ok, err)
		}
	}
	w := schedule.NewWorker(o.st, map[string]mail.Sender{pulse.ChannelWebhook: hook, pulse.ChannelTeams: teams}, baseURL, o.log,
		clockwork.NewFakeClockAt(slot.Add(time.Minute).UTC()))
	sent := 0
	for {
		n, err := w.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		sent += n
	}
	if sent != 2*orgSize {
		t.Fatalf("sent %d messages, want %d", sent, 2*orgSize)
	}
	mu.Lock()
	defer mu.Unlock()

	cases := []struct {
		who, handle, lang                   string
		greeting, subject, button, cardLang string
	}{
		{"ana@example.com", "@ana", "de", "Hallo Ana,", "Weekly pulse: eine Minute für Ihre Meinung", "Jetzt antworten", "de"},
		{"ben@example.com", "@ben", "pt-BR", "Olá, Ben,", "Weekly pulse: um minuto para dar a sua opinião", "Responder", "pt"},
		{"cara@example.com", "@cara", "es", "Hola, Cara:", "Weekly pulse: un minuto para darnos tu opinión", "Responder", "es"},
	}
	for _, c := range cases {
		hookPost := byRecipient["webhook "+c.handle]
		text, _ := hookPost["text"].(string)
		if !strings.HasPrefix(text, "*"+strings.Replace(c.subject, "Weekly pulse", "Pulse webhook", 1)+"*") || !strings.Contains(text, c.greeting) {
			t.Errorf("%s: webhook post in %s should open with %q and greet %q:\n%s", c.who, c.lang, c.subject, c.greeting, text)
		}
		card := byRecipient["teams "+c.who]
		if card == nil {
			t.Fatalf("no Teams card for %s", c.who)
		}
		content := card["attachments"].([]any)[0].(map[string]any)["content"].(map[string]any)
		body, _ := json.Marshal(content["body"])
		actions, _ := json.Marshal(content["actions"])
		if content["lang"] != c.cardLang || !strings.Contains(string(body), c.greeting) || !strings.Contains(string(body), strings.Replace(c.subject, "Weekly pulse", "Pulse teams", 1)) ||
			!strings.Contains(string(actions), `"title":"`+c.button+`"`) {
			t.Errorf("%s: Teams card in %s: lang %v, body %s, actions %s", c.who, c.lang, content["lang"], body, actions)
		}
		if strings.Contains(string(body), "anonymous") || strings.Contains(text, "anonymous") {
			t.Errorf("%s: chat message still has English", c.who)
		}
	}
}
