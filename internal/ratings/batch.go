package ratings

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// Batch collects the ratings of one request or file: each Input is
// checked and attributed as it is added; valid ratings are kept and every
// problem is listed. A batch is stored only when it has no problem.
//
// Repeats of a (source, external id) within the batch are kept: the store
// skips them as duplicates like ratings it has already, in the same pass
// (a map of a million keys here would cost a tenth of a large import).
// Distinct finds them for a dry run.
type Batch struct {
	dir *Directory
	now time.Time

	ratings []tandem.Rating
	// sources interns source names: a file repeats one name a million times.
	sources map[string]string
	times   timeParser

	errs    []RowError
	total   int
	badRows int
	lastBad int // Line or Index+1 of the last row counted bad
	summary Summary
	samples []Sample
}

type ratingKey struct{ source, id string }

// Summary describes a checked batch, for a dry run.
type Summary struct {
	// Rows counts the ratings read (CSV: data rows, blank lines aside).
	Rows int
	// Valid counts the ratings without a problem, repeats within the batch
	// included (see Distinct).
	Valid int
	// Unrated counts CSV rows whose survey was not answered (an empty
	// score, or Zendesk's Offered/Unoffered); they are skipped.
	Unrated int
	// ByMetric counts the valid ratings of each metric, repeats included.
	ByMetric map[string]int
	// First and Last are the earliest and latest rating times.
	First, Last time.Time
	// Derived counts the ratings without an external id, given one (see
	// DerivedID).
	Derived int
}

// Sample is one valid rating, as a dry run shows it.
type Sample struct {
	Line, Index int
	OccurredAt  time.Time
	Metric      string
	Score       float64
	Unit        string // path
	Agent       string // email, when attributed by agent
	Comment     string
	ExternalID  string
}

// maxSamples is how many ratings a dry run shows.
const maxSamples = 10

// NewBatch starts a batch checked against dir. now is the clock: a rating
// more than a day after it is refused.
func NewBatch(dir *Directory, now time.Time) *Batch {
	return &Batch{dir: dir, now: now, sources: map[string]string{},
		summary: Summary{ByMetric: map[string]int{}}}
}

// Grow makes room for n more ratings, so that a large file does not pay
// for growing the batch as it is read.
func (b *Batch) Grow(n int) {
	if n <= 0 {
		return
	}
	b.ratings = append(make([]tandem.Rating, 0, len(b.ratings)+n), b.ratings...)
}

// Distinct returns the valid ratings without the repeats of a (source,
// external id) earlier in the batch, and the number of repeats dropped.
func (b *Batch) Distinct() ([]tandem.Rating, int) {
	seen := make(map[ratingKey]struct{}, len(b.ratings))
	out := make([]tandem.Rating, 0, len(b.ratings))
	for _, r := range b.ratings {
		k := ratingKey{r.Source, r.ExternalID}
		if _, dup := seen[k]; dup {
			continue
		}
		seen[k] = struct{}{}
		out = append(out, r)
	}
	return out, len(b.ratings) - len(out)
}

// Ratings returns the valid ratings, in the order added, repeats included.
func (b *Batch) Ratings() []tandem.Rating { return b.ratings }

// Summary returns the counts so far.
func (b *Batch) Summary() Summary {
	s := b.summary
	s.Valid = len(b.ratings)
	return s
}

// Samples returns the first valid ratings.
func (b *Batch) Samples() []Sample { return b.samples }

// Err returns an *Error listing every problem, or nil.
func (b *Batch) Err() error {
	if b.total == 0 {
		return nil
	}
	errs := append([]RowError(nil), b.errs...)
	sort.SliceStable(errs, func(i, j int) bool {
		if errs[i].Line != errs[j].Line {
			return errs[i].Line < errs[j].Line
		}
		return errs[i].Index < errs[j].Index
	})
	return &Error{Errors: errs, Total: b.total, Rows: b.badRows}
}

// fail records a problem with the whole batch or file.
func (b *Batch) fail(line int, msg string) {
	b.record(RowError{Index: -1, Line: line, Message: msg})
}

func (b *Batch) record(e RowError) {
	b.total++
	if len(b.errs) < MaxErrors {
		b.errs = append(b.errs, e)
	}
	if e.Line == 0 && e.Index < 0 {
		return
	}
	row := e.Line
	if row == 0 {
		row = e.Index + 1
	}
	if row != b.lastBad {
		b.badRows++
		b.lastBad = row
	}
}

