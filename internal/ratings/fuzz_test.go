package ratings

import (
	"bytes"
	"errors"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// The fuzz targets feed the readers bytes as helpdesks and attackers might
// send them. Whatever comes in, reading never panics, a refused body or
// file is described by the package's own error types with a message, and
// every rating a Batch keeps is one the store takes: a known metric, a
// score in its range, a unit, a source and an id, a time since 1970 and
// not in the future, and text PostgreSQL can store. Seeds are in
// testdata/fuzz/<target>/; run one with
//
//	go test ./internal/ratings -run '^$' -fuzz '^FuzzRatingsJSON$' -fuzztime 20s

// fuzzUnits are the unit ids of testDirectory.
var fuzzUnits = map[int64]bool{1: true, 2: true, 10: true, 11: true}

// checkBatch checks the invariants of a checked batch of n inputs (n < 0:
// unknown, as for CSV rows).
func checkBatch(t *testing.T, b *Batch, n int) {
	t.Helper()
	bad := 0
	if err := b.Err(); err != nil {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("Err() = %T %v, want *Error", err, err)
		}
		if len(e.Errors) == 0 || e.Total < len(e.Errors) || e.Error() == "" {
			t.Fatalf("an *Error without problems or with a bad total: %+v", e)
		}
		for _, p := range e.Errors {
			if strings.TrimSpace(p.Message) == "" {
				t.Fatalf("a problem without a message: %+v", p)
			}
			if p.String() == "" {
				t.Fatalf("a problem that prints as nothing: %+v", p)
			}
		}
		bad = e.Rows
	}
	for i, r := range b.Ratings() {
		lo, hi, ok := tandem.MetricRange(r.Metric)
		switch {
		case !ok:
			t.Fatalf("rating %d kept with metric %q", i, r.Metric)
		case math.IsNaN(r.Score) || r.Score < lo || r.Score > hi || r.Score != math.Trunc(r.Score):
			t.Fatalf("rating %d kept with %s score %v", i, r.Metric, r.Score)
		case !fuzzUnits[r.UnitID]:
			t.Fatalf("rating %d kept with unit %d, not one of the directory's", i, r.UnitID)
		case r.Source == "" || r.ExternalID == "" || len(r.Source) > maxSource || len(r.ExternalID) > maxExternalID:
			t.Fatalf("rating %d kept with source %q and id %q", i, r.Source, r.ExternalID)
		case r.OccurredAt.Unix() < 0 || r.OccurredAt.After(now.Add(24*time.Hour)):
			t.Fatalf("rating %d kept with time %v", i, r.OccurredAt)
		case utf8.RuneCountInString(r.Comment) > maxComment:
			t.Fatalf("rating %d kept with a comment of %d characters", i, utf8.RuneCountInString(r.Comment))
		}
		for _, s := range []string{r.Source, r.ExternalID, r.Comment} {
			if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
				t.Fatalf("rating %d kept with text PostgreSQL cannot store: %q", i, s)
			}
		}
	}
	if n >= 0 && len(b.Ratings())+bad != n {
		t.Fatalf("%d inputs: %d kept and %d with problems, want every input counted once", n, len(b.Ratings()), bad)
	}
	if b.Summary().Valid != len(b.Ratings()) {
		t.Fatalf("summary counts %d valid, the batch keeps %d", b.Summary().Valid, len(b.Ratings()))
	}
}

