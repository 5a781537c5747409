package ratings

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"github.com/tandem-hq/tandem/internal/csvfile"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// CSVOptions say how to read a ratings CSV file.
type CSVOptions struct {
	// Mapping names the header of a field where the defaults do not find
	// it: field (source, id, time, metric, score, unit, unit_id, agent,
	// comment, or the long names of the Field constants) → header as in
	// the file, any case. See ParseMapping.
	Mapping map[string]string
	// Source is the source of rows without a source column (or with an
	// empty cell), such as "zendesk".
	Source string
	// Metric is the metric of rows without a metric column or cell.
	Metric string
	// MaxRows limits the data rows read (0: no limit).
	MaxRows int
	// OnForm says the mapping is chosen on a form (the upload page): a
	// message then asks for a column to be chosen there instead of giving
	// the command line's field="header" syntax.
	OnForm bool
	// Progress, if set, is called after every ProgressEvery rows.
	Progress func(rows int)
}

// ProgressEvery is how many rows pass between Progress calls.
const ProgressEvery = 100_000

// Columns says which header of a file each field was read from.
type Columns struct {
	// Header is the header row as written, trimmed.
	Header []string
	// Used maps a field (a Field constant) to its header as written.
	Used map[string]string
	// Ignored lists the headers not read.
	Ignored []string
	// ImpliedMetric is the metric a score header names ("NPS score"),
	// used when there is no metric column or default.
	ImpliedMetric string
}

// MappingField is a field a column mapping may name, as forms show it.
type MappingField struct {
	Key   string // the name in a mapping: time, score, …
	Field string // the Field constant
	Label string
}

// MappingFields lists the fields of a column mapping, most needed first.
var MappingFields = []MappingField{
	{"time", FieldOccurredAt, "Date and time of the rating"},
	{"score", FieldScore, "Score"},
	{"agent", FieldAgentEmail, "Agent's email"},
	{"unit", FieldUnitPath, "Unit path"},
	{"unit_id", FieldUnitID, "Unit id"},
	{"id", FieldExternalID, "Rating or ticket id"},
	{"comment", FieldComment, "Comment"},
	{"metric", FieldMetric, "Metric column"},
	{"source", FieldSource, "Source column"},
}

// mappingNames are the names a mapping may give a field.
var mappingNames = map[string]string{
	"source": FieldSource,
	"id":     FieldExternalID, "external_id": FieldExternalID,
	"time": FieldOccurredAt, "occurred_at": FieldOccurredAt, "date": FieldOccurredAt,
	"metric": FieldMetric,
	"score":  FieldScore, "rating": FieldScore,
	"unit": FieldUnitPath, "unit_path": FieldUnitPath, "team": FieldUnitPath,
	"unit_id": FieldUnitID,
	"agent":   FieldAgentEmail, "agent_email": FieldAgentEmail,
	"comment": FieldComment,
}

// headerNames are the headers recognised without a mapping, as helpdesks
// (Zendesk, Freshdesk, Intercom, Help Scout) and survey tools export them,
// compared without regard to case, spaces, underscores or hyphens. They are
// grouped in tiers of preference: a file with headers of two tiers of one
// field is read from the first ("Updated at" rather than "Created at" for
// the time, since a rating updates its ticket); two of one tier are an
// error, as either could be meant.
var headerNames = []struct {
	field string
	tiers [][]string
}{
	{FieldSource, [][]string{{"source", "rating source", "survey source"}}},
	{FieldExternalID, [][]string{
		{"external id", "rating id", "response id", "survey response id", "satisfaction rating id"},
		{"ticket id", "conversation id", "ticket number", "ticket", "ticket #", "conversation"},
		{"id"},
	}},
	{FieldOccurredAt, [][]string{
		{"occurred at", "rated at", "rating date", "rating time", "satisfaction date", "satisfaction rated at",
			"response date", "submitted at", "responded at", "timestamp", "time", "date"},
		{"updated at", "ticket updated at", "updated"},
		{"created at", "ticket created at", "created"},
	}},
	{FieldMetric, [][]string{{"metric", "survey type"}}},
	{FieldScore, [][]string{{"score", "rating", "satisfaction score", "satisfaction rating", "csat", "csat score",
		"csat rating", "nps", "nps score", "likelihood to recommend", "ces", "ces score", "customer effort score"}}},
	{FieldUnitPath, [][]string{{"unit path", "unit", "team path", "team"}}},
	{FieldUnitID, [][]string{{"unit id", "team id"}}},
	{FieldAgentEmail, [][]string{
		{"agent email", "assignee email", "agent e mail", "assignee e mail", "employee email", "rated agent email"},
		{"agent", "assignee"},
	}},
	{FieldComment, [][]string{{"comment", "satisfaction comment", "rating comment", "csat comment", "feedback",
		"customer comment", "feedback comment"}}},
}

