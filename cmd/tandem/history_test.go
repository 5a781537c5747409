package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

func TestImportHistoryListsEveryProblemThenDryRunsThenImports(t *testing.T) {
	ctx := testContext()
	dir := t.TempDir()
	db, _ := newRatingsDB(t, dir, 2, 6)
	st, err := store.Open(ctx, db, store.Options{Now: testClock})
	if err != nil {
		t.Fatal(err)
	}
	tree, _ := st.Tree(ctx)
	p := pulse.Defaults()
	p.Name = "Monthly pulse"
	p.AudienceUnitID = tree.ByPath([]string{"Acme"}).ID
	p.Channel = pulse.ChannelLog
	p.Cadence, _ = pulse.PresetCadence("monthly", "2024-01-01", "UTC")
	if err := st.SaveProgram(ctx, &p); err != nil {
		t.Fatal(err)
	}
	st.Close()

	// `tandem history import` runs at testNow (ctx), so the history is
	// dated from it.
	month := tandem.PeriodStart(tandem.Month, testNow).AddDate(0, -2, 0)
	d := tandem.FormatDate(month.AddDate(0, 0, 3))
	write := func(name, body string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	bad := write("bad.csv", "Team,When,Proud\n"+
		"Acme/Support/Division 0/Team 0,"+d+",4\n"+
		"Acme/Support/Division 9,"+d+",4\n"+
		"Acme/Support/Division 0/Team 0,"+d+",9\n")
	var out bytes.Buffer
	err = run(ctx, []string{"import", "history", "--db", db, "--program", "monthly PULSE", "--map", "eng.proud=Proud", "--map", "date=When", bad}, &out)
	if exitCode(err) != 2 {
		t.Fatalf("a bad file: %v, want exit status 2\n%s", err, out.String())
	}
	for _, want := range []string{"line 3, column Team: no unit has the path", `line 4, column Proud: "9" is not on the question's scale`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}

	var good strings.Builder
	good.WriteString("Team,When,Proud,enps,Comment\n")
	for i := 0; i < 6; i++ {
		fmt.Fprintf(&good, "Acme/Support/Division 0/Team 0,%s,%d,%d,\n", d, 1+i%5, 5+i)
		fmt.Fprintf(&good, "Acme/Support/Division 1/Team 1,%s,%d,,\"ok, fine\"\n", tandem.FormatDate(month.AddDate(0, 1, 0)), 2+i%4)
	}
	file := write("good.csv", good.String())
	args := []string{"import", "history", "--db", db, "--program", "Monthly pulse", "--map", "eng.proud=Proud,When=date", file}
	out.Reset()
	if err := run(ctx, append(args, "--dry-run"), &out); err != nil {
		t.Fatalf("dry run: %v\n%s", err, out.String())
	}
	for _, want := range []string{`date ← "When"`, `eng.proud ← "Proud"`, `enps ← "enps"`, "12 responses, 2 rounds of Monthly pulse, one a month:",
		month.Format("January 2006"), "6 responses, 2 question(s), 2 storage group(s) of 12 people", "6 responses, 1 question(s), 2 storage group(s)", "dry run: nothing changed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := run(ctx, args, &out); err != nil {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "imported "+file+": 12 responses into 2 rounds of Monthly pulse") {
		t.Errorf("import output:\n%s", out.String())
	}
	st, err = store.Open(ctx, db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rs, _ := st.Rounds(ctx, p.ID)
	if len(rs) != 2 || !rs[0].Imported || rs[1].Period != tandem.FormatDate(month) || rs[1].Responded != 6 || rs[1].Invited != 12 {
		t.Errorf("rounds stored: %+v", rs)
	}
}
