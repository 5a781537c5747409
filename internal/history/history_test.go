package history

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/tandem"
)

var testQuestions = []pulse.Question{
	{ID: 1, Key: "eng.proud", Text: "I am proud to tell people where I work.", Kind: pulse.Likert5, Driver: "engagement", InIndex: true},
	{ID: 4, Key: "enps", Text: "How likely is it that you would recommend working here to a friend?", Kind: pulse.Scale010, Driver: "enps"},
	{ID: 7, Key: "mode", Text: "Where do you work most days?", Kind: pulse.Choice, Choices: []string{"Office", "Home", "Both"}},
	{ID: 9, Key: "svc", Text: "Rate the team that helped you", Kind: pulse.Service},
}

// testTree is Acme with Sales (8 people) and Support (3), and Legal apart.
func testTree() *tandem.Tree {
	return tandem.NewTree([]tandem.Unit{{ID: 1, Name: "Acme", Path: "Acme"}, {ID: 2, ParentID: 1, Name: "Sales", Path: "Acme / Sales"},
		{ID: 3, ParentID: 1, Name: "Support", Path: "Acme / Support"}, {ID: 4, Name: "Legal", Path: "Legal"}})
}

func unitOf(tree *tandem.Tree) func(string) (int64, string) {
	return func(p string) (int64, string) {
		parts, err := tandem.SplitUnitPath(p)
		if err != nil {
			return 0, tandem.ErrorMessage(err)
		}
		if u := tree.ByPath(parts); u != nil {
			return u.ID, ""
		}
		return 0, fmt.Sprintf("no unit has the path %q", p)
	}
}

var today = time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)

func read(t *testing.T, csv string, mapping map[string]string) (*File, error) {
	t.Helper()
	return Read(strings.NewReader(csv), Options{Questions: testQuestions, Mapping: mapping, Unit: unitOf(testTree()), Today: today})
}

func problems(t *testing.T, err error) []string {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want an *Error, got %v", err)
	}
	var out []string
	for _, p := range e.Problems {
		out = append(out, p.String())
	}
	return out
}

