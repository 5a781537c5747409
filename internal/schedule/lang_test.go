package schedule_test

import (
	"strings"
	"testing"

	"github.com/tandem-hq/tandem/internal/store"
)

// With the organisation's default language set, invitations and reminders
// arrive in it: subject, greeting, dates, the anonymity promise and the
// button, through a real SMTP listener.
func TestInvitationsAndRemindersSpeakTheOrganisationsLanguage(t *testing.T) {
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
