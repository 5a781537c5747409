// Package pulse holds the rules of pulse programs: the question bank and
// its drivers, programs and their cadences, which questions each round
// asks, how answers are checked and how scores are computed. It does no
// I/O; the store keeps programs and rounds, the schedule package fires them.
//
// pulse owns the round lifecycle; each rule has one function here, and the
// scheduler, the store and the pages call it:
//
//   - when rounds start: a Cadence (structured data, never a cron string
//     typed by HR) is checked and parsed once into a Schedule by
//     Cadence.Schedule, or Program.Schedule with the dates HR skipped;
//     Schedule.Next, Upcoming and Calendar compute its slots, DST-correct
//     in its zone; Cadence.Describe says it in words;
//   - which slots are due, and which missed ones are caught up:
//     Program.DueSlots;
//   - a round's window, closing and reminder times and the day it counts
//     for: Program.PlanRound (the store writes that plan), and for a round
//     of imported history Program.PlanImportedRound;
//   - whether a round may start at all (exactly once per slot, one round a
//     day, "send now" refused while a round is open): Program.Admit;
//   - the guard rails a cadence must pass (no two rounds a day, no window
//     longer than the gap to the next round, no seconds, no @every):
//     Program.CheckCadence, part of Program.Validate;
//   - how programs stored with cron strings became cadences:
//     CadenceFromCron and Program.MoveToCadence;
//   - when a round's results may be shown: Round.Released (once, when it
//     closes; the store's aggregate reads apply the same rule).
//
// Other rules with their one home here:
//
//   - how answers become scores (engagement index, eNPS, drivers): Score,
//     with TeamScoresOf its statement per round and unit, against which
//     the store's SQL aggregation is tested, and Score0to100 the 0–100
//     scale of a 1–5 answer (report's within-team agreement uses it, tested
//     against Score); the measures' names: the
//     Measure constants, DriverMeasure and MeasureLabel;
//   - which program a person may read and which one a page shows when
//     they have not chosen: Program.VisibleTo, DefaultProgram and
//     ChooseProgram.
package pulse

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tandem-hq/tandem/internal/lang"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// Kind is how a question is answered.
type Kind string

// Question kinds.
const (
	Likert5  Kind = "likert5"   // 1 (strongly disagree) … 5 (strongly agree)
	Scale010 Kind = "scale0_10" // 0 … 10
	Choice   Kind = "choice"    // one of the question's options
	Text     Kind = "text"      // free text, optional
	// Service: the respondent picks one of the question's provider teams
	// and rates the service their team gets from it, 1–5. Optional.
	Service Kind = "service"
)

// Label names the kind in words, as pages show it ("Agreement 1–5", not
// likert5); the stored value stays the key.
func (k Kind) Label() string {
	switch k {
	case Likert5:
		return "Agreement 1–5"
	case Scale010:
		return "Scale 0–10"
	case Choice:
		return "Single choice"
	case Text:
		return "Free text"
	case Service:
		return "Internal service 1–5"
	}
	return string(k)
}

// Kinds lists the kinds a person can pick, with labels.
var Kinds = []struct {
	Kind  Kind
	Label string
}{
	{Likert5, "Agreement, 1–5 (strongly disagree … strongly agree)"},
	{Scale010, "Scale 0–10"},
	{Choice, "Single choice"},
	{Text, "Free text"},
	{Service, "Internal service: rate a team you work with, 1–5"},
}

// Driver keys. Engagement groups the engagement-index items; eNPS is its
// own measure; the rest are drivers of engagement.
const (
	DriverEngagement = "engagement"
	DriverENPS       = "enps"
	DriverIntent     = "intent"
)

// Driver is a theme that questions measure.
type Driver struct {
	Key, Label string
}

// Drivers lists the built-in drivers in display order. Engagement and eNPS
// are measures, not drivers, and are not in this list.
var Drivers = []Driver{
	{"recognition", "Recognition"},
	{"growth", "Growth"},
	{"manager", "Manager support"},
	{"autonomy", "Autonomy"},
	{"workload", "Workload & wellbeing"},
	{"mission", "Mission alignment"},
	{"peers", "Peer relationships"},
	{"customer", "Customer focus"},
	{DriverIntent, "Intent to stay"},
}

// DriverLabel returns a driver's display name.
func DriverLabel(key string) string {
	switch key {
	case DriverEngagement:
		return "Engagement"
	case DriverENPS:
		return "eNPS"
	case "":
		return "—"
	}
	for _, d := range Drivers {
		if d.Key == key {
			return d.Label
		}
	}
	return key
}

// IsDriver reports whether key is a built-in driver.
func IsDriver(key string) bool {
	for _, d := range Drivers {
		if d.Key == key {
			return true
		}
	}
	return false
}

