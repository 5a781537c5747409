package roster

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/tandem-hq/tandem/internal/csvfile"
	"github.com/tandem-hq/tandem/internal/lang"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// Limits of one import. A roster of 100,000 people with every column fits
// in a few dozen megabytes; the byte limit stops a wrong file early.
const (
	// MaxRows is the most employee rows one file may have.
	MaxRows = 100_000
	// MaxBytes is the largest file Parse reads.
	MaxBytes = 64 << 20
)

// Parse reads a roster CSV file: UTF-8 with or without a byte order mark,
// comma, semicolon or tab separated (whichever the header uses), with a
// header naming the columns (see Aliases). It checks every row and returns
// either the file or an *ImportError listing every problem by line.
func Parse(r io.Reader) (*File, error) {
	f, errs, err := parse(r)
	if err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return nil, importError(errs...)
	}
	return f, nil
}

// Check reads a roster file and plans its import in one pass: the
// problems of its rows and those only the roster shows (a manager who is
// nobody, an id that belongs to someone else) come together in one
// *ImportError, so that a file is fixed in one round, not one upload per
// kind of problem. load gives the roster and its units; it is called
// when the file could be read to its end, header and syntax right.
func Check(r io.Reader, load func() ([]tandem.Employee, []tandem.Unit, error), opt Options) (*Plan, error) {
	f, errs, err := parse(r)
	if err != nil {
		return nil, err
	}
	if f == nil {
		return nil, importError(errs...)
	}
	existing, units, err := load()
	if err != nil {
		return nil, err
	}
	p, err := MakePlan(f, existing, units, opt)
	var ie *ImportError
	if err != nil && !errors.As(err, &ie) {
		return nil, err
	}
	if ie != nil {
		errs = append(errs, ie.Errors...)
	}
	if len(errs) > 0 {
		return nil, importError(errs...)
	}
	return p, nil
}

// parse reads a roster file. f holds the rows without problems and errs
// the problems of the others; f is nil when the file could not be read to
// its end (its encoding, header or CSV syntax is wrong), and then errs
// says why.
func parse(r io.Reader) (f *File, errs []RowError, err error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("roster: read: %w", err)
	}
	if len(data) > MaxBytes {
		return nil, []RowError{{Reason: fmt.Sprintf("the file is larger than %d MiB, the most one import reads; remove the columns Tandem does not use", MaxBytes>>20)}}, nil
	}
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		return nil, []RowError{{Line: 1, Reason: `the file is UTF-16 text; save it as "CSV UTF-8" instead`}}, nil
	}
	for bytes.HasPrefix(data, []byte("\uFEFF")) {
		data = data[len("\uFEFF"):]
	}
	if errs := checkUTF8(data); len(errs) > 0 {
		return nil, errs, nil
	}
	p := &parser{f: &File{Headers: make(map[Column]string), rejected: make(map[string]bool)}, idx: make(map[Column]int)}
	if !p.read(data) {
		return nil, p.errs, nil
	}
	return p.f, p.errs, nil
}

func importError(errs ...RowError) *ImportError {
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
	return &ImportError{Errors: errs}
}

// checkUTF8 reports each line that is not valid UTF-8. Such files are
// usually saved by Excel as "CSV (Comma delimited)", in the Windows code
// page; guessing that encoding would turn names into other names.
func checkUTF8(data []byte) []RowError {
	if utf8.Valid(data) && bytes.IndexByte(data, 0) < 0 {
		return nil
	}
	var errs []RowError
	line, lineStart, reported := 1, 0, 0
	for i := 0; i < len(data); {
		c, size := utf8.DecodeRune(data[i:])
		if c == 0 && reported != line {
			errs = append(errs, RowError{Line: line, Reason: fmt.Sprintf(
				"a NUL byte at character %d: the file is not plain text (UTF-16 or a binary export?); save it as \"CSV UTF-8\"",
				utf8.RuneCount(data[lineStart:i])+1)})
			reported = line
		}
		if c == utf8.RuneError && size == 1 && reported != line {
			errs = append(errs, RowError{Line: line, Reason: fmt.Sprintf(
				`byte 0x%02X at character %d is not UTF-8; save the file as "CSV UTF-8" (Excel: File, Save As, CSV UTF-8)`,
				data[i], utf8.RuneCount(data[lineStart:i])+1)})
			reported = line
		}
		if c == '\n' {
			line++
			lineStart = i + 1
		}
		i += size
	}
	return errs
}

type parser struct {
	f      *File
	errs   []RowError
	header []string       // as written, trimmed
	idx    map[Column]int // column → field index
	seenID map[string]int // employee id → line
	seenEm map[string]int // email → line
}