// problem records a problem with field of in.
func (b *Batch) problem(in *Input, field, value, msg string) {
	e := RowError{Index: in.Index, Line: in.Line, Field: field, Value: value, Message: msg}
	if in.Line > 0 {
		e.Index = -1
		if in.columns != nil && field != "" {
			if i := fieldIndex(field); i >= 0 {
				e.Column = in.columns[i]
			}
		}
		if e.Column == "" && field != "" {
			e.Column = field
		}
	}
	e.Value = tandem.Shorten(e.Value, 60)
	b.record(e)
}

// fieldLimits bound each field of a rating (in the order of fields), in
// characters: text Tandem stores, and values it parses, which problems
// would otherwise quote.
var fieldLimits = [numFields]int{maxSource, maxExternalID, 100, 40, 40,
	tandem.MaxUnitDepth * (tandem.MaxNameLength + 3), 40, tandem.MaxEmailLength, maxComment}

// overlong records each field of in longer than its limit, and reports
// whether there was any: such a rating is not checked further, so that no
// message quotes a value of megabytes.
func (b *Batch) overlong(in *Input) bool {
	values := [numFields]string{in.Source, in.ExternalID, in.OccurredAt, in.Metric, in.Score,
		in.UnitPath, in.UnitID, in.AgentEmail, in.Comment}
	found := false
	for i, v := range values {
		if err := tandem.CheckLength(fields[i], v, fieldLimits[i]); err != nil {
			b.problem(in, fields[i], "", tandem.ErrorMessage(err))
			found = true
		}
	}
	return found
}

