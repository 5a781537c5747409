// Package history reads past survey results, one row per response, so that
// a new Tandem has history on its first day (tandem import history, and
// the import page). It parses and checks; the store decides storage
// groups and writes the imported rounds.
//
// A file has one header row and one row per response: the unit the person
// was in (its path, as the roster names units), the date of the answer,
// one column per question (the question's key or text as the header, or a
// mapping) with values on the question's scale, and an optional comment.
// Every problem is reported with its line and column, all in one pass.
//
// The rules each have one home here: which period a date falls in
// (PeriodStart, PeriodEnd), which headers name which field (ParseMapping,
// column matching in Read), and what a value must be (parseValue).
package history

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tandem-hq/tandem/internal/csvfile"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// The fields of a row besides the questions.
const (
	FieldUnit    = "unit"
	FieldDate    = "date"
	FieldComment = "comment"
)

// headerNames are the headers read as each field without a mapping,
// compared by normalize.
var headerNames = map[string][]string{
	FieldUnit:    {"unit", "unit path", "team", "team path", "department", "org unit"},
	FieldDate:    {"date", "answered on", "response date", "submitted on", "submitted at", "submitted", "completed at", "timestamp", "created at"},
	FieldComment: {"comment", "comments", "free text"},
}

// Periods an import groups responses by.
const (
	Week      = "week"
	Fortnight = "fortnight"
	Month     = "month"
)

// fortnightEpoch is the Monday fortnights are counted from: a fortnight
// is two ISO weeks, the first of them an even number of weeks after it.
var fortnightEpoch = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)

// CheckPeriod returns an error unless p is a period an import takes.
func CheckPeriod(p string) error {
	switch p {
	case Week, Fortnight, Month:
		return nil
	}
	return tandem.Errorf(tandem.EINVALID, "%q is not a period; choose week, fortnight or month", p)
}

// PeriodStart returns the first day of the period containing day: the
// Monday of its ISO week, the Monday of its fortnight (counted from Monday
// 1 January 2001), or the first of its month.
func PeriodStart(period string, day time.Time) time.Time {
	switch period {
	case Month:
		return tandem.PeriodStart(tandem.Month, day)
	case Fortnight:
		monday := tandem.PeriodStart(tandem.Week, day)
		weeks := int(monday.Sub(fortnightEpoch).Hours()/24+0.5) / 7
		if weeks%2 != 0 {
			monday = monday.AddDate(0, 0, -7)
		}
		return monday
	}
	return tandem.PeriodStart(tandem.Week, day)
}

// PeriodEnd returns the first day after the period that starts on start.
func PeriodEnd(period string, start time.Time) time.Time {
	switch period {
	case Month:
		return start.AddDate(0, 1, 0)
	case Fortnight:
		return start.AddDate(0, 0, 14)
	}
	return start.AddDate(0, 0, 7)
}

// Options are what Read needs besides the file.
type Options struct {
	// Questions are those the rows may answer: the program's.
	Questions []pulse.Question
	// Mapping names the header of a field or question key where the
	// defaults do not find it (ParseMapping).
	Mapping map[string]string
	// Unit resolves a unit path as written; it returns the unit's id, or
	// a message saying what is wrong.
	Unit func(path string) (int64, string)
	// Today is the last date a response may have.
	Today time.Time
	// MaxRows bounds the responses one file may hold (0: no bound).
	MaxRows int
}

// Response is one row: one person's answers in one round.
type Response struct {
	Line    int
	UnitID  int64
	Unit    string
	Date    time.Time
	Answers []pulse.Answer
	Comment string
}

// File is a file read without problems.
type File struct {
	// Used maps each field and question key read to its header.
	Used map[string]string
	// Questions are the questions the file answers, in column order.
	Questions []pulse.Question
	// Ignored are the headers read as nothing.
	Ignored   []string
	Responses []Response
}

