package schedule

import (
	"bytes"
	"context"
	"fmt"
	htmltemplate "html/template"
	texttemplate "text/template"
	"time"

	"github.com/tandem-hq/tandem/internal/mail"
	"github.com/tandem-hq/tandem/internal/privacy"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/report"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// DigestCron is when the weekly HR digest goes out: Mondays 07:00 UTC.
const DigestCron = "0 7 * * 1"

type digestProgram struct {
	Name          string
	Round         pulse.Round
	Participation string
	Risks         []digestRisk
}

type digestRisk struct {
	Unit, Measure string
	Latest, Trail string
	Drop          string
	Respondents   int
}

type digestData struct {
	Week     string
	Programs []digestProgram
	Link     string
	K        int
}

var digestText = texttemplate.Must(texttemplate.New("digest").Parse(`Tandem weekly digest, week of {{.Week}}
{{range .Programs}}
{{.Name}}: round {{.Round.Seq}} ({{.Round.Period}}), {{.Participation}} answered.
{{if .Risks}}Teams whose scores fell at least 10 points below their previous three rounds:
{{range .Risks}}  - {{.Unit}}: {{.Measure}} {{.Latest}} (was {{.Trail}} on average; down {{.Drop}}), {{.Respondents}} respondents
{{end}}{{else}}No team's engagement or intent to stay fell sharply.
{{end}}{{end}}{{if not .Programs}}
No pulse program has run yet.
{{end}}
These signals are about teams, never about a person, and only name groups of at least {{.K}} people.
Details: {{.Link}}
`))

var digestHTML = htmltemplate.Must(htmltemplate.New("digest").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Tandem weekly digest</title></head>
<body style="font-family:system-ui,Segoe UI,Roboto,Arial,sans-serif;color:#1d2724;line-height:1.5;padding:16px">
<h1 style="font-size:20px">Tandem weekly digest, week of {{.Week}}</h1>
{{range .Programs}}<h2 style="font-size:16px">{{.Name}}: round {{.Round.Seq}} ({{.Round.Period}}), {{.Participation}} answered</h2>
{{if .Risks}}<p>Teams whose scores fell at least 10 points below their previous three rounds:</p><ul>
{{range .Risks}}<li><strong>{{.Unit}}</strong>: {{.Measure}} {{.Latest}} (was {{.Trail}} on average; down {{.Drop}}), {{.Respondents}} respondents</li>{{end}}</ul>
{{else}}<p>No team's engagement or intent to stay fell sharply.</p>{{end}}{{end}}
{{if not .Programs}}<p>No pulse program has run yet.</p>{{end}}
<p style="color:#5b6764;font-size:14px">These signals are about teams, never about a person, and only name groups of at least {{.K}} people.</p>
<p><a href="{{.Link}}">Open the details in Tandem</a></p>
</body></html>`))

// Digest queues this week's digest for every HR user and admin: per active
// program, the latest round's participation and its flight-risk signals.
// Each person gets one digest per week however often it runs (a dedupe
// key of person and week).
func (r *Runner) Digest(ctx context.Context, now time.Time) (int, error) {
	tree, err := r.store.Tree(ctx)
	if err != nil {
		return 0, err
	}
	programs, err := r.store.Programs(ctx)
	if err != nil {
		return 0, err
	}
	week := tandem.PeriodStart(tandem.Week, now)
	data := digestData{Week: tandem.FormatDate(week), Link: r.BaseURL + "/risks"}
	for _, p := range programs {
		if !p.Active {
			continue
		}
		rounds, err := r.store.Rounds(ctx, p.ID)
		if err != nil {
			return 0, err
		}
		if len(rounds) == 0 {
			continue
		}
		if len(rounds) > 12 {
			rounds = rounds[:12] // newest first: enough for the trailing rule
		}
		set, err := r.store.LoadRoundSet(ctx, rounds)
		if err != nil {
			return 0, err
		}
		dp := digestProgram{Name: p.Name, Round: rounds[0], Participation: "too few invited to show how many"}
		if rounds[0].ShowsParticipation() {
			dp.Participation = fmt.Sprintf("%d of %d (%.0f%%)", rounds[0].Responded, rounds[0].Invited, 100*rounds[0].Participation())
		}
		// The promise "groups of at least K" holds for the smallest
		// threshold any of these rounds was decided with.
		for _, rd := range rounds {
			if k := privacy.Threshold(rd.MinGroup); data.K == 0 || k < data.K {
				data.K = k
			}
		}
		for _, fr := range report.FlightRisks(tree, 0, set, report.DefaultFlightRisk) {
			last := fr.Rounds[len(fr.Rounds)-1]
			dp.Risks = append(dp.Risks, digestRisk{Unit: fr.Unit.Path, Measure: report.RiskMeasureLabel(fr.Measure),
				Latest: fmt.Sprintf("%.0f", fr.Latest), Trail: fmt.Sprintf("%.0f", fr.Trailing), Drop: fmt.Sprintf("%.0f", fr.Drop),
				Respondents: last.Respondents})
		}
		data.Programs = append(data.Programs, dp)
	}
	if data.K == 0 {
		data.K = privacy.Threshold(0)
	}
	var text, html bytes.Buffer
	if err := digestText.Execute(&text, data); err != nil {
		return 0, err
	}
	if err := digestHTML.Execute(&html, data); err != nil {
		return 0, err
	}
	users, err := r.store.Users(ctx)
	if err != nil {
		return 0, err
	}
	queued := 0
	for _, u := range users {
		if u.Disabled || !u.CanEdit() {
			continue
		}
		payload, err := EncodePayload(mail.Message{To: u.Email, Subject: "Tandem weekly digest: week of " + data.Week, Text: text.String(), HTML: html.String()})
		if err != nil {
			return queued, err
		}
		ok, err := r.store.EnqueueMessage(ctx, store.OutboxMessage{Kind: "digest", Channel: pulse.ChannelEmail, Recipient: u.Email, Payload: payload},
			fmt.Sprintf("digest:%d:%s", u.ID, data.Week), now)
		if err != nil {
			return queued, err
		}
		if ok {
			queued++
		}
	}
	if queued > 0 && r.OnRound != nil {
		r.OnRound(pulse.Round{})
	}
	return queued, nil
}