func (p *parser) add(line int, col Column, value, reason string) {
	h := ""
	if col != "" {
		h = p.f.header(col)
	}
	p.errs = append(p.errs, RowError{Line: line, Column: h, Value: tandem.Shorten(value, 60), Reason: reason})
}

// columnLimits bound the cells Tandem stores or parses, in characters
// (tandem's limits; a team path may have MaxUnitDepth names).
var columnLimits = map[Column]int{
	ColEmployeeID: tandem.MaxIDLength, ColEmail: tandem.MaxEmailLength, ColName: tandem.MaxNameLength,
	ColFirstName: tandem.MaxNameLength, ColLastName: tandem.MaxNameLength,
	ColTeam:    tandem.MaxUnitDepth * (tandem.MaxNameLength + 3),
	ColManager: max(tandem.MaxIDLength, tandem.MaxEmailLength), ColLocation: tandem.MaxNameLength,
	ColHiredOn: 40, ColExitedOn: 40, ColExitType: 40, ColRegretted: 40, ColExitReason: tandem.MaxCommentLength,
	ColLanguage: 40,
}

// overlong reports the cells of a row longer than their column takes, and
// whether there was any: the rest of such a row is not checked, so that
// no message quotes a value of megabytes.
func (p *parser) overlong(line int, cells []string) bool {
	found := false
	for _, cn := range columnNames {
		i, ok := p.idx[cn.col]
		if !ok || i >= len(cells) {
			continue
		}
		if err := tandem.CheckLength(string(cn.col), cells[i], columnLimits[cn.col]); err != nil {
			p.add(line, cn.col, "", tandem.ErrorMessage(err))
			found = true
		}
	}
	return found
}

// read reads the file; false when it could not be read to its end.
func (p *parser) read(data []byte) bool {
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = csvfile.Delimiter(data)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = false
	// Lets `a, "b, c"` read as two fields. With tabs it would eat empty
	// fields, so it is for commas and semicolons only.
	cr.TrimLeadingSpace = cr.Comma != '\t'
	cr.ReuseRecord = true

	rows := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			p.syntaxError(err)
			return false
		}
		line, _ := cr.FieldPos(0)
		if p.header == nil {
			p.readHeader(line, rec)
			if len(p.errs) > 0 {
				return false
			}
			continue
		}
		cells := make([]string, len(rec))
		empty := true
		for i, c := range rec {
			cells[i] = cleanCell(c)
			empty = empty && cells[i] == ""
		}
		if empty {
			continue
		}
		if rows++; rows > MaxRows {
			p.errs = []RowError{{Line: line, Reason: fmt.Sprintf("the file has more than %d rows, the most one import takes; import it in parts", MaxRows)}}
			return false
		}
		p.readRow(line, cells)
	}
	if p.header == nil {
		p.add(1, "", "", "the file is empty; the first line must be a header such as "+strings.Join(canonicalHeader, ","))
		return false
	} else if rows == 0 {
		p.add(2, "", "", "the file has a header but no rows; add one row per employee below it")
		return false
	}
	return true
}

// syntaxError reports a CSV syntax error. The reader cannot tell where
// the next row starts after one, so the rest of the file is not checked.
func (p *parser) syntaxError(err error) {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		p.add(0, "", "", err.Error())
		return
	}
	var reason string
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		reason = fmt.Sprintf(`a value has a " (at character %d) but does not start with one; put the whole value in quotes and double the quote inside ("")`, pe.Column)
	case errors.Is(pe.Err, csv.ErrQuote) && pe.StartLine != pe.Line:
		reason = fmt.Sprintf(`the quoted value that starts on line %d is not closed; add the closing " (a " inside a value is written "")`, pe.StartLine)
	case errors.Is(pe.Err, csv.ErrQuote):
		reason = fmt.Sprintf(`a quoted value has text after its closing quote (at character %d); a " inside a quoted value is written ""`, pe.Column)
	default:
		reason = pe.Err.Error()
	}
	p.add(pe.Line, "", "", reason+"; the rest of the file was not checked")
}

// canonicalHeader is the header Tandem writes.
var canonicalHeader = []string{
	string(ColEmployeeID), string(ColEmail), string(ColName), string(ColTeam), string(ColManager),
	string(ColLocation), string(ColHiredOn), string(ColExitedOn), string(ColExitType),
	string(ColRegretted), string(ColExitReason), string(ColLanguage),
}

