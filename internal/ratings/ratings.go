// Package ratings reads customer ratings (CSAT, NPS, CES) as helpdesks send
// them — JSON through the API, CSV exports through an upload or the command
// line — checks every row, and attributes each rating to a unit: by unit
// path, unit id, or the agent's team on the day of the rating.
//
// It does no I/O beyond the reader it is given. The store loads a Directory
// (the organisation and its people), a Batch collects the valid ratings and
// every problem, and the store saves a Batch without problems in one
// transaction. Nothing from a batch with a problem is stored.
package ratings

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// Limits.
const (
	// MaxBatch is the most ratings one API request may carry.
	MaxBatch = 10_000
	// MaxErrors is the most problems a Batch lists; more are counted.
	MaxErrors = 10_000
	// maxSource, maxExternalID and maxComment bound the text fields.
	maxSource     = 100
	maxExternalID = 200
	maxComment    = 10_000
)

// The fields of a rating, as the JSON API names them. Problems name the
// field at fault.
const (
	FieldSource     = "source"
	FieldExternalID = "external_id"
	FieldOccurredAt = "occurred_at"
	FieldMetric     = "metric"
	FieldScore      = "score"
	FieldUnitPath   = "unit_path"
	FieldUnitID     = "unit_id"
	FieldAgentEmail = "agent_email"
	FieldComment    = "comment"
)

// fields lists the fields in the order problems and column lists show them.
var fields = []string{FieldSource, FieldExternalID, FieldOccurredAt, FieldMetric, FieldScore,
	FieldUnitPath, FieldUnitID, FieldAgentEmail, FieldComment}

// Input is one rating as it was received, before it is checked: every
// value is the text the sender gave (a JSON number as its digits), so that
// a problem can quote it.
type Input struct {
	Source     string
	ExternalID string
	// OccurredAt is an RFC 3339 / ISO 8601 date-time; without a zone it is
	// UTC, and a bare date is midnight UTC.
	OccurredAt string
	Metric     string // csat, nps or ces, any case
	Score      string
	// Attribution: exactly one of the three.
	UnitPath   string // Company/Division/Team
	UnitID     string
	AgentEmail string
	Comment    string

	// Index is the 0-based position in a JSON batch; Line the line of a CSV
	// row (the header is line 1), 0 for JSON.
	Index int
	Line  int

	// problems found while reading (a value of the wrong JSON type, a CSV
	// row with too few fields); broken rows are not checked further.
	problems []RowError
	broken   bool
	// columns names the CSV header of each field, for problems.
	columns *[numFields]string
	// unrated marks a CSV row whose score says no rating was given.
	unrated bool
}

const numFields = 9

func fieldIndex(f string) int {
	for i, x := range fields {
		if x == f {
			return i
		}
	}
	return -1
}

// RowError is one problem with one rating. JSON problems carry Index and
// Field; CSV problems carry Line and Column (the header as written). A
// problem with the whole file or body has Line 0 and Index -1.
type RowError struct {
	Index   int
	Line    int
	Field   string
	Column  string
	Value   string
	Message string
}

