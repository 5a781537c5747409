package schedule

import (
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/lang"
	"github.com/tandem-hq/tandem/internal/store"
	"golang.org/x/text/language"
)

// The program's name is the only markup the HTML intro adds; a name with
// markup characters is escaped, in every language.
func TestInvitationHTMLEscapesTheProgramNameInEveryLanguage(t *testing.T) {
	t.Parallel()
	d := store.InvitationMessage{EmployeeName: "Ana Silva", EmployeeEmail: "ana@example.com", ProgramName: `R&D <pulse>`,
		ClosesAt: time.Date(2026, 6, 13, 7, 0, 0, 0, time.UTC), TimeZone: "Europe/Berlin", Questions: 1, MinGroup: 5}
	for _, tag := range lang.Supported {
		m, err := renderInvitation(lang.For(tag), false, d, "https://t.example/p/x", 5)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(m.HTML, `<strong>R&amp;D &lt;pulse&gt;</strong>`) || strings.Contains(m.HTML, "<pulse>") {
			t.Errorf("%s: program name not escaped once in bold:\n%s", tag, m.HTML)
		}
		if !strings.Contains(m.HTML, `<html lang="`+tag.String()+`">`) {
			t.Errorf("%s: the HTML part does not say its language", tag)
		}
		if !strings.Contains(m.Text, "R&D <pulse>") {
			t.Errorf("%s: the text part should carry the name as written:\n%s", tag, m.Text)
		}
	}
	// One question is "one short question", in the singular.
	m, _ := renderInvitation(lang.For(language.German), false, d, "https://t.example/p/x", 5)
	if !strings.Contains(m.Text, "Es ist nur eine kurze Frage") {
		t.Errorf("German invitation for one question:\n%s", m.Text)
	}
}