// impliedMetrics are score headers that name their metric, by
// csvfile.HeaderKey.
var impliedMetrics = headerKeys(map[string]string{
	"csat": tandem.MetricCSAT, "csat score": tandem.MetricCSAT, "csat rating": tandem.MetricCSAT,
	"satisfaction score": tandem.MetricCSAT, "satisfaction rating": tandem.MetricCSAT,
	"nps": tandem.MetricNPS, "nps score": tandem.MetricNPS, "likelihood to recommend": tandem.MetricNPS,
	"ces": tandem.MetricCES, "ces score": tandem.MetricCES, "customer effort score": tandem.MetricCES,
})

func headerKeys(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[csvfile.HeaderKey(k)] = v
	}
	return out
}

type alias struct {
	field string
	tier  int
}

var aliases = func() map[string]alias {
	m := map[string]alias{}
	for _, h := range headerNames {
		for t, names := range h.tiers {
			for _, n := range names {
				k := csvfile.HeaderKey(n)
				if prev, ok := m[k]; ok {
					if prev.field != h.field {
						panic(fmt.Sprintf("ratings: header %q is listed for both %s and %s", n, prev.field, h.field))
					}
					continue // another spelling of a name listed already
				}
				m[k] = alias{h.field, t}
			}
		}
	}
	return m
}()

// ParseMapping reads a column mapping as the command line takes it:
// field=header pairs separated by commas, a header in double quotes when
// it has a comma: time="Rated at",agent=Assignee email,score=Rating.
func ParseMapping(s string) (map[string]string, error) {
	m := map[string]string{}
	s = strings.TrimSpace(s)
	if s == "" {
		return m, nil
	}
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
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		if !ok || k == "" || v == "" {
			return nil, tandem.Errorf(tandem.EINVALID, "%q in the column mapping is not field=header, such as score=Rating", strings.TrimSpace(p))
		}
		if _, known := mappingNames[k]; !known {
			return nil, tandem.Errorf(tandem.EINVALID, "%q in the column mapping is not a field; use %s", k, mappingFieldList())
		}
		m[k] = v
	}
	return m, nil
}

func mappingFieldList() string {
	return "source, id, time, metric, score, unit, unit_id, agent or comment"
}