// Problem is one thing wrong with the file: its line (0 for the mapping
// or the file as a whole) and column (the header as written).
type Problem struct {
	Line    int
	Column  string
	Value   string
	Message string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d", p.Line)
		if p.Column != "" {
			fmt.Fprintf(&b, ", column %s", p.Column)
		}
	} else {
		b.WriteString("file")
	}
	b.WriteString(": ")
	b.WriteString(p.Message)
	return b.String()
}

// MaxProblems is how many problems an Error lists; Total counts them all.
const MaxProblems = 1000

// Error lists every problem of a file; nothing of a file with an Error is
// stored.
type Error struct {
	Problems []Problem
	Total    int
}

func (e *Error) Error() string {
	if len(e.Problems) == 0 {
		return "the file has problems"
	}
	if e.Total == 1 {
		return e.Problems[0].String()
	}
	return fmt.Sprintf("%s (and %d more problems)", e.Problems[0].String(), e.Total-1)
}

// Add records a problem.
func (e *Error) Add(p Problem) {
	e.Total++
	if len(e.Problems) < MaxProblems {
		e.Problems = append(e.Problems, p)
	}
}

// Sort orders the problems by line, as a reader goes through the file;
// a line's problems keep the order they were found in.
func (e *Error) Sort() {
	sort.SliceStable(e.Problems, func(i, j int) bool { return e.Problems[i].Line < e.Problems[j].Line })
}

// Err returns e as an error, nil when it holds no problem.
func (e *Error) Err() error {
	if e.Total == 0 {
		return nil
	}
	e.Sort()
	return e
}

// normalize is how headers and mapping names are compared: without regard
// to case, surrounding space, inner spaces, underscores or hyphens.
func normalize(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.NewReplacer(" ", "", "_", "", "-", "", "\u00a0", "").Replace(s)
}

// ParseMapping reads column mappings as the command line takes them: each
// argument holds pairs separated by commas, a name in double quotes when it
// has a comma. A pair names a field (unit, date, comment) or a question key
// and a header, in either order: date="Submitted at" and "Submitted
// at"=date are the same. keys are the question keys the pairs may name.
func ParseMapping(args []string, keys []string) (map[string]string, error) {
	known := map[string]string{}
	for _, f := range []string{FieldUnit, FieldDate, FieldComment} {
		known[normalize(f)] = f
	}
	for _, k := range keys {
		known[normalize(k)] = k
	}
	m := map[string]string{}
	for _, arg := range args {
		pairs, err := splitPairs(arg)
		if err != nil {
			return nil, err
		}
		for _, p := range pairs {
			l, r, ok := strings.Cut(p, "=")
			l, r = unquote(l), unquote(r)
			if !ok || l == "" || r == "" {
				return nil, tandem.Errorf(tandem.EINVALID, "%q in the column mapping is not key=header, such as eng.proud=\"Q1 Proud\" or date=Submitted", strings.TrimSpace(p))
			}
			if f, isField := known[normalize(l)]; isField {
				m[f] = r
			} else if f, isField := known[normalize(r)]; isField {
				m[f] = l
			} else {
				return nil, tandem.Errorf(tandem.EINVALID, "neither side of %q in the column mapping is unit, date, comment or a question key of the program (%s)",
					strings.TrimSpace(p), strings.Join(keys, ", "))
			}
		}
	}
	return m, nil
}

func unquote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	return strings.TrimSpace(s)
}

func splitPairs(s string) ([]string, error) {
	var pairs []string
	var cur strings.Builder
	inQuotes := false
	for _, c := range s {
		switch {
		case c == '"':
			inQuotes = !inQuotes
			cur.WriteRune(c)
		case c == ',' && !inQuotes:
			pairs = append(pairs, cur.String())
			cur.Reset()
		default:
			cur.WriteRune(c)
		}
	}
	if inQuotes {
		return nil, tandem.Errorf(tandem.EINVALID, "the column mapping %q has an unclosed quote", s)
	}
	pairs = append(pairs, cur.String())
	var out []string
	for _, p := range pairs {
		if strings.TrimSpace(p) != "" {
			out = append(out, p)
		}
	}
	return out, nil
}

