package schedule

import (
	"bytes"
	htmltemplate "html/template"
	netmail "net/mail"
	texttemplate "text/template"

	"github.com/tandem-hq/tandem/internal/mail"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// AnonymitySentence is the promise every invitation makes.
const AnonymitySentence = "Your answers are anonymous: Tandem stores them without your name, email or this link, and shows results only for groups of at least %d people."

type inviteData struct {
	Reminder  bool
	FirstName string
	Program   string
	Closes    string
	Questions int
	Link      string
	K         int
}

var inviteText = texttemplate.Must(texttemplate.New("invite").Parse(`Hi {{.FirstName}},
{{if .Reminder}}
A quick reminder: {{.Program}} is still open until {{.Closes}}, and we would love to hear from you.
{{else}}
{{.Program}} is open until {{.Closes}}. It is {{.Questions}} short questions and takes about a minute.
{{end}}
Answer here: {{.Link}}

{{printf "Your answers are anonymous: Tandem stores them without your name, email or this link, and shows results only for groups of at least %d people." .K}} Results are shown once the round has closed.

This link is personal; please do not forward it.
`))

var inviteHTML = htmltemplate.Must(htmltemplate.New("invite").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{{.Program}}</title></head>
<body style="margin:0;padding:24px;background:#f6f7f5;font-family:system-ui,-apple-system,Segoe UI,Roboto,Arial,sans-serif;color:#1d2724;line-height:1.5">
<div style="max-width:520px;margin:0 auto;background:#ffffff;border:1px solid #d9dfdd;border-radius:8px;padding:24px">
<p>Hi {{.FirstName}},</p>
{{if .Reminder}}<p>A quick reminder: <strong>{{.Program}}</strong> is still open until {{.Closes}}, and we would love to hear from you.</p>
{{else}}<p><strong>{{.Program}}</strong> is open until {{.Closes}}. It is {{.Questions}} short questions and takes about a minute.</p>{{end}}
<p style="margin:24px 0"><a href="{{.Link}}" style="background:#2f6f5e;color:#ffffff;padding:12px 20px;border-radius:6px;text-decoration:none;font-weight:600;display:inline-block">Answer the pulse</a></p>
<p style="font-size:14px;color:#5b6764">{{printf "Your answers are anonymous: Tandem stores them without your name, email or this link, and shows results only for groups of at least %d people." .K}} Results are shown once the round has closed.</p>
<p style="font-size:14px;color:#5b6764">This link is personal; please do not forward it. If the button does not work, copy this address into your browser:<br>{{.Link}}</p>
</div></body></html>
`))

// renderInvitation writes an invitation or reminder for one person.
func renderInvitation(reminder bool, d store.InvitationMessage, link string, k int) (mail.Message, error) {
	data := inviteData{Reminder: reminder, FirstName: d.FirstName(), Program: d.ProgramName,
		Closes: tandem.InZone(d.ClosesAt, d.TimeZone).Format("Monday 2 January, 15:04 MST"), Questions: d.Questions, Link: link, K: k}
	var text, html bytes.Buffer
	if err := inviteText.Execute(&text, data); err != nil {
		return mail.Message{}, err
	}
	if err := inviteHTML.Execute(&html, data); err != nil {
		return mail.Message{}, err
	}
	subject := d.ProgramName + ": a one-minute pulse"
	if reminder {
		subject = "Reminder: " + subject
	}
	to := d.EmployeeEmail
	if d.EmployeeName != "" && to != "" {
		to = (&netmail.Address{Name: d.EmployeeName, Address: to}).String()
	}
	return mail.Message{To: to, Subject: subject, Text: text.String(), HTML: html.String(), Link: link, LinkTitle: "Answer the pulse"}, nil
}