// ReadCSV reads a ratings CSV file into b: RFC 4180, UTF-8 with or without
// a byte order mark, comma, semicolon or tab separated (whichever the
// header uses), one header row, one rating per row. Problems with the file
// and its rows are recorded in b; the error is only for a failed read.
func ReadCSV(r io.Reader, opt CSVOptions, b *Batch) (Columns, error) {
	cols := Columns{Used: map[string]string{}}
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(64 << 10)
	if bytes.HasPrefix(head, []byte{0xFF, 0xFE}) || bytes.HasPrefix(head, []byte{0xFE, 0xFF}) {
		b.fail(1, `the file is UTF-16 text; save it as "CSV UTF-8" instead`)
		return cols, nil
	}
	if bytes.HasPrefix(head, []byte("\uFEFF")) {
		br.Discard(3)
		head = head[3:]
	}
	cr := csv.NewReader(br)
	cr.Comma = csvfile.Delimiter(head)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cr.TrimLeadingSpace = cr.Comma != '\t'

	var idx [numFields]int
	var colNames [numFields]string
	var header []string
	defMetric := opt.Metric
	if defMetric != "" {
		m, ok := normalizeMetric(defMetric)
		if !ok {
			b.fail(0, fmt.Sprintf("the default metric %q is not a metric; give csat, nps or ces", opt.Metric))
			return cols, nil
		}
		defMetric = m
	}
	rows := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				b.fail(pe.Line, csvSyntax(pe))
				return cols, nil
			}
			return cols, err
		}
		line, _ := cr.FieldPos(0)
		if header == nil {
			if msg := csvfile.TooManyColumns(len(rec)); msg != "" {
				b.fail(line, msg)
				return cols, nil
			}
			header = make([]string, len(rec))
			for i, h := range rec {
				header[i] = strings.TrimSpace(h)
			}
			cols.Header = header
			if !readHeader(b, line, header, opt, &cols, &idx) {
				return cols, nil
			}
			for f := range idx {
				if idx[f] >= 0 {
					colNames[f] = header[idx[f]]
				}
			}
			if defMetric == "" && idx[fieldIndex(FieldMetric)] < 0 {
				defMetric = cols.ImpliedMetric
			}
			if defMetric == "" && idx[fieldIndex(FieldMetric)] < 0 {
				b.fail(line, "the file has no metric column and no default metric was given; choose the metric (csat, nps or ces) of its ratings")
				return cols, nil
			}
			if strings.TrimSpace(opt.Source) == "" && idx[fieldIndex(FieldSource)] < 0 {
				b.fail(line, "the file has no source column and no source was given; name the helpdesk or survey tool the ratings come from, such as zendesk")
				return cols, nil
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
			b.fail(line, fmt.Sprintf("the file has more than %d rows, the most one upload takes; split it into smaller files", opt.MaxRows))
			return cols, nil
		}
		in := Input{Line: line, Index: -1, columns: &colNames, Source: opt.Source, Metric: defMetric}
		if len(rec) < len(header) {
			in.problems = []RowError{{Message: fmt.Sprintf("the row has %d fields but the header has %d; add empty fields for the missing columns", len(rec), len(header))}}
			in.broken = true
			b.Add(in)
			continue
		}
		if len(rec) > len(header) && strings.TrimSpace(strings.Join(rec[len(header):], "")) != "" {
			in.problems = []RowError{{Message: fmt.Sprintf(`the row has %d fields but the header has %d; a value with a %c in it must be in quotes, like "Good, thanks"`, len(rec), len(header), cr.Comma)}}
			in.broken = true
			b.Add(in)
			continue
		}
		cell := func(f int) string {
			if idx[f] < 0 {
				return ""
			}
			c := rec[idx[f]]
			if !utf8.ValidString(c) {
				in.problems = append(in.problems, RowError{Field: fields[f], Column: colNames[f],
					Message: `the value is not UTF-8 text; save the file as "CSV UTF-8"`})
				in.broken = true
				return ""
			}
			// Undo the apostrophe Tandem's CSV writer puts before a
			// value a spreadsheet would run.
			return strings.TrimSpace(csvfile.Restore(strings.TrimSpace(c)))
		}
		if v := cell(0); v != "" {
			in.Source = v
		}
		in.ExternalID = cell(1)
		in.OccurredAt = cell(2)
		if v := cell(3); v != "" {
			in.Metric = v
		}
		in.Score = cell(4)
		in.UnitPath = cell(5)
		in.UnitID = cell(6)
		in.AgentEmail = cell(7)
		in.Comment = cell(8)
		if s := strings.ToLower(in.Score); s == "" || unratedWords[s] {
			in.unrated = true
		}
		b.Add(in)
		if opt.Progress != nil && rows%ProgressEvery == 0 {
			opt.Progress(rows)
		}
	}
	if header == nil {
		b.fail(1, "the file is empty; the first line must be a header, such as occurred_at,agent_email,score,comment")
	} else if rows == 0 {
		b.fail(2, "the file has a header but no rows; add one row per rating below it")
	}
	return cols, nil
}

// mapHint tells how to name a column for field: on the upload page,
// choose (what) in its column selects; on the command line, a mapping
// such as time="Solved at".
func mapHint(opt CSVOptions, what, field, example string) string {
	if opt.OnForm {
		return what + " under the columns of the file below"
	}
	return fmt.Sprintf("map it, such as %s=%q", field, example)
}