// Question is one item of the bank.
type Question struct {
	ID      int64
	Key     string
	Text    string
	Kind    Kind
	Driver  string
	InIndex bool
	// Choices are the options of a Choice question.
	Choices []string
	// Providers are the units a Service question lets respondents rate.
	Providers []int64
	Builtin   bool
	Position  int
	Retired   bool
	// Translations are a custom question in other languages, by
	// language code ("de", "pt-BR"); a built-in question's come from the
	// message files (lang). Answers keep the question's id and a choice's
	// position, so answers given in every language count together.
	Translations map[string]Translation
}

// Translation is a custom question's text in one language and, for a
// single-choice question, its options in the same order as the
// original's (empty: the original options are shown).
type Translation struct {
	Text    string
	Choices []string
}

// TextIn is the question's text in language code: its translation when it
// has one, else the text as written. (Built-in questions speak through the
// message files instead; see web's questionText.)
func (q *Question) TextIn(code string) string {
	if t, ok := q.Translations[code]; ok && t.Text != "" {
		return t.Text
	}
	return q.Text
}

// ChoicesIn are a choice question's options in language code, in the
// original's order.
func (q *Question) ChoicesIn(code string) []string {
	if t, ok := q.Translations[code]; ok && len(t.Choices) == len(q.Choices) {
		return t.Choices
	}
	return q.Choices
}

// Validate checks a custom question.
func (q *Question) Validate() error {
	q.Text = strings.TrimSpace(q.Text)
	if q.Text == "" {
		return tandem.FieldErrorf("text", "write the question")
	}
	if err := tandem.CheckLength("text", q.Text, tandem.MaxQuestionLength); err != nil {
		return err
	}
	switch q.Kind {
	case Likert5, Scale010, Text:
		q.Choices, q.Providers = nil, nil
	case Service:
		q.Choices = nil
		seen := map[int64]bool{}
		var ps []int64
		for _, p := range q.Providers {
			if p > 0 && !seen[p] {
				seen[p] = true
				ps = append(ps, p)
			}
		}
		if len(ps) < 1 || len(ps) > 50 {
			return tandem.FieldErrorf("providers", "an internal-service question needs 1 to 50 provider teams to rate")
		}
		q.Providers = ps
		if q.Driver != "" {
			return tandem.FieldErrorf("driver", "an internal-service question has no driver; it is asked every round")
		}
	case Choice:
		opts, err := cleanChoices("choices", q.Choices)
		if err != nil {
			return err
		}
		if len(opts) < 2 || len(opts) > 12 {
			return tandem.FieldErrorf("choices", "a single-choice question needs 2 to 12 options, one per line")
		}
		q.Choices = opts
	default:
		return tandem.FieldErrorf("kind", "%q is not a question kind; use likert5, scale0_10, choice or text", q.Kind)
	}
	if q.Driver != "" && !IsDriver(q.Driver) {
		return tandem.FieldErrorf("driver", "%q is not a driver", q.Driver)
	}
	if q.InIndex && q.Kind != Likert5 {
		return tandem.FieldErrorf("in_index", "only agreement (1–5) questions can count toward the engagement index")
	}
	return q.validateTranslations()
}

// cleanChoices trims a choice question's options, drops empty lines and
// refuses an option too long or listed twice; field names the form field.
func cleanChoices(field string, in []string) ([]string, error) {
	var opts []string
	seen := map[string]bool{}
	for _, c := range in {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if err := tandem.CheckLength(field, c, tandem.MaxNameLength); err != nil {
			return nil, tandem.FieldErrorf(field, "option %q %s", tandem.Shorten(c, 40), tandem.ErrorMessage(err))
		}
		if seen[strings.ToLower(c)] {
			return nil, tandem.FieldErrorf(field, "option %q is listed twice", c)
		}
		seen[strings.ToLower(c)] = true
		opts = append(opts, c)
	}
	return opts, nil
}

// validateTranslations checks a custom question's translations: each in a
// language Tandem speaks, with its text, and for a single-choice question
// either no options (the original's are shown) or as many as the original
// has, in its order. Empty translations are dropped.
func (q *Question) validateTranslations() error {
	for code, t := range q.Translations {
		tag, ok := lang.Lookup(code)
		if !ok {
			return tandem.FieldErrorf("translations", "%q is not a language Tandem speaks; use one of %s", code, lang.Codes())
		}
		name := lang.Name(tag)
		field := "text_" + code
		t.Text = strings.TrimSpace(t.Text)
		if q.Kind != Choice {
			t.Choices = nil
		}
		opts, err := cleanChoices("choices_"+code, t.Choices)
		if err != nil {
			return err
		}
		t.Choices = opts
		if t.Text == "" && len(t.Choices) == 0 {
			delete(q.Translations, code)
			continue
		}
		if t.Text == "" {
			return tandem.FieldErrorf(field, "the %s options need the question in %s too; write it or leave the options empty", name, name)
		}
		if err := tandem.CheckLength(field, t.Text, tandem.MaxQuestionLength); err != nil {
			return tandem.FieldErrorf(field, "the question in %s %s", name, tandem.ErrorMessage(err))
		}
		if len(t.Choices) > 0 && len(t.Choices) != len(q.Choices) {
			return tandem.FieldErrorf("choices_"+code, "the question has %d options and its %s translation %d; translate each option, one per line in the same order, or leave them all empty",
				len(q.Choices), name, len(t.Choices))
		}
		q.Translations[code] = t
	}
	if len(q.Translations) == 0 {
		q.Translations = nil
	}
	return nil
}