func (p *parser) readHeader(line int, rec []string) {
	type candidate struct {
		i    int
		tier int
	}
	if msg := csvfile.TooManyColumns(len(rec)); msg != "" {
		p.add(line, "", "", msg)
		return
	}
	found := make(map[Column][]candidate)
	used := make([]bool, len(rec))
	p.header = make([]string, len(rec))
	for i, h := range rec {
		h = strings.TrimSpace(h)
		p.header[i] = h
		if h == "" {
			continue
		}
		if a, ok := aliases[csvfile.HeaderKey(h)]; ok {
			found[a.col] = append(found[a.col], candidate{i, a.tier})
		}
	}
	for _, cn := range columnNames {
		cs := found[cn.col]
		if len(cs) == 0 {
			continue
		}
		best := cs[0].tier
		for _, c := range cs {
			best = min(best, c.tier)
		}
		var use []string
		for _, c := range cs {
			if c.tier == best {
				use = append(use, fmt.Sprintf("%q", p.header[c.i]))
				p.idx[cn.col] = c.i
				used[c.i] = true
			}
		}
		if len(use) > 1 {
			p.add(line, "", "", fmt.Sprintf("columns %s all give the %s; keep one of them and delete or rename the others",
				strings.Join(use, " and "), cn.col))
			continue
		}
		p.f.Headers[cn.col] = p.header[p.idx[cn.col]]
	}
	for i, h := range p.header {
		if h != "" && !used[i] {
			p.f.Ignored = append(p.f.Ignored, h)
		}
	}

	has := func(c Column) bool { _, ok := p.idx[c]; return ok }
	accepted := func(c Column) string { return strings.Join(Aliases(c), ", ") }
	if !has(ColName) && !(has(ColFirstName) && has(ColLastName)) {
		p.add(line, "", "", fmt.Sprintf("the header has no name column; add one (accepted headers: %s), or first_name and last_name columns",
			accepted(ColName)))
	}
	if !has(ColTeam) {
		p.add(line, "", "", fmt.Sprintf("the header has no team column; add one (accepted headers: %s)", accepted(ColTeam)))
	}
	if !has(ColEmail) && !has(ColEmployeeID) {
		p.add(line, "", "", fmt.Sprintf("the header has neither an email nor an employee_id column; add at least one so that people are matched on the next import (accepted for email: %s; for employee_id: %s)",
			accepted(ColEmail), accepted(ColEmployeeID)))
	}
	for _, cn := range columnNames {
		if has(cn.col) {
			p.f.Columns = append(p.f.Columns, cn.col)
		} else if cn.col == ColName && has(ColFirstName) && has(ColLastName) {
			p.f.Columns = append(p.f.Columns, ColName)
		}
	}
	p.seenID = make(map[string]int)
	p.seenEm = make(map[string]int)
}