func (e RowError) String() string {
	var b strings.Builder
	switch {
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d", e.Line)
		if e.Column != "" {
			fmt.Fprintf(&b, ", column %s", e.Column)
		}
	case e.Index >= 0:
		fmt.Fprintf(&b, "rating %d", e.Index)
		if e.Field != "" {
			fmt.Fprintf(&b, ", %s", e.Field)
		}
	default:
		b.WriteString("file")
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	return b.String()
}

// Error lists the problems of a batch. Nothing from a batch with an Error
// is stored.
type Error struct {
	// Errors are the problems in the order found (by line or index), at
	// most MaxErrors of them.
	Errors []RowError
	// Total counts every problem, listed or not.
	Total int
	// Rows counts the ratings with at least one problem.
	Rows int
}

func (e *Error) Error() string {
	if len(e.Errors) == 0 {
		return "the ratings have problems"
	}
	if e.Total == 1 {
		return e.Errors[0].String()
	}
	return fmt.Sprintf("%s (and %d more problems)", e.Errors[0].String(), e.Total-1)
}

// normalizeMetric reads a metric name.
func normalizeMetric(s string) (string, bool) {
	m := strings.ToLower(strings.TrimSpace(s))
	_, _, ok := tandem.MetricRange(m)
	return m, ok
}

// Textual CSAT scores helpdesks export, mapped onto the 1–5 scale:
// Zendesk's good/bad (a thumbs up or down: the top and the bottom box),
// the five labels of a 5-point satisfaction scale, and Help Scout's
// great/okay/not good (top, middle and bottom box).
var csatWords = map[string]float64{
	"good": 5, "good, i'm satisfied": 5, "bad": 1, "bad, i'm unsatisfied": 1,
	"very dissatisfied": 1, "very unsatisfied": 1, "dissatisfied": 2, "unsatisfied": 2,
	"neutral": 3, "neither satisfied nor dissatisfied": 3, "satisfied": 4, "very satisfied": 5,
	"great": 5, "okay": 3, "ok": 3, "not good": 1,
}

// unratedWords are scores of a survey that was sent but not answered
// (Zendesk's "Offered" and "Unoffered"): a CSV row with one is skipped.
var unratedWords = map[string]bool{"offered": true, "unoffered": true, "not offered": true}

// parseScore reads a score of metric (metric may be "" when it is unknown:
// then only the number is checked).
func parseScore(metric, raw string) (float64, string) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return 0, "the score is empty; give a number"
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		s2 := strings.ToLower(s)
		if w, ok := csatWords[s2]; ok {
			if metric != "" && metric != tandem.MetricCSAT {
				return 0, fmt.Sprintf("%q is a CSAT answer, but this rating is %s; give a number", s, strings.ToUpper(metric))
			}
			return w, ""
		}
		// "4,0" from a spreadsheet in a comma-decimal locale.
		if v2, err2 := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64); err2 == nil && strings.Count(s, ",") == 1 {
			v, err = v2, nil
		}
	}
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Sprintf("%q is not a score; give a whole number (for CSAT also good or bad, or very dissatisfied … very satisfied)", s)
	}
	if metric == "" {
		return v, ""
	}
	lo, hi, _ := tandem.MetricRange(metric)
	if v != math.Trunc(v) {
		return 0, fmt.Sprintf("%s scores are whole numbers from %g to %g; %s is not", strings.ToUpper(metric), lo, hi, s)
	}
	if v < lo || v > hi {
		return 0, fmt.Sprintf("%s scores go from %g to %g; %s is out of range", strings.ToUpper(metric), lo, hi, s)
	}
	return v, ""
}

// timeLayouts are the date-times accepted, tried in order. Layouts without
// a zone are read as UTC.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05 -07:00",
	"2006-01-02T15:04:05-0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
}

// timeParser reads occurred_at values, trying first the layout that read
// the previous one (files use one layout throughout).
type timeParser struct{ last int }

func (p *timeParser) parse(raw string) (time.Time, string) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return time.Time{}, "the date is empty; give the date and time of the rating, such as 2026-03-02T14:30:00Z"
	}
	if t, err := time.Parse(timeLayouts[p.last], s); err == nil {
		return t.UTC().Truncate(time.Second), ""
	}
	for _, suffix := range []string{" UTC", " GMT"} {
		if strings.HasSuffix(s, suffix) {
			s = strings.TrimSuffix(s, suffix)
			break
		}
	}
	for i, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			p.last = i
			return t.UTC().Truncate(time.Second), ""
		}
	}
	// Unix time in seconds or milliseconds.
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && len(s) >= 9 && len(s) <= 13 {
		if len(s) >= 12 {
			return time.UnixMilli(n).UTC().Truncate(time.Second), ""
		}
		return time.Unix(n, 0).UTC(), ""
	}
	return time.Time{}, fmt.Sprintf("%q is not a date-time; write it as ISO 8601, such as 2026-03-02T14:30:00Z (without a zone it is read as UTC; a date alone is midnight UTC)", s)
}

// DerivedID is the external id given to a rating that has none: "h:" and
// 24 hex digits of a SHA-256 over what the rating says, so that importing
// the same export again finds the same ids. Two ratings identical in time
// (to the second), metric, score, attribution and comment get the same id
// and are counted once.
func DerivedID(occurredAt time.Time, metric string, score float64, attribution, comment string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%s|%s|%s", occurredAt.UTC().Format(time.RFC3339), metric,
		strconv.FormatFloat(score, 'f', -1, 64), attribution, comment)
	var sum [sha256.Size]byte
	return "h:" + hex.EncodeToString(h.Sum(sum[:0]))[:24]
}
