package ratings

import (
	"errors"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/csvfile"
	"github.com/tandem-hq/tandem/internal/tandem"
)

var now = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

func day(s string) time.Time {
	d, err := tandem.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// testDirectory is Acme with Sales/EMEA (1: ana, ben) and Support (2:
// cara, dev). Dev worked in EMEA until 2026-01-10, then moved to Support;
// Eve left on 2025-12-31.
func testDirectory() *Directory {
	units := []tandem.Unit{{ID: 10, Name: "Acme"}, {ID: 11, ParentID: 10, Name: "Sales"}, {ID: 1, ParentID: 11, Name: "EMEA"},
		{ID: 2, ParentID: 10, Name: "Support"}}
	return NewDirectory(tandem.NewTree(units), []Agent{
		{ID: 101, Email: "ana@example.com", UnitID: 1, HiredOn: day("2021-03-01"), History: []Span{{day("2021-03-01"), 1}}},
		{ID: 102, Email: "ben@example.com", UnitID: 1, HiredOn: day("2020-01-15"), History: []Span{{day("2020-01-15"), 1}}},
		{ID: 103, Email: "cara@example.com", UnitID: 2, HiredOn: day("2018-09-17"), History: []Span{{day("2018-09-17"), 2}}},
		{ID: 104, Email: "Dev@Example.com", UnitID: 2, HiredOn: day("2022-06-01"),
			History: []Span{{day("2026-01-10"), 2}, {day("2022-06-01"), 1}}},
		{ID: 105, Email: "eve@example.com", UnitID: 2, HiredOn: day("2019-01-01"), ExitedOn: day("2025-12-31")},
	})
}

func problems(t *testing.T, b *Batch) []RowError {
	t.Helper()
	err := b.Err()
	if err == nil {
		return nil
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Err() = %T %v, want *Error", err, err)
	}
	return e.Errors
}

func TestScoresAreCheckedAgainstTheirMetric(t *testing.T) {
	for _, c := range []struct {
		metric, raw string
		want        float64
		problem     string // part of the message; "" for none
	}{
		{"csat", "5", 5, ""},
		{"csat", " 4.0 ", 4, ""},
		{"csat", "Good", 5, ""},
		{"csat", "bad", 1, ""},
		{"csat", "Very satisfied", 5, ""},
		{"csat", "very dissatisfied", 1, ""},
		{"csat", "Neutral", 3, ""},
		{"csat", "6", 0, "from 1 to 5"},
		{"csat", "0", 0, "from 1 to 5"},
		{"csat", "4.5", 0, "whole numbers"},
		{"csat", "great!", 0, "not a score"},
		{"csat", "", 0, "empty"},
		{"csat", "NaN", 0, "not a score"},
		{"nps", "0", 0, ""},
		{"nps", "10", 10, ""},
		{"nps", "11", 0, "from 0 to 10"},
		{"nps", "good", 0, "CSAT answer"},
		{"ces", "7", 7, ""},
		{"ces", "4,0", 4, ""},
		{"ces", "8", 0, "from 1 to 7"},
	} {
		got, msg := parseScore(c.metric, c.raw)
		if c.problem == "" && (msg != "" || got != c.want) {
			t.Errorf("%s %q = %v %q, want %v", c.metric, c.raw, got, msg, c.want)
		}
		if c.problem != "" && !strings.Contains(msg, c.problem) {
			t.Errorf("%s %q: problem %q, want one mentioning %q", c.metric, c.raw, msg, c.problem)
		}
	}
}

func TestTimesAreReadAsISO8601InUTC(t *testing.T) {
	want := time.Date(2026, 3, 2, 13, 30, 5, 0, time.UTC)
	for _, raw := range []string{
		"2026-03-02T13:30:05Z", "2026-03-02T14:30:05+01:00", "2026-03-02T13:30:05.250Z", "2026-03-02 13:30:05",
		"2026-03-02T13:30:05", "2026-03-02 14:30:05 +0100", "2026-03-02 13:30:05 UTC", "1772458205",
	} {
		var p timeParser
		got, msg := p.parse(raw)
		if msg != "" || !got.Equal(want) {
			t.Errorf("%q = %v %q, want %v", raw, got, msg, want)
		}
	}
	var p timeParser
	if got, msg := p.parse("2026-03-02"); msg != "" || !got.Equal(day("2026-03-02")) {
		t.Errorf("a bare date = %v %q, want midnight UTC", got, msg)
	}
	for _, raw := range []string{"03/02/2026", "yesterday", "2026-13-01", ""} {
		if _, msg := p.parse(raw); msg == "" {
			t.Errorf("%q was accepted, want a problem", raw)
		}
	}
}

func TestJSONTakesAnObjectAnArrayOrAWrapperWithDefaults(t *testing.T) {
	one := `{"source":"zendesk","id":123,"occurred_at":"2026-03-01T10:00:00Z","metric":"CSAT","score":"5","agent_email":"ana@example.com","extra":{"ignored":true}}`
	for name, body := range map[string]string{
		"object":  one,
		"array":   "[" + one + "]",
		"wrapper": `{"source":"zendesk","metric":"csat","ratings":[{"external_id":"123","occurred_at":"2026-03-01T10:00:00Z","score":5,"agent_email":"ana@example.com"}]}`,
	} {
		ins, err := ParseJSON([]byte(body), MaxBatch)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b := NewBatch(testDirectory(), now)
		for _, in := range ins {
			b.Add(in)
		}
		if ps := problems(t, b); len(ps) > 0 {
			t.Fatalf("%s: problems %v", name, ps)
		}
		rs := b.Ratings()
		if len(rs) != 1 {
			t.Fatalf("%s: %d ratings, want 1", name, len(rs))
		}
		r := rs[0]
		if r.Source != "zendesk" || r.ExternalID != "123" || r.Metric != "csat" || r.Score != 5 || r.UnitID != 1 || r.AgentID != 101 {
			t.Errorf("%s: rating %+v", name, r)
		}
	}
}

func TestMalformedJSONIsRefusedWithItsPosition(t *testing.T) {
	_, err := ParseJSON([]byte("[\n  {\"score\": 5,}\n]"), MaxBatch)
	var se *SyntaxError
	if !errors.As(err, &se) || !strings.Contains(se.Message, "line 2") || !strings.Contains(se.Message, "invalid character") {
		t.Fatalf("err = %v, want a syntax error on line 2 with the reason", err)
	}
	for _, body := range []string{"", "42", `"x"`, `{"ratings": 3}`, "[]", "[1, 2", "{"} {
		if _, err := ParseJSON([]byte(body), MaxBatch); !errors.As(err, &se) {
			t.Errorf("%q: err = %v, want a *SyntaxError", body, err)
		}
	}
}

func TestABatchOverTheLimitIsRefused(t *testing.T) {
	body := "[" + strings.TrimSuffix(strings.Repeat(`{"score":5},`, 11), ",") + "]"
	_, err := ParseJSON([]byte(body), 10)
	var tm *TooManyError
	if !errors.As(err, &tm) || tm.N != 11 || !strings.Contains(tm.Error(), "at most 10") {
		t.Fatalf("err = %v, want too many (11 > 10)", err)
	}
}

func TestEveryBadRatingIsReportedByIndexAndField(t *testing.T) {
	body := `[
	 {"source":"zendesk","id":"1","occurred_at":"2026-03-01T10:00:00Z","metric":"csat","score":5,"agent_email":"ana@example.com"},
	 {"source":"zendesk","id":"2","occurred_at":"2026-03-01T10:00:00Z","metric":"csat","score":9,"agent_email":"ana@example.com"},
	 {"source":"zendesk","id":"3","occurred_at":"2026-03-01T10:00:00Z","metric":"csat","score":4,"agent_email":"nobody@example.com"},
	 {"source":"zendesk","id":"4","occurred_at":"2026-03-01T10:00:00Z","metric":"stars","score":4,"unit_path":"Acme/Support"},
	 {"source":"zendesk","id":"5","occurred_at":"2026-03-09T10:00:00Z","metric":"nps","score":true,"unit_id":2},
	 {"source":"zendesk","id":"6","occurred_at":"2026-03-01T10:00:00Z","metric":"nps","score":9,"unit_path":"Acme/Nowhere"},
	 {"source":"zendesk","id":"7","occurred_at":"2026-03-01T10:00:00Z","metric":"ces","score":3,"unit_id":2,"agent_email":"ana@example.com"},
	 {"source":"","id":"8","occurred_at":"2026-03-01T10:00:00Z","metric":"ces","score":3},
	 {"source":"zendesk","id":"9","occurred_at":"2026-04-01T10:00:00Z","metric":"ces","score":3,"unit_id":"99"}
	]`
	ins, err := ParseJSON([]byte(body), MaxBatch)
	if err != nil {
		t.Fatal(err)
	}
	b := NewBatch(testDirectory(), now)
	for _, in := range ins {
		b.Add(in)
	}
	got := map[int][]string{}
	for _, p := range problems(t, b) {
		got[p.Index] = append(got[p.Index], p.Field)
		if p.Line != 0 || p.Message == "" {
			t.Errorf("problem %+v: want an index and a message, no line", p)
		}
	}
	want := map[int][]string{
		1: {"score"}, 2: {"agent_email"}, 3: {"metric"}, 4: {"score"}, 5: {"unit_path"},
		6: {"agent_email"}, 7: {"source", "agent_email"}, 8: {"occurred_at", "unit_id"},
	}
	for i, fs := range want {
		if strings.Join(got[i], ",") != strings.Join(fs, ",") {
			t.Errorf("rating %d: problems with %v, want %v", i, got[i], fs)
		}
	}
	if len(got[0]) != 0 {
		t.Errorf("the good rating 0 has problems %v", got[0])
	}
	var e *Error
	errors.As(b.Err(), &e)
	if e.Rows != 8 {
		t.Errorf("bad rows = %d, want 8", e.Rows)
	}
}

func TestAgentRatingsGoToTheTeamOfTheirDay(t *testing.T) {
	b := NewBatch(testDirectory(), now)
	add := func(email, at string) {
		b.Add(Input{Source: "s", ExternalID: email + at, OccurredAt: at, Metric: "csat", Score: "4", AgentEmail: email})
	}
	add("dev@example.com", "2026-01-09T23:59:59Z") // still in EMEA
	add("DEV@example.com", "2026-01-10T00:00:00Z") // Support from this day
	add("ana@example.com", "2021-02-28T12:00:00Z") // before Ana joined
	add("eve@example.com", "2025-12-31T18:00:00Z") // her last day: counted
	add("eve@example.com", "2026-01-01T09:00:00Z") // after Eve left
	ps := problems(t, b)
	if len(ps) != 2 || ps[0].Index != 0 || !strings.Contains(ps[0].Message, "before ana@example.com joined on 2021-03-01") ||
		!strings.Contains(ps[1].Message, "after eve@example.com left on 2025-12-31") {
		t.Fatalf("problems %v, want before-joining and after-leaving", ps)
	}
	rs := b.Ratings()
	if len(rs) != 3 || rs[0].UnitID != 1 || rs[1].UnitID != 2 || rs[2].UnitID != 2 || rs[0].AgentID != 104 {
		t.Errorf("ratings %+v, want Dev in EMEA (1) then Support (2), Eve in Support", rs)
	}
}

func TestRatingsWithoutIDGetTheSameDerivedIDEveryTime(t *testing.T) {
	in := Input{Source: "survey", OccurredAt: "2026-02-01T10:00:00+01:00", Metric: "nps", Score: "9", UnitPath: "Acme / Support", Comment: "ok"}
	b1, b2 := NewBatch(testDirectory(), now), NewBatch(testDirectory(), now)
	b1.Add(in)
	in.OccurredAt = "2026-02-01T09:00:00Z" // the same instant written another way
	b2.Add(in)
	in.Score = "8"
	b2.Add(in)
	r1, r2 := b1.Ratings(), b2.Ratings()
	if len(r1) != 1 || len(r2) != 2 {
		t.Fatalf("ratings %v %v", r1, r2)
	}
	if !strings.HasPrefix(r1[0].ExternalID, "h:") || len(r1[0].ExternalID) != 26 || r1[0].ExternalID != r2[0].ExternalID {
		t.Errorf("derived ids %q and %q, want the same h: and 24 hex digits", r1[0].ExternalID, r2[0].ExternalID)
	}
	if r2[1].ExternalID == r2[0].ExternalID {
		t.Error("a different score got the same derived id")
	}
	if r1[0].UnitID != 2 {
		t.Errorf("unit = %d, want Support (2) from the path with spaces", r1[0].UnitID)
	}
}

func TestRepeatsWithinABatchAreFoundForTheDryRun(t *testing.T) {
	b := NewBatch(testDirectory(), now)
	for _, id := range []string{"1", "2", "1", "3", "2"} {
		b.Add(Input{Source: "Zendesk", ExternalID: id, OccurredAt: "2026-02-01", Metric: "csat", Score: "5", UnitID: "2"})
	}
	b.Add(Input{Source: "other", ExternalID: "1", OccurredAt: "2026-02-01", Metric: "csat", Score: "5", UnitID: "2"})
	d, repeats := b.Distinct()
	if len(d) != 4 || repeats != 2 {
		t.Errorf("distinct %d, repeats %d; want 4 and 2 (the same id from another source is another rating)", len(d), repeats)
	}
	if d[0].Source != "zendesk" {
		t.Errorf("source %q, want it lower-cased", d[0].Source)
	}
}

func readZendesk(t *testing.T, opt CSVOptions) (*Batch, Columns) {
	t.Helper()
	f, err := os.Open("testdata/zendesk.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := NewBatch(testDirectory(), now)
	cols, err := ReadCSV(f, opt, b)
	if err != nil {
		t.Fatal(err)
	}
	return b, cols
}

func TestAZendeskExportIsReadWithoutAMapping(t *testing.T) {
	b, cols := readZendesk(t, CSVOptions{Source: "zendesk"})
	if ps := problems(t, b); len(ps) > 0 {
		t.Fatalf("problems: %v", ps)
	}
	for field, header := range map[string]string{FieldExternalID: "Id", FieldOccurredAt: "Updated at", FieldAgentEmail: "Assignee email",
		FieldScore: "Satisfaction Score", FieldComment: "Satisfaction Comment"} {
		if cols.Used[field] != header {
			t.Errorf("%s read from %q, want %q", field, cols.Used[field], header)
		}
	}
	if cols.ImpliedMetric != tandem.MetricCSAT {
		t.Errorf("implied metric %q, want csat from the Satisfaction Score header", cols.ImpliedMetric)
	}
	s := b.Summary()
	if s.Rows != 8 || s.Valid != 6 || s.Unrated != 2 {
		t.Errorf("summary %+v, want 8 rows, 6 ratings, 2 unrated (Offered, Unoffered)", s)
	}
	rs := b.Ratings()
	want := []struct {
		id    string
		score float64
		unit  int64
	}{{"48201", 5, 1}, {"48202", 1, 1}, {"48204", 5, 2}, {"48206", 5, 1}, {"48207", 1, 2}, {"48208", 5, 2}}
	for i, w := range want {
		if r := rs[i]; r.ExternalID != w.id || r.Score != w.score || r.UnitID != w.unit || r.Source != "zendesk" || r.Metric != "csat" {
			t.Errorf("rating %d = %+v, want id %s score %v unit %d", i, r, w.id, w.score, w.unit)
		}
	}
	if got := rs[0].OccurredAt; !got.Equal(time.Date(2026, 1, 5, 9, 15, 42, 0, time.UTC)) {
		t.Errorf("time %v, want the Updated at converted from +0100 to UTC", got)
	}
	if rs[2].Comment != "Great help.\nThanks again!" || rs[4].Comment != `He said "restart it" and closed the ticket` {
		t.Errorf("comments %q and %q", rs[2].Comment, rs[4].Comment)
	}
	if smp := b.Samples(); len(smp) != 6 || smp[2].Line != 5 || smp[3].Line != 8 {
		t.Errorf("sample lines %+v, want physical lines (a comment spans lines 5–6)", smp)
	}
}

func TestAColumnMappingPicksTheColumnsNamed(t *testing.T) {
	m, err := ParseMapping(`time="Solved at",agent=Assignee email,score=Satisfaction Score,id="Id"`)
	if err != nil {
		t.Fatal(err)
	}
	b, cols := readZendesk(t, CSVOptions{Source: "zendesk", Metric: "csat", Mapping: m})
	if ps := problems(t, b); len(ps) > 0 {
		t.Fatalf("problems: %v", ps)
	}
	if cols.Used[FieldOccurredAt] != "Solved at" {
		t.Errorf("time read from %q, want Solved at", cols.Used[FieldOccurredAt])
	}
	if got := b.Ratings()[0].OccurredAt; !got.Equal(time.Date(2026, 1, 5, 8, 40, 3, 0, time.UTC)) {
		t.Errorf("time %v, want Solved at in UTC", got)
	}
	// A mapping to a column the file lacks is a problem with the file.
	m, _ = ParseMapping(`time=Rated at`)
	b, _ = readZendesk(t, CSVOptions{Source: "zendesk", Mapping: m})
	ps := problems(t, b)
	if len(ps) != 1 || ps[0].Line != 1 || !strings.Contains(ps[0].Message, `"Rated at"`) || !strings.Contains(ps[0].Message, `"Solved at"`) {
		t.Errorf("problems %v, want one naming the missing column and listing the file's columns", ps)
	}
	if _, err := ParseMapping("when=Date"); err == nil {
		t.Error("a mapping of an unknown field was accepted")
	}
	if _, err := ParseMapping(`time="Rated, at`); err == nil {
		t.Error("an unclosed quote was accepted")
	}
}

func TestCSVProblemsHaveLineAndColumn(t *testing.T) {
	csv := "\uFEFFRated at;Agent email;Rating;Comment\n" +
		"2026-02-01 10:00;ana@example.com;5;fine\n" +
		"2026-02-01 10:00;nobody@example.com;5;\n" +
		"2026-02-31 10:00;ben@example.com;7;\n" +
		"\n" +
		"2026-02-02 10:00;cara@example.com\n" +
		"2026-02-02 10:00;Cara Diaz;3;\n"
	b := NewBatch(testDirectory(), now)
	if _, err := ReadCSV(strings.NewReader(csv), CSVOptions{Source: "freshdesk", Metric: "csat"}, b); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range problems(t, b) {
		got = append(got, p.String())
	}
	want := []string{
		"line 3, column Agent email: no employee has email nobody@example.com",
		"line 4, column Rated at: \"2026-02-31 10:00\" is not a date-time",
		"line 4, column Rating: CSAT scores go from 1 to 5",
		"line 6: the row has 2 fields but the header has 4",
		"line 7, column Agent email: \"Cara Diaz\" is not an email address",
	}
	if len(got) != len(want) {
		t.Fatalf("problems:\n%s\nwant %d", strings.Join(got, "\n"), len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d = %q, want it to start %q", i, got[i], want[i])
		}
	}
	if len(b.Ratings()) != 1 {
		t.Errorf("%d good ratings kept, want 1 (kept, but the batch is refused whole)", len(b.Ratings()))
	}
}

func TestAFileWithoutTheNeededColumnsSaysWhatToAdd(t *testing.T) {
	for name, c := range map[string]struct {
		csv  string
		opt  CSVOptions
		want string
	}{
		"no score":   {"time,agent_email\n2026-01-01,ana@example.com\n", CSVOptions{Source: "s", Metric: "csat"}, "no score column"},
		"no date":    {"score,agent_email\n5,ana@example.com\n", CSVOptions{Source: "s", Metric: "csat"}, "no date column"},
		"no agent":   {"time,score\n2026-01-01,5\n", CSVOptions{Source: "s", Metric: "csat"}, "who served the customer"},
		"no metric":  {"time,score,agent\n2026-01-01,5,ana@example.com\n", CSVOptions{Source: "s"}, "no metric column"},
		"no source":  {"time,score,agent\n2026-01-01,5,ana@example.com\n", CSVOptions{Metric: "csat"}, "no source column"},
		"two dates":  {"date,time,score,agent\n2026-01-01,2026-01-01,5,ana@example.com\n", CSVOptions{Source: "s", Metric: "csat"}, `"date", "time" could each be`},
		"empty":      {"", CSVOptions{Source: "s", Metric: "csat"}, "the file is empty"},
		"no rows":    {"time,score,agent\n", CSVOptions{Source: "s", Metric: "csat"}, "no rows"},
		"bad quotes": {"time,score,agent\n2026-01-01,5,\"ana@example.com\n", CSVOptions{Source: "s", Metric: "csat"}, "not closed"},
		"utf-16":     {"\xff\xfet\x00", CSVOptions{Source: "s", Metric: "csat"}, "UTF-16"},
	} {
		b := NewBatch(testDirectory(), now)
		if _, err := ReadCSV(strings.NewReader(c.csv), c.opt, b); err != nil {
			t.Fatal(err)
		}
		ps := problems(t, b)
		if len(ps) == 0 || !strings.Contains(ps[0].Message, c.want) {
			t.Errorf("%s: problems %v, want one saying %q", name, ps, c.want)
		}
	}
}

func TestAnNPSScoreHeaderNamesTheMetric(t *testing.T) {
	b := NewBatch(testDirectory(), now)
	cols, _ := ReadCSV(strings.NewReader("Date,Team,NPS score\n2026-02-01,Acme/Support,9\n2026-02-01,Acme/Sales/EMEA,3\n"), CSVOptions{Source: "survey"}, b)
	if ps := problems(t, b); len(ps) > 0 {
		t.Fatal(ps)
	}
	rs := b.Ratings()
	if cols.ImpliedMetric != "nps" || len(rs) != 2 || rs[0].Metric != "nps" || rs[1].UnitID != 1 {
		t.Errorf("ratings %+v, want two NPS ratings attributed by team path", rs)
	}
}

// TestACSVWrittenByTandemReadsBackWithTheSameValues writes ratings with
// csvfile.Writer, which puts an apostrophe before cells a spreadsheet
// would run: ReadCSV removes it again, and numbers are untouched.
func TestACSVWrittenByTandemReadsBackWithTheSameValues(t *testing.T) {
	comments := []string{"=HYPERLINK(\"http://evil.example\")", "-2+3+cmd|' /C calc'!A0", "@home", "'=quoted already", "O'Brien", "-"}
	var buf strings.Builder
	w := csvfile.NewWriter(&buf)
	w.Write([]string{"occurred_at", "agent_email", "score", "comment", "id"})
	for i, c := range comments {
		w.Write([]string{"2026-02-01T10:00:00Z", "ana@example.com", "5", c, "+" + strconv.Itoa(i)})
	}
	w.Flush()
	if !strings.Contains(buf.String(), "'=HYPERLINK") {
		t.Fatalf("the writer did not neutralise the formula:\n%s", buf.String())
	}
	b := NewBatch(testDirectory(), now)
	if _, err := ReadCSV(strings.NewReader(buf.String()), CSVOptions{Source: "test", Metric: "csat"}, b); err != nil {
		t.Fatal(err)
	}
	if err := b.Err(); err != nil {
		t.Fatalf("the file does not read back: %v", err)
	}
	got := b.Ratings()
	if len(got) != len(comments) {
		t.Fatalf("%d ratings read back, want %d", len(got), len(comments))
	}
	for i, r := range got {
		if r.Comment != comments[i] || r.ExternalID != "+"+strconv.Itoa(i) || r.Score != 5 {
			t.Errorf("rating %d read back as comment %q, id %q, score %v; want %q, %q, 5", i, r.Comment, r.ExternalID, r.Score, comments[i], "+"+strconv.Itoa(i))
		}
	}
}

// TestReadCSVRefusesOverlongFieldsByLineAndColumn gives fields values over
// their limits: each is refused on its line and column without quoting
// more than a few dozen characters.
func TestReadCSVRefusesOverlongFieldsByLineAndColumn(t *testing.T) {
	huge := strings.Repeat("x", 5<<20)
	file := "occurred_at,agent_email,score,comment,metric\n" +
		"2026-02-01T10:00:00Z,ana@example.com,5,fine,csat\n" +
		"2026-02-01T10:00:00Z," + huge + "@example.com,5,,csat\n" +
		huge + ",ana@example.com,5,,csat\n" +
		"2026-02-01T10:00:00Z,ana@example.com," + huge + ",,csat\n" +
		"2026-02-01T10:00:00Z,ana@example.com,5,,csat" + huge + "\n" +
		"2026-02-01T10:00:00Z,ana@example.com,5," + huge + ",csat\n"
	b := NewBatch(testDirectory(), now)
	if _, err := ReadCSV(strings.NewReader(file), CSVOptions{Source: "test"}, b); err != nil {
		t.Fatal(err)
	}
	want := map[int]string{3: "agent_email", 4: "occurred_at", 5: "score", 6: "metric", 7: "comment"}
	got := map[int]string{}
	for _, e := range problems(t, b) {
		got[e.Line] = e.Column
		if s := e.String(); len(s) > 300 || len([]rune(e.Value)) > 80 {
			t.Errorf("line %d: an error of %d bytes with a value of %d bytes; quote at most a few dozen characters", e.Line, len(s), len(e.Value))
		}
	}
	for line, col := range want {
		if got[line] != col {
			t.Errorf("line %d: problem in column %q, want %q", line, got[line], col)
		}
	}
	if len(got) != len(want) {
		t.Errorf("problems on lines %v, want exactly lines 3 to 7", got)
	}
}

// TestReadCSVRefusesAHeaderWithTooManyColumns reads a header of a million
// columns (the review's file took 28.6 s and 2 GB): refused on line 1 with
// the count, and nothing more is read.
func TestReadCSVRefusesAHeaderWithTooManyColumns(t *testing.T) {
	header := "occurred_at,agent_email,score" + strings.Repeat(",x", 1_000_000)
	row := "\n2026-02-01T10:00:00Z,ana@example.com,5" + strings.Repeat(",", 1_000_000)
	b := NewBatch(testDirectory(), now)
	cols, err := ReadCSV(strings.NewReader(header+row+row), CSVOptions{Source: "test", Metric: "csat"}, b)
	if err != nil {
		t.Fatal(err)
	}
	ps := problems(t, b)
	if len(ps) != 1 || ps[0].Line != 1 || !strings.Contains(ps[0].Message, "1,000,003 columns") || len(ps[0].String()) > 300 {
		t.Fatalf("got %v, want one short problem on line 1 giving the count", ps)
	}
	if len(cols.Ignored) > 0 || len(b.Ratings()) > 0 {
		t.Errorf("%d ignored columns listed and %d ratings read from a refused file; want none", len(cols.Ignored), len(b.Ratings()))
	}
}

// TestCSVReadsHeadersWrittenAsJoinedWords: the ratings importer matches
// headers by the same key as the roster (csvfile.HeaderKey).
func TestCSVReadsHeadersWrittenAsJoinedWords(t *testing.T) {
	b := NewBatch(testDirectory(), now)
	cols, err := ReadCSV(strings.NewReader("TicketID,RatedAt,AssigneeEmail,SatisfactionScore\n48201,2026-01-05 10:15:42,ana@example.com,Good\n"), CSVOptions{Source: "zendesk"}, b)
	if err != nil {
		t.Fatal(err)
	}
	if ps := problems(t, b); len(ps) > 0 {
		t.Fatalf("problems: %v", ps)
	}
	want := map[string]string{FieldExternalID: "TicketID", FieldOccurredAt: "RatedAt", FieldAgentEmail: "AssigneeEmail", FieldScore: "SatisfactionScore"}
	if !reflect.DeepEqual(cols.Used, want) || cols.ImpliedMetric != tandem.MetricCSAT {
		t.Errorf("columns read %v (metric %q), want %v and csat from SatisfactionScore", cols.Used, cols.ImpliedMetric, want)
	}
}
