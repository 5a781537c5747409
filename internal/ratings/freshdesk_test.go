package ratings

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestFreshdeskValuesAreReadOnlyFromFreshdeskSources(t *testing.T) {
	for _, c := range []struct {
		source, score string
		want          float64 // 0: refused
	}{
		// Every value Freshdesk documents, on its 7-point scale.
		{"freshdesk", "103", 5}, {"freshdesk", "102", 4}, {"freshdesk", "101", 4}, {"freshdesk", "100", 3},
		{"freshdesk", "-101", 2}, {"freshdesk", "-102", 2}, {"freshdesk", "-103", 1},
		// A second account named apart.
		{"freshdesk-eu", "-103", 1},
		// Plain scores still mean themselves.
		{"freshdesk", "4", 4},
		// Not a value Freshdesk documents.
		{"freshdesk", "104", 0}, {"freshdesk", "-100", 0}, {"freshdesk", "99", 0},
		// From another source, 103 is a CSAT score out of range.
		{"zendesk", "103", 0}, {"survey", "100", 0},
	} {
		b := NewBatch(testDirectory(), now)
		b.Add(Input{Source: c.source, ExternalID: "1", OccurredAt: "2026-02-01T10:00:00Z", Metric: "csat", Score: c.score, AgentEmail: "ana@example.com"})
		rs := b.Ratings()
		switch {
		case c.want == 0 && len(rs) != 0:
			t.Errorf("%s %s was read as %g, want it refused", c.source, c.score, rs[0].Score)
		case c.want != 0 && (len(rs) != 1 || rs[0].Score != c.want):
			t.Errorf("%s %s: ratings %+v, problems %v; want score %g", c.source, c.score, rs, b.Err(), c.want)
		}
	}
}

func TestFreshdeskValuesOfEveryScaleKeepTheirHappyShare(t *testing.T) {
	// On each survey scale Freshdesk uses a subset of the values; every
	// happy value must be satisfied (4–5) and every unhappy one not.
	for _, f := range FreshdeskValues {
		satisfied := f.Score >= 4
		if happy := f.Value > 100; satisfied != happy {
			t.Errorf("%d (%s) = %g: satisfied %v, but happy %v", f.Value, f.Label, f.Score, satisfied, happy)
		}
	}
	// The 5-point scale's five values are 5, 4, 3, 2, 1.
	var got []string
	for _, v := range []string{"103", "102", "100", "-102", "-103"} {
		s, _ := FreshdeskScore(v)
		got = append(got, strconv.FormatFloat(s, 'f', -1, 64))
	}
	if strings.Join(got, " ") != "5 4 3 2 1" {
		t.Errorf("5-point scale read as %v, want 5 4 3 2 1", got)
	}
}

func TestSplitKeepsTheGoodRatingsAndSaysWhatIsWrongWithTheRest(t *testing.T) {
	dir := testDirectory()
	ins := []Input{
		{Source: "zendesk", ExternalID: "1", OccurredAt: "2026-02-01T10:00:00Z", Metric: "csat", Score: "good", AgentEmail: "ana@example.com"},
		{Source: "zendesk", ExternalID: "2", OccurredAt: "2026-02-01T10:00:00Z", Metric: "csat", Score: "bad", AgentEmail: "eve@example.com"},
		{Source: "zendesk", ExternalID: "3", OccurredAt: "2026-02-01T10:00:00Z", Metric: "csat", Score: "bad", UnitID: "2"},
		{Source: "zendesk", ExternalID: "4", OccurredAt: "soon", Metric: "csat", Score: "meh", UnitID: "2"},
	}
	rs, problems := Split(dir, now, ins)
	if len(rs) != 2 || rs[0].ExternalID != "1" || rs[0].Score != 5 || rs[1].ExternalID != "3" || rs[1].UnitID != 2 {
		t.Errorf("ratings %+v, want 1 (ana, 5) and 3 (unit 2)", rs)
	}
	if len(problems) != 2 || !strings.Contains(problems[1], "after eve@example.com left on 2025-12-31") {
		t.Errorf("problems %v, want rating 1 set aside as after Eve left", problems)
	}
	if p := problems[3]; !strings.Contains(p, "occurred_at") || !strings.Contains(p, "score") {
		t.Errorf("rating 3's problem %q, want both the date and the score named", p)
	}
	if !dir.HasAgent("ANA@example.com") || dir.HasAgent("zoe@example.com") {
		t.Error("HasAgent: want ana (any case) on the roster and zoe not")
	}
}

// TestTheREADMEsFreshdeskTableIsTheOneTandemReads: the table people read
// to check an import or a sync is FreshdeskValues, row by row.
func TestTheREADMEsFreshdeskTableIsTheOneTandemReads(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(b), "| Freshdesk value |")
	if !ok {
		t.Fatal("README.md has no table headed | Freshdesk value |")
	}
	table, _, _ = strings.Cut(table, "\n\n")
	var got []FreshdeskValue
	for _, line := range strings.Split(table, "\n")[2:] {
		cells := strings.Split(strings.Trim(line, "| "), "|")
		if len(cells) != 3 {
			t.Fatalf("README row %q: want 3 cells", line)
		}
		v, err1 := strconv.Atoi(strings.ReplaceAll(strings.TrimSpace(cells[0]), "−", "-"))
		s, err2 := strconv.ParseFloat(strings.TrimSpace(cells[2]), 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("README row %q: %v %v", line, err1, err2)
		}
		got = append(got, FreshdeskValue{Value: v, Label: strings.TrimSpace(cells[1]), Score: s})
	}
	if !slices.Equal(got, FreshdeskValues) {
		t.Errorf("README's Freshdesk table\n%v\ndiffers from FreshdeskValues\n%v", got, FreshdeskValues)
	}
}