// Read reads and checks a history file. Problems with the file, its
// header or its rows come back as an *Error listing every one; any other
// error is a failed read.
func Read(r io.Reader, opt Options) (*File, error) {
	var bad Error
	f := &File{Used: map[string]string{}}
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(64 << 10)
	if bytes.HasPrefix(head, []byte{0xFF, 0xFE}) || bytes.HasPrefix(head, []byte{0xFE, 0xFF}) {
		bad.Add(Problem{Line: 1, Message: `the file is UTF-16 text; save it as "CSV UTF-8" instead`})
		return nil, &bad
	}
	if bytes.HasPrefix(head, []byte("\uFEFF")) {
		br.Discard(3)
		head = head[3:]
	}
	cr := csv.NewReader(br)
	cr.Comma = csvfile.Delimiter(head)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = cr.Comma != '\t'

	var header []string
	col := map[string]int{}      // field or question id (as "q<ID>") → column
	var qcols []int              // column of each question of f.Questions
	var qByCol []*pulse.Question // question read from each column
	rows := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad.Add(Problem{Line: pe.Line, Message: fmt.Sprintf("the file is not valid CSV here (%v); a value with quotes or a separator in it must be in double quotes, with quotes doubled", pe.Err)})
				return nil, bad.Err()
			}
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		if header == nil {
			if msg := csvfile.TooManyColumns(len(rec)); msg != "" {
				bad.Add(Problem{Line: line, Message: msg})
				return nil, bad.Err()
			}
			header = make([]string, len(rec))
			for i, h := range rec {
				header[i] = strings.TrimSpace(h)
			}
			qByCol = make([]*pulse.Question, len(header))
			readHeader(f, header, opt, col, qByCol, &bad, line)
			if bad.Total > 0 {
				return nil, bad.Err()
			}
			for i, q := range qByCol {
				if q != nil {
					f.Questions = append(f.Questions, *q)
					qcols = append(qcols, i)
				}
			}
			continue
		}
		empty := true
		for _, c := range rec {
			if strings.TrimSpace(c) != "" {
				empty = false
				break
			}
		}
		if empty {
			continue
		}
		rows++
		if opt.MaxRows > 0 && rows > opt.MaxRows {
			bad.Add(Problem{Line: line, Message: fmt.Sprintf("the file has more than %d responses, the most one import takes; split it by period", opt.MaxRows)})
			return nil, bad.Err()
		}
		if len(rec) < len(header) {
			bad.Add(Problem{Line: line, Message: fmt.Sprintf("the row has %d fields but the header has %d; add empty fields for the missing columns", len(rec), len(header))})
			continue
		}
		if len(rec) > len(header) && strings.TrimSpace(strings.Join(rec[len(header):], "")) != "" {
			bad.Add(Problem{Line: line, Message: fmt.Sprintf(`the row has %d fields but the header has %d; a value with a %c in it must be in quotes, like "Good, thanks"`, len(rec), len(header), cr.Comma)})
			continue
		}
		before := bad.Total
		cell := func(i int) string {
			c := rec[i]
			if !utf8.ValidString(c) {
				bad.Add(Problem{Line: line, Column: header[i], Message: `the value is not UTF-8 text; save the file as "CSV UTF-8"`})
				return ""
			}
			return strings.TrimSpace(csvfile.Restore(strings.TrimSpace(c)))
		}
		resp := Response{Line: line}
		if v := cell(col[FieldUnit]); v == "" {
			bad.Add(Problem{Line: line, Column: header[col[FieldUnit]], Message: "the unit is empty; give the unit path the roster uses, such as Company/Division/Team"})
		} else if id, msg := opt.Unit(v); msg != "" {
			bad.Add(Problem{Line: line, Column: header[col[FieldUnit]], Value: v, Message: msg})
		} else {
			resp.UnitID, resp.Unit = id, v
		}
		if v := cell(col[FieldDate]); v == "" {
			bad.Add(Problem{Line: line, Column: header[col[FieldDate]], Message: "the date is empty; give the day of the answer as YYYY-MM-DD"})
		} else if d, ok := parseDate(v); !ok {
			bad.Add(Problem{Line: line, Column: header[col[FieldDate]], Value: v, Message: fmt.Sprintf("%q is not a date; write it as YYYY-MM-DD, such as 2026-03-02", v)})
		} else if !opt.Today.IsZero() && d.After(tandem.Today(opt.Today)) {
			bad.Add(Problem{Line: line, Column: header[col[FieldDate]], Value: v, Message: fmt.Sprintf("%s is after today; history is of answers already given", tandem.FormatDate(d))})
		} else {
			resp.Date = d
		}
		for n, i := range qcols {
			q := &f.Questions[n]
			v := cell(i)
			if v == "" {
				continue
			}
			a, msg := parseValue(q, v)
			if msg != "" {
				bad.Add(Problem{Line: line, Column: header[i], Value: v, Message: msg})
				continue
			}
			resp.Answers = append(resp.Answers, a)
		}
		if i, ok := col[FieldComment]; ok {
			v := cell(i)
			switch {
			case len([]rune(v)) > pulse.MaxTextLength:
				bad.Add(Problem{Line: line, Column: header[i], Message: fmt.Sprintf("the comment is %d characters long; Tandem keeps at most %d", len([]rune(v)), pulse.MaxTextLength)})
			case !pulse.StorableText(v):
				bad.Add(Problem{Line: line, Column: header[i], Message: "the comment has characters that cannot be stored (control characters)"})
			default:
				resp.Comment = v
			}
		}
		if bad.Total == before && len(resp.Answers) == 0 && resp.Comment == "" {
			bad.Add(Problem{Line: line, Message: "the row answers no question and has no comment; delete it, or fill in its answers"})
		}
		if bad.Total == before {
			f.Responses = append(f.Responses, resp)
		}
	}
	if header == nil {
		bad.Add(Problem{Line: 1, Message: "the file is empty; it needs a header row and one row per response"})
	} else if rows == 0 && bad.Total == 0 {
		bad.Add(Problem{Line: 2, Message: "the file has a header but no responses"})
	}
	if err := bad.Err(); err != nil {
		return nil, err
	}
	return f, nil
}

