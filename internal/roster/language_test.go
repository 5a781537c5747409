package roster

import (
	"strings"
	"testing"

	"github.com/tandem-hq/tandem/internal/tandem"
)

func TestLanguageColumnIsOptionalCheckedAndKeptInCanonicalSpelling(t *testing.T) {
	f := mustParse(t, "email,name,team,Preferred Language\n"+
		"ana@example.com,Ana,Acme,de\n"+
		"ben@example.com,Ben,Acme,PT-br\n"+
		"cara@example.com,Cara,Acme,de-AT\n"+
		"dev@example.com,Dev,Acme,\n")
	if !f.Has(ColLanguage) {
		t.Fatalf("the file's language column was not recognised: %v", f.Columns)
	}
	want := []string{"de", "pt-BR", "de-AT", ""}
	for i, r := range f.Records {
		if r.Language != want[i] {
			t.Errorf("line %d: language %q, want %q", r.Line, r.Language, want[i])
		}
	}
	if f := mustParse(t, "email,name,team\nana@example.com,Ana,Acme\n"); f.Has(ColLanguage) {
		t.Error("a file without a language column has one")
	}

	// Every bad language is reported, with its line, in one pass.
	errs := parseErrors(t, "email,name,team,language\n"+
		"ana@example.com,Ana,Acme,german\n"+
		"ben@example.com,Ben,Acme,it\n"+
		"cara@example.com,Cara,Acme,de\n")
	if len(errs) != 2 {
		t.Fatalf("%d problems, want 2: %v", len(errs), errs)
	}
	for i, w := range []struct {
		line   int
		reason string
	}{{2, "not a language tag"}, {3, "not a language Tandem speaks yet; use one of en, de, fr, es, pt-BR"}} {
		if errs[i].Line != w.line || errs[i].Column != "language" || !strings.Contains(errs[i].Reason, w.reason) {
			t.Errorf("problem %d: %+v, want line %d, column language, saying %q", i, errs[i], w.line, w.reason)
		}
	}
}

func TestLanguageChangesShowInThePlanAndAnAbsentColumnKeepsThem(t *testing.T) {
	units := []tandem.Unit{{ID: 1, Name: "Acme"}}
	existing := []tandem.Employee{{ID: 7, Email: "ana@example.com", Name: "Ana", UnitID: 1, Language: "fr"}}
	f := mustParse(t, "email,name,team,language\nana@example.com,Ana,Acme,de\n")
	plan, err := MakePlan(f, existing, units, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Update) != 1 || len(plan.Update[0].Changes) != 1 {
		t.Fatalf("plan %+v, want one update with one change", plan)
	}
	if c := plan.Update[0].Changes[0]; c.Field != "language" || c.Old != "fr" || c.New != "de" {
		t.Errorf("change %+v, want language fr → de", c)
	}
	f = mustParse(t, "email,name,team\nana@example.com,Ana,Acme\n")
	if plan, err := MakePlan(f, existing, units, Options{}); err != nil || len(plan.Update) != 0 {
		t.Errorf("a file without the column: updates %+v, %v; want none", plan.Update, err)
	}
}

func TestExportWritesTheLanguageColumnOnlyWhenSomeoneHasOne(t *testing.T) {
	emps := []tandem.Employee{{ID: 1, Email: "ana@example.com", Name: "Ana", UnitPath: "Acme"}}
	var b strings.Builder
	if err := WriteCSV(&b, emps, nil); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "language") {
		t.Errorf("export without languages has the column:\n%s", b.String())
	}
	emps[0].Language = "pt-BR"
	b.Reset()
	if err := WriteCSV(&b, emps, nil); err != nil {
		t.Fatal(err)
	}
	f := mustParse(t, b.String())
	if len(f.Records) != 1 || f.Records[0].Language != "pt-BR" {
		t.Errorf("export read back: %+v\n%s", f.Records, b.String())
	}
}