func FuzzRatingsJSON(f *testing.F) {
	f.Add([]byte(`{"source":"zendesk","external_id":"T-1","occurred_at":"2026-02-01T10:00:00Z","metric":"csat","score":5,"agent_email":"ana@example.com"}`))
	f.Add([]byte(`[{"source":"s","id":7,"occurred_at":"2026-02-01","metric":"NPS","score":"10","unit_path":"Acme/Support"}]`))
	f.Add([]byte(`{"source":"s","metric":"ces","ratings":[{"occurred_at":1767225600,"score":7,"unit_id":2},{"score":null}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ins, err := ParseJSON(data, MaxBatch)
		if err != nil {
			var se *SyntaxError
			var tm *TooManyError
			switch {
			case errors.As(err, &se):
				if se.Message == "" || !utf8.ValidString(se.Message) {
					t.Fatalf("a syntax error without a readable message: %q", se.Message)
				}
				checkPosition(t, data, se.Message)
			case errors.As(err, &tm):
				if tm.N <= tm.Max {
					t.Fatalf("too many: %d of at most %d", tm.N, tm.Max)
				}
			default:
				t.Fatalf("ParseJSON: %T %v, want *SyntaxError or *TooManyError", err, err)
			}
			if ins != nil {
				t.Fatalf("ParseJSON returned %d inputs with the error %v", len(ins), err)
			}
			return
		}
		if len(ins) == 0 || len(ins) > MaxBatch {
			t.Fatalf("ParseJSON accepted %d ratings", len(ins))
		}
		b := NewBatch(testDirectory(), now)
		for _, in := range ins {
			b.Add(in)
		}
		checkBatch(t, b, len(ins))
	})
}

// syntaxAt matches a syntax error that names the character at fault and
// where it is.
var syntaxAt = regexp.MustCompile(`invalid character '([!#-&(-\[\]-~])' .*\(line (\d+), column (\d+), byte (\d+)\)\.$`)

// checkPosition checks that a syntax error's line, column and byte point
// at the character it names: JSON's offset is just past it.
func checkPosition(t *testing.T, data []byte, msg string) {
	t.Helper()
	m := syntaxAt.FindStringSubmatch(msg)
	if m == nil {
		return
	}
	line, _ := strconv.Atoi(m[2])
	col, _ := strconv.Atoi(m[3])
	off, _ := strconv.Atoi(m[4])
	if off < 1 || off > len(data) || data[off-1] != m[1][0] {
		t.Fatalf("%q: byte %d is not the %q the error names", msg, off, m[1])
	}
	before := data[:off-1]
	if wantLine, wantCol := bytes.Count(before, []byte{'\n'})+1, off-1-bytes.LastIndexByte(before, '\n'); line != wantLine || col != wantCol {
		t.Fatalf("%q: the %q at byte %d is on line %d, column %d", msg, m[1], off, wantLine, wantCol)
	}
}

// TestJSONSyntaxErrorsAreAtTheirLineAfterLeadingBlankLines: a syntax
// error names the line, column and byte of the character at fault in the
// body as sent, also when the body starts with blank lines (found with
// checkPosition: the offset was counted in the trimmed body, and the
// column was one past the character).
func TestJSONSyntaxErrorsAreAtTheirLineAfterLeadingBlankLines(t *testing.T) {
	for body, want := range map[string]string{
		"[\n {\"score\": 5,,}\n]":       "(line 2, column 14, byte 16)",
		"\n\n\n[\n {\"score\": 5,,}\n]": "(line 5, column 14, byte 19)",
		"   \n\t[{,}]":                  "(line 2, column 4, byte 8)",
		"\uFEFF[{,}]":                   "(line 1, column 6, byte 6)",
	} {
		_, err := ParseJSON([]byte(body), MaxBatch)
		var se *SyntaxError
		if !errors.As(err, &se) || !strings.HasSuffix(se.Message, want+".") {
			t.Errorf("ParseJSON(%q): %v, want a syntax error at %s", body, err, want)
		}
	}
}

// TestJSONWithAByteOrderMarkIsRead: a body that starts with a UTF-8
// byte order mark is read like one without (found by the "bom" seed: it
// was refused with "invalid character 'ï'").
func TestJSONWithAByteOrderMarkIsRead(t *testing.T) {
	ins, err := ParseJSON([]byte("\uFEFF"+`{"source":"s","id":"1","occurred_at":"2026-02-01","metric":"csat","score":4,"unit_id":2}`), MaxBatch)
	if err != nil || len(ins) != 1 || ins[0].Source != "s" {
		t.Fatalf("ParseJSON of a body with a BOM: %v, %+v; want the one rating", err, ins)
	}
}

func FuzzRatingsCSV(f *testing.F) {
	f.Add([]byte("occurred_at,agent_email,score,comment\n2026-02-01T10:00:00Z,ana@example.com,5,fine\n"), "", "zendesk", "csat")
	f.Add([]byte("Rated at;Agent email;Rating;Comment\n2026-02-01 10:00;ana@example.com;4,0;\"a; b\"\n"), "", "freshdesk", "")
	f.Add([]byte("When,Who,Stars\n2026-02-01,cara@example.com,Good\n"), `time=When,agent=Who,score="Stars"`, "crm", "csat")
	f.Fuzz(func(t *testing.T, data []byte, mapping, source, metric string) {
		opt := CSVOptions{Source: source, Metric: metric, MaxRows: 1000}
		if m, err := ParseMapping(mapping); err != nil {
			var te *tandem.Error
			if !errors.As(err, &te) || te.Code != tandem.EINVALID || te.Message == "" {
				t.Fatalf("ParseMapping(%q): %T %v, want a *tandem.Error EINVALID with a message", mapping, err, err)
			}
		} else {
			opt.Mapping = m
		}
		b := NewBatch(testDirectory(), now)
		cols, err := ReadCSV(bytes.NewReader(data), opt, b)
		if err != nil {
			t.Fatalf("ReadCSV from memory: %v; problems belong in the batch", err)
		}
		checkBatch(t, b, -1)
		if b.Err() == nil {
			if len(b.Ratings())+b.Summary().Unrated == 0 {
				t.Fatal("a file without problems and without ratings")
			}
			if cols.Used[FieldOccurredAt] == "" || cols.Used[FieldScore] == "" {
				t.Fatalf("ratings read without a time or score column: %+v", cols.Used)
			}
		}
		if s := b.Summary(); s.Rows > opt.MaxRows+1 {
			t.Fatalf("%d rows read, over MaxRows %d", s.Rows, opt.MaxRows)
		}
	})
}