// Add checks one rating, attributes it, and keeps it or records its
// problems.
func (b *Batch) Add(in Input) {
	b.summary.Rows++
	for _, p := range in.problems {
		p.Index, p.Line = in.Index, in.Line
		if in.Line > 0 {
			p.Index = -1
		}
		b.record(p)
	}
	if in.broken {
		return
	}
	if b.overlong(&in) {
		return
	}
	if in.unrated {
		b.summary.Unrated++
		return
	}
	before := b.total
	r := tandem.Rating{}

	source := strings.ToLower(strings.TrimSpace(in.Source))
	switch {
	case source == "":
		b.problem(&in, FieldSource, "", "the source is missing; name the helpdesk or survey tool the rating comes from, such as zendesk")
	default:
		if s, ok := b.sources[source]; ok {
			source = s
		} else {
			b.sources[source] = source
		}
		r.Source = source
	}

	// A copy: the CSV reader's value shares the memory of its whole row,
	// which a batch of a million ratings would otherwise keep.
	r.ExternalID = strings.Clone(strings.TrimSpace(in.ExternalID))
	// PostgreSQL refuses NUL characters and bytes that are not UTF-8 in
	// text: refuse them here, by field, rather than fail the whole batch
	// when it is stored.
	for _, f := range [...]struct{ field, v string }{{FieldSource, in.Source}, {FieldExternalID, in.ExternalID}, {FieldComment, in.Comment}} {
		if msg := unstorable(f.v); msg != "" {
			b.problem(&in, f.field, strings.ToValidUTF8(strings.ReplaceAll(f.v, "\x00", `\u0000`), "\uFFFD"), msg)
		}
	}

	at, msg := b.times.parse(in.OccurredAt)
	if msg != "" {
		b.problem(&in, FieldOccurredAt, in.OccurredAt, msg)
	} else if at.After(b.now.Add(24 * time.Hour)) {
		b.problem(&in, FieldOccurredAt, in.OccurredAt, fmt.Sprintf("the date %s is in the future; check the date, its time zone, or which column holds it",
			at.Format(time.RFC3339)))
		at = time.Time{}
	} else if at.Year() < 1970 {
		b.problem(&in, FieldOccurredAt, in.OccurredAt, fmt.Sprintf("the date %s is before 1970; check the date or which column holds it", tandem.FormatDate(at)))
		at = time.Time{}
	}
	r.OccurredAt = at

	metric, ok := normalizeMetric(in.Metric)
	if !ok {
		if strings.TrimSpace(in.Metric) == "" {
			b.problem(&in, FieldMetric, "", "the metric is missing; give csat, nps or ces")
		} else {
			b.problem(&in, FieldMetric, in.Metric, fmt.Sprintf("%q is not a metric; give csat (1–5), nps (0–10) or ces (1–7)", in.Metric))
		}
		metric = ""
	}
	r.Metric = metric
	score, msg := parseScore(metric, in.Score)
	if msg != "" && metric == tandem.MetricCSAT && isFreshdesk(r.Source) {
		if v, ok := FreshdeskScore(in.Score); ok {
			score, msg = v, ""
		}
	}
	if msg != "" {
		b.problem(&in, FieldScore, in.Score, msg)
	}
	r.Score = score

	r.Comment = strings.Clone(strings.TrimSpace(in.Comment))

	// Attribution: exactly one of unit path, unit id, agent email.
	var given [3]string
	n := 0
	for _, g := range [3]struct{ field, v string }{{FieldUnitPath, in.UnitPath}, {FieldUnitID, in.UnitID}, {FieldAgentEmail, in.AgentEmail}} {
		if strings.TrimSpace(g.v) != "" {
			given[n] = g.field
			n++
		}
	}
	var agentEmail string
	switch {
	case n == 0:
		b.problem(&in, FieldAgentEmail, "", "the rating names no one to attribute it to; give agent_email (the agent's team on that day is used), unit_path or unit_id")
	case n > 1:
		b.problem(&in, given[1], "", fmt.Sprintf("give only one of unit_path, unit_id and agent_email; this rating has %s", strings.Join(given[:n], " and ")))
	case given[0] == FieldUnitPath:
		id, msg := b.dir.unitByPath(in.UnitPath)
		if msg != "" {
			b.problem(&in, FieldUnitPath, in.UnitPath, msg)
		}
		r.UnitID = id
	case given[0] == FieldUnitID:
		id, msg := b.dir.unitByID(in.UnitID)
		if msg != "" {
			b.problem(&in, FieldUnitID, in.UnitID, msg)
		}
		r.UnitID = id
	default:
		a, unit, msg := b.dir.agent(in.AgentEmail, tandem.Today(at))
		if msg != "" {
			b.problem(&in, FieldAgentEmail, in.AgentEmail, msg)
		} else if !at.IsZero() {
			r.UnitID, r.AgentID = unit, a.ID
			agentEmail = a.Email
		}
	}

	if b.total != before {
		return
	}
	if r.ExternalID == "" {
		// The attribution as given, so that the id does not change when the
		// roster does.
		var attribution string
		switch given[0] {
		case FieldUnitPath:
			attribution = "u:" + strings.TrimSpace(in.UnitPath)
		case FieldUnitID:
			attribution = fmt.Sprintf("i:%d", r.UnitID)
		default:
			attribution = "a:" + agentEmail
		}
		r.ExternalID = DerivedID(r.OccurredAt, r.Metric, r.Score, attribution, r.Comment)
		b.summary.Derived++
	}
	b.ratings = append(b.ratings, r)
	b.summary.ByMetric[r.Metric]++
	if b.summary.First.IsZero() || r.OccurredAt.Before(b.summary.First) {
		b.summary.First = r.OccurredAt
	}
	if r.OccurredAt.After(b.summary.Last) {
		b.summary.Last = r.OccurredAt
	}
	if len(b.samples) < maxSamples {
		s := Sample{Line: in.Line, Index: in.Index, OccurredAt: r.OccurredAt, Metric: r.Metric, Score: r.Score,
			Agent: agentEmail, Comment: r.Comment, ExternalID: r.ExternalID}
		if u := b.dir.tree.Unit(r.UnitID); u != nil {
			s.Unit = u.Path
		}
		b.samples = append(b.samples, s)
	}
}

// unstorable says what is wrong with text no database engine can store as
// it is, or "" when it is fine.
func unstorable(s string) string {
	switch {
	case !utf8.ValidString(s):
		return `the text is not UTF-8; save the file as "CSV UTF-8" or send the text as UTF-8`
	case strings.IndexByte(s, 0) >= 0:
		return `the text has a NUL character (\u0000), which cannot be stored; remove it`
	}
	return ""
}

// Split checks each of ins against dir on its own, as a helpdesk sync
// does: unlike a Batch stored whole, one rating with a problem does not
// hold back the rest. It returns the valid ratings and, by position in
// ins, what is wrong with each of the others.
func Split(dir *Directory, now time.Time, ins []Input) ([]tandem.Rating, map[int]string) {
	b := NewBatch(dir, now)
	for i, in := range ins {
		in.Index, in.Line = i, 0
		b.Add(in)
	}
	problems := map[int]string{}
	for _, e := range b.errs {
		if e.Index < 0 {
			continue
		}
		msg := e.Message
		if e.Field != "" {
			msg = e.Field + ": " + msg
		}
		if p, ok := problems[e.Index]; ok {
			msg = p + "; " + msg
		}
		problems[e.Index] = msg
	}
	return b.ratings, problems
}