// readHeader finds the column of each field and question: a mapping
// first, then a header equal to the field's names, or to the question's
// key or text. Every problem with the header is recorded in bad.
func readHeader(f *File, header []string, opt Options, col map[string]int, qByCol []*pulse.Question, bad *Error, line int) {
	byName := map[string]int{}
	for i, h := range header {
		n := normalize(h)
		if _, dup := byName[n]; dup && n != "" {
			bad.Add(Problem{Line: line, Column: h, Message: fmt.Sprintf("two columns are headed %q; rename one", h)})
			continue
		}
		byName[n] = i
	}
	taken := map[int]string{}
	take := func(name string, i int) bool {
		if other, ok := taken[i]; ok && other != name {
			bad.Add(Problem{Line: line, Column: header[i], Message: fmt.Sprintf("the column is mapped to both %s and %s; map it once", other, name)})
			return false
		}
		taken[i] = name
		f.Used[name] = header[i]
		return true
	}
	mapped := func(name string) (int, bool) {
		h, ok := opt.Mapping[name]
		if !ok {
			return 0, false
		}
		i, found := byName[normalize(h)]
		if !found {
			bad.Add(Problem{Line: line, Message: fmt.Sprintf("the mapping names the column %q for %s, but the file has no such column (its columns: %s)", h, name, strings.Join(header, ", "))})
			return 0, false
		}
		return i, true
	}
	for _, field := range []string{FieldUnit, FieldDate, FieldComment} {
		i, ok := mapped(field)
		if !ok && opt.Mapping[field] == "" {
			for _, n := range headerNames[field] {
				if j, found := byName[normalize(n)]; found {
					i, ok = j, true
					break
				}
			}
		}
		if ok {
			if take(field, i) {
				col[field] = i
			}
			continue
		}
		if field != FieldComment && opt.Mapping[field] == "" {
			bad.Add(Problem{Line: line, Message: fmt.Sprintf("the file has no %s column; name it %s, or map the column that holds it (%s=\"Your header\")", field, headerNames[field][0], field)})
		}
	}
	for qi := range opt.Questions {
		q := &opt.Questions[qi]
		i, ok := mapped(q.Key)
		if !ok && opt.Mapping[q.Key] == "" {
			if j, found := byName[normalize(q.Key)]; found {
				i, ok = j, true
			} else if j, found := byName[normalize(q.Text)]; found {
				i, ok = j, true
			}
		}
		if !ok {
			continue
		}
		if q.Kind == pulse.Service {
			bad.Add(Problem{Line: line, Column: header[i], Message: fmt.Sprintf("%s rates another team's service; such answers name the team they rate and cannot be imported", q.Key)})
			continue
		}
		if take(q.Key, i) {
			qByCol[i] = q
		}
	}
	for i, h := range header {
		if _, ok := taken[i]; !ok && h != "" {
			f.Ignored = append(f.Ignored, h)
		}
	}
	if bad.Total == 0 && len(f.Used) > 0 {
		n := 0
		for _, q := range qByCol {
			if q != nil {
				n++
			}
		}
		if n == 0 {
			var keys []string
			for _, q := range opt.Questions {
				if q.Kind != pulse.Service {
					keys = append(keys, q.Key)
				}
			}
			bad.Add(Problem{Line: line, Message: fmt.Sprintf("no column is a question of the program; head each question's column with its key (%s) or text, or map it (key=\"Your header\")", strings.Join(keys, ", "))})
		}
	}
}