// readHeader finds the column of each field; false when the file cannot
// be read.
func readHeader(b *Batch, line int, header []string, opt CSVOptions, cols *Columns, idx *[numFields]int) bool {
	for i := range idx {
		idx[i] = -1
	}
	byNorm := map[string][]int{}
	for i, h := range header {
		if h != "" {
			byNorm[csvfile.HeaderKey(h)] = append(byNorm[csvfile.HeaderKey(h)], i)
		}
	}
	used := make([]bool, len(header))
	ok := true
	// The mapping first: it wins over the defaults.
	mapped := map[string]bool{}
	keys := make([]string, 0, len(opt.Mapping))
	for k := range opt.Mapping {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		h := opt.Mapping[k]
		field, known := mappingNames[strings.ToLower(strings.TrimSpace(k))]
		if !known {
			b.fail(line, fmt.Sprintf("%q in the column mapping is not a field; use %s", k, mappingFieldList()))
			ok = false
			continue
		}
		at := byNorm[csvfile.HeaderKey(h)]
		switch {
		case len(at) == 0:
			b.fail(line, fmt.Sprintf("the column mapping gives %q for %s, but the file has no such column; its columns are %s",
				h, k, quoteList(header)))
			ok = false
			continue
		case len(at) > 1:
			b.fail(line, fmt.Sprintf("the file has %d columns named %q; rename one so the mapping for %s is clear", len(at), h, k))
			ok = false
			continue
		}
		f := fieldIndex(field)
		if idx[f] >= 0 && idx[f] != at[0] {
			b.fail(line, fmt.Sprintf("the column mapping gives two columns for %s; keep one", k))
			ok = false
			continue
		}
		idx[f] = at[0]
		used[at[0]] = true
		mapped[field] = true
	}
	// A mapped attribution column is the attribution: the others are not
	// looked for (an export with both "Group" and "Assignee email" is read
	// by the one the mapping names).
	if mapped[FieldUnitPath] || mapped[FieldUnitID] || mapped[FieldAgentEmail] {
		mapped[FieldUnitPath], mapped[FieldUnitID], mapped[FieldAgentEmail] = true, true, true
	}
	// Then the headers Tandem knows, for the fields not mapped.
	type candidate struct{ i, tier int }
	found := map[string][]candidate{}
	for i, h := range header {
		if used[i] || h == "" {
			continue
		}
		if a, ok := aliases[csvfile.HeaderKey(h)]; ok && !mapped[a.field] {
			found[a.field] = append(found[a.field], candidate{i, a.tier})
		}
	}
	for _, f := range fields {
		cs := found[f]
		if len(cs) == 0 {
			continue
		}
		best := cs[0].tier
		for _, c := range cs {
			best = min(best, c.tier)
		}
		var same []candidate
		for _, c := range cs {
			if c.tier == best {
				same = append(same, c)
			}
		}
		if len(same) > 1 {
			var names []string
			for _, c := range same {
				names = append(names, header[c.i])
			}
			b.fail(line, fmt.Sprintf("columns %s could each be the %s; %s", quoteList(names), describeField(f), mapHint(opt, "choose the one to use", shortName(f), "…")))
			ok = false
			continue
		}
		idx[fieldIndex(f)] = same[0].i
		used[same[0].i] = true
	}
	if !ok {
		return false
	}
	for f, i := range idx {
		if i >= 0 {
			cols.Used[fields[f]] = header[i]
		}
	}
	if i := idx[fieldIndex(FieldScore)]; i >= 0 {
		cols.ImpliedMetric = impliedMetrics[csvfile.HeaderKey(header[i])]
	}
	for i, h := range header {
		if h != "" && !used[i] {
			cols.Ignored = append(cols.Ignored, h)
		}
	}
	if idx[fieldIndex(FieldOccurredAt)] < 0 {
		b.fail(line, fmt.Sprintf("the file has no date column; name it occurred_at (Rated at, Updated at, Created at and Date work too) or %s; its columns are %s", mapHint(opt, "choose its column", "time", "Solved at"), quoteList(header)))
		ok = false
	}
	if idx[fieldIndex(FieldScore)] < 0 {
		b.fail(line, fmt.Sprintf("the file has no score column; name it score (Rating and Satisfaction score work too) or %s; its columns are %s", mapHint(opt, "choose its column", "score", "Your header"), quoteList(header)))
		ok = false
	}
	if idx[fieldIndex(FieldAgentEmail)] < 0 && idx[fieldIndex(FieldUnitPath)] < 0 && idx[fieldIndex(FieldUnitID)] < 0 {
		b.fail(line, fmt.Sprintf("the file has no column saying who served the customer; add agent_email (or Assignee email), unit_path or unit_id, or %s; its columns are %s", mapHint(opt, "choose one", "agent", "Agent email"), quoteList(header)))
		ok = false
	}
	return ok
}

func shortName(field string) string {
	switch field {
	case FieldExternalID:
		return "id"
	case FieldOccurredAt:
		return "time"
	case FieldUnitPath:
		return "unit"
	case FieldAgentEmail:
		return "agent"
	}
	return field
}

func describeField(field string) string {
	switch field {
	case FieldExternalID:
		return "rating's id"
	case FieldOccurredAt:
		return "rating's time"
	case FieldAgentEmail:
		return "agent's email"
	case FieldUnitPath:
		return "unit path"
	case FieldUnitID:
		return "unit id"
	}
	return field
}

func quoteList(hs []string) string {
	q := make([]string, 0, len(hs))
	for _, h := range hs {
		q = append(q, fmt.Sprintf("%q", h))
	}
	return strings.Join(q, ", ")
}

func csvSyntax(pe *csv.ParseError) string {
	var reason string
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		reason = fmt.Sprintf(`a value has a " (at character %d) but does not start with one; put the whole value in quotes and double the quote inside ("")`, pe.Column)
	case errors.Is(pe.Err, csv.ErrQuote) && pe.StartLine != pe.Line:
		reason = fmt.Sprintf(`the quoted value that starts on line %d is not closed; add the closing " (a " inside a value is written "")`, pe.StartLine)
	case errors.Is(pe.Err, csv.ErrQuote):
		reason = fmt.Sprintf(`a quoted value is not closed, or has text after its closing quote (at character %d); a " inside a quoted value is written ""`, pe.Column)
	default:
		reason = pe.Err.Error()
	}
	return reason + "; nothing was imported, and the rest of the file was not checked"
}