// Required reports whether a respondent must answer q.
func (q *Question) Required() bool { return q.Kind != Text && q.Kind != Service }

// MaxTextLength bounds free-text answers and comments.
const MaxTextLength = 2000

// StorableText reports whether every engine can store s as text: UTF-8
// without NUL characters (PostgreSQL refuses both). Form values are bytes,
// whatever the browser meant to send.
func StorableText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// Answer is one checked answer: Value for rated and choice questions (the
// option's 0-based index for Choice), Text for text questions.
type Answer struct {
	QuestionID int64
	Value      float64
	HasValue   bool
	Text       string
	// ProviderUnitID is the team a Service answer rates.
	ProviderUnitID int64
}

// AnswerProblem is what is wrong with one answer. Code names the problem
// (the employee's pages say it in their language from it: message
// "problem.<Code>"); Error says it in English.
type AnswerProblem struct {
	Code        string
	Lo, Hi, Max int
}

func (p *AnswerProblem) Error() string {
	switch p.Code {
	case "provider":
		return "choose the team you are rating"
	case "service":
		return "rate the service from 1 to 5"
	case "required":
		return "please answer this question"
	case "range":
		return fmt.Sprintf("choose a whole number from %d to %d", p.Lo, p.Hi)
	case "choice":
		return "choose one of the options"
	case "too_long":
		return fmt.Sprintf("keep it under %d characters", p.Max)
	case "unstorable":
		return "the answer has characters that cannot be stored; please type it again"
	}
	return "this question cannot be answered"
}

// ParseServiceAnswer checks a Service answer: the provider chosen and the
// rating. Both empty is no answer; one without the other is an error.
func ParseServiceAnswer(q *Question, provider, rating string) (Answer, bool, error) {
	a := Answer{QuestionID: q.ID}
	provider, rating = strings.TrimSpace(provider), strings.TrimSpace(rating)
	if provider == "" && rating == "" {
		return a, false, nil
	}
	p, err := strconv.ParseInt(provider, 10, 64)
	found := false
	for _, x := range q.Providers {
		found = found || (err == nil && x == p)
	}
	if !found {
		return a, false, &AnswerProblem{Code: "provider"}
	}
	v, err := strconv.Atoi(rating)
	if err != nil || v < 1 || v > 5 {
		return a, false, &AnswerProblem{Code: "service"}
	}
	a.Value, a.HasValue, a.ProviderUnitID = float64(v), true, p
	return a, true, nil
}

// ParseAnswer checks raw form input for q. An empty optional answer gives
// (Answer{}, false, nil); an empty required one is an error.
func ParseAnswer(q *Question, raw string) (Answer, bool, error) {
	a := Answer{QuestionID: q.ID}
	raw = strings.TrimSpace(raw)
	if raw == "" {
		if q.Required() {
			return a, false, &AnswerProblem{Code: "required"}
		}
		return a, false, nil
	}
	switch q.Kind {
	case Likert5, Scale010:
		lo, hi := 1, 5
		if q.Kind == Scale010 {
			lo, hi = 0, 10
		}
		v, err := strconv.Atoi(raw)
		if err != nil || v < lo || v > hi {
			return a, false, &AnswerProblem{Code: "range", Lo: lo, Hi: hi}
		}
		a.Value, a.HasValue = float64(v), true
	case Choice:
		v, err := strconv.Atoi(raw)
		if err != nil || v < 0 || v >= len(q.Choices) {
			return a, false, &AnswerProblem{Code: "choice"}
		}
		a.Value, a.HasValue = float64(v), true
	case Text:
		if len([]rune(raw)) > MaxTextLength {
			return a, false, &AnswerProblem{Code: "too_long", Max: MaxTextLength}
		}
		if !StorableText(raw) {
			return a, false, &AnswerProblem{Code: "unstorable"}
		}
		a.Text = raw
	default:
		return a, false, &AnswerProblem{Code: "unanswerable"}
	}
	return a, true, nil
}

// Score0to100 turns a 1–5 agreement into 0–100: (v−1)/4·100.
func Score0to100(likert float64) float64 { return (likert - 1) / 4 * 100 }

// NPS is the net promoter score, % promoters (9–10) − % detractors (0–6),
// from counts; NaN when n is 0.
func NPS(promoters, detractors, n int) float64 {
	if n == 0 {
		return math.NaN()
	}
	return 100 * float64(promoters-detractors) / float64(n)
}

// Promoter and Detractor classify a 0–10 answer.
func Promoter(v float64) bool  { return v >= 9 }
func Detractor(v float64) bool { return v <= 6 }