// dateLayouts are the forms a date may take; a time after the date is
// read and dropped (Tandem stores no time of an answer).
var dateLayouts = []string{"2006-01-02", time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04"}

func parseDate(s string) (time.Time, bool) {
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			y, m, d := t.Date()
			return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), true
		}
	}
	return time.Time{}, false
}

// parseValue reads one answer on q's scale: a whole number from 1 to 5
// (agreement) or 0 to 10 (likelihood), one of a choice question's options
// as written, or free text. It returns a message when the value is not
// on the scale.
func parseValue(q *pulse.Question, v string) (pulse.Answer, string) {
	a := pulse.Answer{QuestionID: q.ID}
	switch q.Kind {
	case pulse.Likert5, pulse.Scale010:
		lo, hi := 1, 5
		if q.Kind == pulse.Scale010 {
			lo, hi = 0, 10
		}
		n, err := strconv.Atoi(strings.TrimSuffix(v, ".0"))
		if err != nil || n < lo || n > hi {
			return a, fmt.Sprintf("%q is not on the question's scale; give a whole number from %d to %d", v, lo, hi)
		}
		a.Value, a.HasValue = float64(n), true
	case pulse.Choice:
		for i, c := range q.Choices {
			if normalize(c) == normalize(v) {
				a.Value, a.HasValue = float64(i), true
				return a, ""
			}
		}
		return a, fmt.Sprintf("%q is not one of the question's options (%s)", v, strings.Join(q.Choices, "; "))
	case pulse.Text:
		if len([]rune(v)) > pulse.MaxTextLength {
			return a, fmt.Sprintf("the answer is %d characters long; Tandem keeps at most %d", len([]rune(v)), pulse.MaxTextLength)
		}
		if !pulse.StorableText(v) {
			return a, "the answer has characters that cannot be stored (control characters)"
		}
		a.Text = v
	default:
		return a, "this question cannot be imported"
	}
	return a, ""
}

// DefaultPeriod is the period an import of a program's history groups by
// when none is chosen: the program's own rhythm — week for a weekly
// cadence, fortnight for every two weeks, month for anything rarer; week
// for a cron cadence.
func DefaultPeriod(c pulse.Cadence) string {
	switch c.Kind {
	case pulse.Weekly:
		switch {
		case c.Weeks <= 1:
			return Week
		case c.Weeks == 2:
			return Fortnight
		}
		return Month
	case pulse.Monthly, pulse.Quarterly:
		return Month
	}
	return Week
}