// readRow checks one row and keeps it as a Record when it has no problem.
func (p *parser) readRow(line int, cells []string) {
	if n := len(cells); n != len(p.header) {
		extra := n > len(p.header) && strings.Join(cells[len(p.header):], "") == ""
		if !extra {
			hint := "add empty fields for the missing columns"
			if n > len(p.header) {
				hint = `a value with a comma or semicolon in it must be in quotes, like "Lima, Ana"`
			}
			p.add(line, "", "", fmt.Sprintf("the row has %d fields but the header has %d; %s", n, len(p.header), hint))
			p.reject(cells)
			return
		}
	}
	if p.overlong(line, cells) {
		p.reject(cells)
		return
	}
	cell := func(c Column) string {
		if i, ok := p.idx[c]; ok {
			return cells[i]
		}
		return ""
	}
	errsBefore := len(p.errs)
	r := Record{
		Line:       line,
		ExternalID: cell(ColEmployeeID),
		Name:       cell(ColName),
		ManagerRef: cell(ColManager),
		Location:   cell(ColLocation),
		ExitReason: cell(ColExitReason),
	}

	if raw := cell(ColEmail); raw != "" {
		r.Email = tandem.NormalizeEmail(raw)
		if err := tandem.ValidateEmail(r.Email); err != nil {
			p.add(line, ColEmail, raw, fmt.Sprintf("%q is not a valid email address; write one address like name@example.com", raw))
		}
	}
	if r.ExternalID == "" && cell(ColEmail) == "" {
		col := ColEmail
		if _, ok := p.idx[ColEmail]; !ok {
			col = ColEmployeeID
		}
		p.add(line, col, "", "the row has neither an email nor an employee id; give at least one so that the person is matched on the next import")
	}

	if r.Name == "" {
		r.Name = strings.TrimSpace(cell(ColFirstName) + " " + cell(ColLastName))
	}
	if r.Name == "" {
		col := ColName
		if _, ok := p.idx[ColName]; !ok {
			col = ColFirstName
		}
		p.add(line, col, "", "the name is empty; give the person's full name")
	}

	if raw := cell(ColTeam); raw == "" {
		p.add(line, ColTeam, "", "the team is empty; give it as Division/Department/Team")
	} else if parts, err := tandem.SplitUnitPath(raw); err != nil {
		p.add(line, ColTeam, raw, tandem.ErrorMessage(err))
	} else {
		r.TeamPath = parts
	}

	hireOK, exitOK := true, true
	if raw := cell(ColHiredOn); raw != "" {
		var err error
		if r.HiredOn, err = tandem.ParseDate(raw); err != nil {
			p.add(line, ColHiredOn, raw, tandem.ErrorMessage(err))
			hireOK = false
		}
	}
	if raw := cell(ColExitedOn); raw != "" {
		var err error
		if r.ExitedOn, err = tandem.ParseDate(raw); err != nil {
			p.add(line, ColExitedOn, raw, tandem.ErrorMessage(err))
			exitOK = false
		}
	}
	if raw := cell(ColExitType); raw != "" {
		if t, ok := exitTypes[strings.ToLower(raw)]; ok {
			r.ExitType = t
		} else {
			p.add(line, ColExitType, raw, fmt.Sprintf("%q is not an exit type; write voluntary or involuntary (resignation, termination, dismissal and layoff are understood too)", raw))
		}
	}
	if raw := strings.TrimSpace(cell(ColLanguage)); raw != "" {
		if t, err := lang.Parse(raw); err != nil {
			p.add(line, ColLanguage, raw, err.Error())
		} else {
			r.Language = t
		}
	}
	if raw := cell(ColRegretted); raw != "" {
		if v, ok := yesNo[strings.ToLower(raw)]; ok {
			r.Regretted = v
		} else {
			p.add(line, ColRegretted, raw, fmt.Sprintf("%q is not yes or no; write yes or no, or leave it empty for no", raw))
		}
	}
	if exitOK && r.ExitedOn.IsZero() {
		// "no" for regretted is harmless on an active employee; sheets
		// often fill the column for everyone.
		for _, c := range []struct {
			col   Column
			given bool
			what  string
		}{
			{ColExitType, cell(ColExitType) != "", "an exit type"},
			{ColRegretted, r.Regretted, "a regretted exit"},
			{ColExitReason, r.ExitReason != "", "an exit reason"},
		} {
			if c.given {
				p.add(line, c.col, cell(c.col), fmt.Sprintf("%s needs an exit date; add the exit date or leave this cell empty", c.what))
			}
		}
	}
	if hireOK && exitOK && !r.ExitedOn.IsZero() && r.ExitedOn.Before(r.HiredOn) {
		p.add(line, ColExitedOn, cell(ColExitedOn), fmt.Sprintf("the exit date %s is before the hire date %s; correct one of them",
			tandem.FormatDate(r.ExitedOn), tandem.FormatDate(r.HiredOn)))
	}

	if id := r.ExternalID; id != "" {
		if prev, ok := p.seenID[id]; ok {
			p.add(line, ColEmployeeID, id, fmt.Sprintf("employee id %q is already on line %d; give each person one row and one id", id, prev))
		} else {
			p.seenID[id] = line
		}
	}
	if em := r.Email; em != "" {
		if prev, ok := p.seenEm[em]; ok {
			p.add(line, ColEmail, cell(ColEmail), fmt.Sprintf("email %s is already on line %d; give each person one row and their own address", em, prev))
		} else {
			p.seenEm[em] = line
		}
	}

	if len(p.errs) == errsBefore {
		p.f.Records = append(p.f.Records, r)
	} else {
		p.reject(cells)
	}
}

// reject remembers the employee id and email of a row with a problem: a
// manager reference to that row is not a second problem.
func (p *parser) reject(cells []string) {
	for _, c := range []Column{ColEmployeeID, ColEmail} {
		if i, ok := p.idx[c]; ok && i < len(cells) && cells[i] != "" {
			p.f.rejected[cells[i]] = true
			p.f.rejected[tandem.NormalizeEmail(cells[i])] = true
		}
	}
}

var exitTypes = map[string]string{
	"voluntary": tandem.ExitVoluntary, "resignation": tandem.ExitVoluntary, "resigned": tandem.ExitVoluntary,
	"involuntary": tandem.ExitInvoluntary, "termination": tandem.ExitInvoluntary, "terminated": tandem.ExitInvoluntary,
	"dismissal": tandem.ExitInvoluntary, "dismissed": tandem.ExitInvoluntary, "layoff": tandem.ExitInvoluntary,
	"laid off": tandem.ExitInvoluntary, "redundancy": tandem.ExitInvoluntary,
}

var yesNo = map[string]bool{
	"yes": true, "y": true, "true": true, "1": true,
	"no": false, "n": false, "false": false, "0": false,
}

// cleanCell trims a cell and undoes the quote Tandem's CSV writer puts
// before a value a spreadsheet would run as a formula.
func cleanCell(s string) string {
	return strings.TrimSpace(csvfile.Restore(strings.TrimSpace(s)))
}