func TestReadReportsEveryProblemWithItsLineAndColumnInOnePass(t *testing.T) {
	csv := "\uFEFFteam;Date;eng.proud;How likely is it that you would recommend working here to a friend?;mode;Comment;Extra\n" +
		"Acme/Sales;2026-03-02;4;9;office;fine;x\n" +
		"Acme/Nowhere;2026-03-02;6;11;Moon;;\n" +
		"Acme/Sales;02/03/2026;3;;;;\n" +
		"Acme/Sales;2026-04-01;;;;;\n" +
		"Acme/Sales;2026-03-03;;;;;\n" +
		"Acme/Sales;2026-03-03;'=1+1;;;;\n"
	_, err := read(t, csv, nil)
	got := problems(t, err)
	want := []string{
		`line 3, column team: no unit has the path "Acme/Nowhere"`,
		`line 3, column eng.proud: "6" is not on the question's scale; give a whole number from 1 to 5`,
		`line 3, column How likely is it that you would recommend working here to a friend?: "11" is not on the question's scale; give a whole number from 0 to 10`,
		`line 3, column mode: "Moon" is not one of the question's options (Office; Home; Both)`,
		`line 4, column Date: "02/03/2026" is not a date; write it as YYYY-MM-DD, such as 2026-03-02`,
		`line 5, column Date: 2026-04-01 is after today; history is of answers already given`,
		`line 6: the row answers no question and has no comment; delete it, or fill in its answers`,
		`line 7, column eng.proud: "=1+1" is not on the question's scale; give a whole number from 1 to 5`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestReadReadsAGoodFileWithAMappingAndADateTime(t *testing.T) {
	csv := "Org unit,Submitted at,Q1,enps,Notes\n" +
		"Acme/Sales,2026-03-02T14:31:07Z,4,9,\"Good, thanks\"\n" +
		"Acme > Support,2026-03-04 09:00:00,,3,\n"
	m, err := ParseMapping([]string{`eng.proud=Q1`, `"Notes"=comment,unit="Org unit"`}, []string{"eng.proud", "enps"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := read(t, csv, m)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Responses) != 2 || len(f.Questions) != 2 || f.Questions[0].Key != "eng.proud" || f.Questions[1].Key != "enps" {
		t.Fatalf("read %d responses, questions %v", len(f.Responses), f.Questions)
	}
	r0, r1 := f.Responses[0], f.Responses[1]
	if r0.UnitID != 2 || tandem.FormatDate(r0.Date) != "2026-03-02" || r0.Comment != "Good, thanks" || len(r0.Answers) != 2 || r0.Answers[0].Value != 4 || r0.Answers[1].Value != 9 {
		t.Errorf("first response %+v", r0)
	}
	if r1.UnitID != 3 || len(r1.Answers) != 1 || r1.Answers[0].QuestionID != 4 || r1.Answers[0].Value != 3 || r1.Line != 3 {
		t.Errorf("second response %+v", r1)
	}
	if f.Used["date"] != "Submitted at" || f.Used["comment"] != "Notes" {
		t.Errorf("columns used %v", f.Used)
	}
}

func TestReadRefusesAHeaderWithoutUnitDateOrQuestionsAndServiceColumns(t *testing.T) {
	_, err := read(t, "who,when,svc\nAcme,2026-03-02,4\n", nil)
	got := strings.Join(problems(t, err), "\n")
	for _, want := range []string{"no unit column", "no date column", "svc rates another team's service"} {
		if !strings.Contains(got, want) {
			t.Errorf("problems %s lack %q", got, want)
		}
	}
	_, err = read(t, "unit,date,other\nAcme,2026-03-02,4\n", nil)
	if got := strings.Join(problems(t, err), "\n"); !strings.Contains(got, "no column is a question of the program") {
		t.Errorf("problems %s", got)
	}
}

func TestParseMappingTakesEitherOrderAndRefusesUnknownNames(t *testing.T) {
	m, err := ParseMapping([]string{"Score A=eng.proud", "date=When"}, []string{"eng.proud"})
	if err != nil || m["eng.proud"] != "Score A" || m["date"] != "When" {
		t.Errorf("mapping %v, %v", m, err)
	}
	if _, err := ParseMapping([]string{"foo=bar"}, []string{"eng.proud"}); err == nil || !strings.Contains(err.Error(), "neither side") {
		t.Errorf("foo=bar: %v", err)
	}
	if _, err := ParseMapping([]string{`date="When`}, nil); err == nil {
		t.Error("an unclosed quote was taken")
	}
}

func TestPeriodsStartOnMondayFortnightsAndFirstsOfMonths(t *testing.T) {
	d := func(s string) time.Time { v, _ := tandem.ParseDate(s); return v }
	cases := []struct{ period, day, start, end string }{
		{Week, "2026-03-08", "2026-03-02", "2026-03-09"},
		{Week, "2026-03-09", "2026-03-09", "2026-03-16"},
		{Month, "2026-02-28", "2026-02-01", "2026-03-01"},
		// 2026-03-09 is 1314 weeks after Monday 2001-01-01 (9198 days,
		// counted in Python): a fortnight starts on it.
		{Fortnight, "2026-03-09", "2026-03-09", "2026-03-23"},
		{Fortnight, "2026-03-22", "2026-03-09", "2026-03-23"},
		{Fortnight, "2026-03-08", "2026-02-23", "2026-03-09"},
		{Fortnight, "2001-01-14", "2001-01-01", "2001-01-15"},
	}
	for _, c := range cases {
		s := PeriodStart(c.period, d(c.day))
		if tandem.FormatDate(s) != c.start || tandem.FormatDate(PeriodEnd(c.period, s)) != c.end {
			t.Errorf("%s of %s: %s to %s, want %s to %s", c.period, c.day, tandem.FormatDate(s), tandem.FormatDate(PeriodEnd(c.period, s)), c.start, c.end)
		}
	}
	if CheckPeriod("quarter") == nil || CheckPeriod(Fortnight) != nil {
		t.Error("CheckPeriod")
	}
}

func TestPlanMakesOneRoundPerPeriodAndReportsEveryPeriodItCannotStore(t *testing.T) {
	tree := testTree()
	csv := "unit,date,eng.proud,enps\n" +
		"Acme/Sales,2026-02-09,4,\n" + // week of 9 Feb: a round exists
		"Acme/Sales,2026-02-16,4,\n" + // week of 16 Feb: fine
		"Acme/Support,2026-02-17,5,\n" +
		"Acme/Sales,2026-02-24,,8\n" + // week of 23 Feb: fine, only enps asked
		"Legal,2026-03-02,3,\n" + // not in the audience
		"Acme/Support,2026-03-03,3,\n" + // Support empty on 2 Mar
		"Acme/Sales,2026-03-10,3,\n" // 9 Mar: the audience is below k
	for i := 0; i < 12; i++ {
		csv += "Acme/Sales,2026-03-17,2,\n" // 16 Mar: 12 answers, 11 people
	}
	f, err := read(t, csv, nil)
	if err != nil {
		t.Fatal(err)
	}
	heads := map[string]map[int64]int{
		"2026-02-16": {2: 8, 3: 3}, "2026-02-23": {2: 8, 3: 3}, "2026-03-02": {2: 8},
		"2026-03-09": {2: 4}, "2026-03-16": {2: 8, 3: 3},
	}
	in := PlanInput{Tree: tree, Audience: 1, InAudience: func(u int64) bool { return tree.Contains(1, u) }, K: 5, Period: Week,
		Headcount: func(day time.Time) map[int64]int { return heads[tandem.FormatDate(day)] },
		Existing:  []pulse.Round{{Seq: 3, Period: "2026-02-11"}}}
	_, err = Plan(f, in)
	got := problems(t, err)
	want := []string{
		"line 2, column date: the program has round 3 on 2026-02-11 already, in the week of 9 Feb 2026; history fills only periods without rounds (leave out this period's rows)",
		"line 6, column unit: Legal is not in the program's audience; import it into a program that asks it",
		"line 7, column unit: the roster has nobody in Acme/Support on 2026-03-02, the first day of the week of 2 Mar 2026; check the unit, or the hire dates on the roster",
		"line 8, column date: on 2026-03-09, the first day of the week of 9 Mar 2026, the roster has 4 people in the program's audience, fewer than its threshold of 5: no figure of the period could be shown. Import the roster with hire dates first, or choose a longer period",
		"line 20, column unit: more responses in the week of 16 Mar 2026 than the 11 people the roster has in Acme on 2026-03-16, whose answers are stored together; check the units and dates",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Without the bad periods: two rounds. Support's 3 people roll up into
	// Acme, which then takes in Sales to reach k (privacy.StorageGroups):
	// all 11 are stored under Acme. Each round asks what it answered.
	f.Responses = f.Responses[1:4]
	rounds, err := Plan(f, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(rounds) != 2 || tandem.FormatDate(rounds[0].Start) != "2026-02-16" || tandem.FormatDate(rounds[1].Start) != "2026-02-23" {
		t.Fatalf("rounds %+v", rounds)
	}
	r := rounds[0]
	if r.Group[2] != 1 || r.Group[3] != 1 || r.Invited[1] != 11 || len(r.Invited) != 1 || len(r.Questions) != 1 || r.Questions[0].Key != "eng.proud" {
		t.Errorf("first round: groups %v, invited %v, questions %v", r.Group, r.Invited, r.Questions)
	}
	if r.Below(5) != 1 {
		t.Errorf("groups below k: %d, want 1 (Acme, with two answers)", r.Below(5))
	}
	if q := rounds[1].Questions; len(q) != 1 || q[0].Key != "enps" {
		t.Errorf("second round asks %v, want enps alone", q)
	}
}

func TestDefaultPeriodFollowsTheProgramsCadence(t *testing.T) {
	for _, c := range []struct {
		cadence pulse.Cadence
		want    string
	}{
		{pulse.Cadence{Kind: pulse.Weekly, Weeks: 1}, Week},
		{pulse.Cadence{Kind: pulse.Weekly, Weeks: 2}, Fortnight},
		{pulse.Cadence{Kind: pulse.Weekly, Weeks: 4}, Month},
		{pulse.Cadence{Kind: pulse.Monthly}, Month},
		{pulse.Cadence{Kind: pulse.Quarterly}, Month},
		{pulse.Cadence{Kind: pulse.Cron, Expr: "0 9 * * 1-5"}, Week},
	} {
		if got := DefaultPeriod(c.cadence); got != c.want {
			t.Errorf("%+v: %s, want %s", c.cadence, got, c.want)
		}
	}
}
