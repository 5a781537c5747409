package schedule

import (
	"bytes"
	htmltemplate "html/template"
	netmail "net/mail"
	"strings"
	texttemplate "text/template"

	"github.com/tandem-hq/tandem/internal/lang"
	"github.com/tandem-hq/tandem/internal/mail"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// AnonymitySentence is the promise every invitation makes (in English;
// message "mail.anonymous" says it in each language).
const AnonymitySentence = "Your answers are anonymous: Tandem stores them without your name, email or this link, and shows results only for groups of at least %d people."

// inviteData is what an invitation or reminder says, in one language (L).
// Each paragraph is its own field or block, so a further block (a note
// from leaders, say) slots in without touching the others.
type inviteData struct {
	L         *lang.Printer
	Reminder  bool
	FirstName string
	Program   string
	Closes    string
	Questions int
	Link      string
	K         int
	// Notes are the leaders' "you said, we did" notes for this person.
	Notes []inviteNote
}

// inviteNote is one note: the unit it is for and what its leader wrote.
type inviteNote struct {
	Unit, Text string
}

// Greeting is "Hi Ana," in the message's language.
func (d inviteData) Greeting() string {
	if d.FirstName == "" {
		return d.L.T("mail.greeting_anonymous")
	}
	return d.L.T("mail.greeting", "Name", d.FirstName)
}

// intro is the opening paragraph with program as given: the invitation's
// ("… is open until …, N short questions") or the reminder's.
func (d inviteData) intro(program string) string {
	if d.Reminder {
		return d.L.T("mail.reminder", "Program", program, "Closes", d.Closes)
	}
	return d.L.N("mail.invite", d.Questions, "Program", program, "Closes", d.Closes)
}

// Intro is the opening paragraph as text.
func (d inviteData) Intro() string { return d.intro(d.Program) }

// IntroHTML is the opening paragraph with the program's name in bold.
// The message is escaped as a whole; only the name's <strong> is markup.
func (d inviteData) IntroHTML() htmltemplate.HTML {
	const mark = "\x00program\x00"
	msg := htmltemplate.HTMLEscapeString(d.intro(mark))
	name := "<strong>" + htmltemplate.HTMLEscapeString(d.Program) + "</strong>"
	return htmltemplate.HTML(strings.ReplaceAll(msg, htmltemplate.HTMLEscapeString(mark), name))
}

var inviteText = texttemplate.Must(texttemplate.New("invite").Parse(`{{.Greeting}}

{{.Intro}}
{{block "note" .}}{{with .Notes}}
{{$.L.T "note.title"}}
{{$.L.T "note.intro"}}
{{range .}}
{{$.L.T "note.for" "Name" .Unit}}
{{.Text}}
{{end}}{{end}}{{end}}
{{.L.T "mail.answer_here"}} {{.Link}}

{{.L.T "mail.anonymous" "K" .K}} {{.L.T "mail.results"}}

{{.L.T "mail.personal"}}
`))

var inviteHTML = htmltemplate.Must(htmltemplate.New("invite").Parse(`<!doctype html>
<html lang="{{.L.Code}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{{.Program}}</title></head>
<body style="margin:0;padding:24px;background:#f6f7f5;font-family:system-ui,-apple-system,Segoe UI,Roboto,Arial,sans-serif;color:#1d2724;line-height:1.5">
<div style="max-width:520px;margin:0 auto;background:#ffffff;border:1px solid #d9dfdd;border-radius:8px;padding:24px">
<p>{{.Greeting}}</p>
<p>{{.IntroHTML}}</p>
{{block "note" .}}{{with .Notes}}<div style="border-left:4px solid #2f6f5e;background:#f3f7f5;padding:8px 16px;margin:16px 0">
<p style="margin:0 0 8px"><strong>{{$.L.T "note.title"}}</strong><br>{{$.L.T "note.intro"}}</p>
{{range .}}<p style="margin:8px 0"><strong>{{$.L.T "note.for" "Name" .Unit}}</strong><br><span style="white-space:pre-line">{{.Text}}</span></p>
{{end}}</div>{{end}}{{end}}
<p style="margin:24px 0"><a href="{{.Link}}" style="background:#2f6f5e;color:#ffffff;padding:12px 20px;border-radius:6px;text-decoration:none;font-weight:600;display:inline-block">{{.L.T "mail.button"}}</a></p>
<p style="font-size:14px;color:#5b6764">{{.L.T "mail.anonymous" "K" .K}} {{.L.T "mail.results"}}</p>
<p style="font-size:14px;color:#5b6764">{{.L.T "mail.personal"}} {{.L.T "mail.copy"}}<br>{{.Link}}</p>
</div></body></html>
`))

// invitationLanguage is the language of a person's invitations: the
// roster's, else the organisation's default (lang.Choose; a message has no
// browser to ask).
func invitationLanguage(d store.InvitationMessage, orgDefault string) *lang.Printer {
	return lang.For(lang.Choose(d.Language, orgDefault))
}

// renderInvitation writes an invitation or reminder for one person, in
// the language of p.
func renderInvitation(p *lang.Printer, reminder bool, d store.InvitationMessage, link string, k int) (mail.Message, error) {
	data := inviteData{L: p, Reminder: reminder, FirstName: d.FirstName(), Program: d.ProgramName,
		Closes: p.Date(tandem.InZone(d.ClosesAt, d.TimeZone)), Questions: d.Questions, Link: link, K: k}
	for _, n := range d.Notes {
		data.Notes = append(data.Notes, inviteNote{Unit: n.UnitName, Text: n.Text})
	}
	var text, html bytes.Buffer
	if err := inviteText.Execute(&text, data); err != nil {
		return mail.Message{}, err
	}
	if err := inviteHTML.Execute(&html, data); err != nil {
		return mail.Message{}, err
	}
	subject := p.T("mail.subject", "Program", d.ProgramName)
	if reminder {
		subject = p.T("mail.subject_reminder", "Program", d.ProgramName)
	}
	to := d.EmployeeEmail
	if d.EmployeeName != "" && to != "" {
		to = (&netmail.Address{Name: d.EmployeeName, Address: to}).String()
	}
	return mail.Message{To: to, Subject: subject, Text: text.String(), HTML: html.String(), Link: link, LinkTitle: p.T("mail.button"), Lang: p.Code()}, nil
}
