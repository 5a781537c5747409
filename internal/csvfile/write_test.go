package csvfile

import (
	"bytes"
	"encoding/csv"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestNeutralizeQuotesCellsASpreadsheetWouldRunAndKeepsNumbers(t *testing.T) {
	// OWASP, CSV Injection: cells starting with =, +, -, @, tab or
	// carriage return are formulas in Excel and LibreOffice.
	for _, tt := range []struct{ in, want string }{
		{"=SUM(A1:A9)", "'=SUM(A1:A9)"},
		{"+1 555 0100", "'+1 555 0100"},
		{"-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"},
		{"@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"},
		{"\t=1+1", "'\t=1+1"},
		{"\r=1+1", "'\r=1+1"},
		{" =1+1", "' =1+1"},
		{"'=already quoted", "''=already quoted"},
		{"-Inf", "'-Inf"},
		{"-0x10", "'-0x10"},
		{"-0.35", "-0.35"},
		{"-3", "-3"},
		{"+3", "+3"},
		{"-1e-5", "-1e-5"},
		{".5", ".5"},
		{"42", "42"},
		{"-", "-"},
		{"", ""},
		{"O'Brien", "O'Brien"},
		{"'plain", "'plain"},
		{"Acme / Sales", "Acme / Sales"},
		{"a=b", "a=b"},
	} {
		if got := Neutralize(tt.in); got != tt.want {
			t.Errorf("Neutralize(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := Restore(Neutralize(tt.in)); got != tt.in {
			t.Errorf("Restore(Neutralize(%q)) = %q, want the value back", tt.in, got)
		}
	}
}

func TestWriterWritesEveryCellNeutralisedAndReadsBackWithRestore(t *testing.T) {
	rows := [][]string{
		{"team", "r", "lag"},
		{"=HYPERLINK(\"http://evil.example\",\"x\")", "-0.35", "-3"},
		{"@cmd", "+0.5", "0"},
		{"Sales, \"EMEA\"", "", "-"},
	}
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	got, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"team", "r", "lag"},
		{"'=HYPERLINK(\"http://evil.example\",\"x\")", "-0.35", "-3"},
		{"'@cmd", "+0.5", "0"},
		{"Sales, \"EMEA\"", "", "-"},
	}
	for i := range want {
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Errorf("row %d cell %d: written %q, want %q", i, j, got[i][j], want[i][j])
			}
			if back := Restore(got[i][j]); back != rows[i][j] {
				t.Errorf("row %d cell %d: read back %q, want %q", i, j, back, rows[i][j])
			}
		}
	}
}

// TestEveryCSVTandemWritesGoesThroughTheWriter reads the source of every
// package Tandem ships: a csv.Writer made anywhere but here would write
// cells a spreadsheet runs. (The load programs under bench/ write test
// data for Tandem to read, not files for people, and are not checked.)
func TestEveryCSVTandemWritesGoesThroughTheWriter(t *testing.T) {
	root := filepath.Join("..", "..")
	newWriter := regexp.MustCompile(`csv\.NewWriter\(`)
	checked := 0
	for _, dir := range []string{"internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			// csvfile is the writer itself; tandemtest writes test inputs
			// exactly as given, not files Tandem hands to people.
			if base := filepath.Base(filepath.Dir(path)); base == "csvfile" || base == "tandemtest" {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			checked++
			if newWriter.Match(b) {
				t.Errorf("%s makes its own csv.Writer; write CSV with csvfile.NewWriter so formula cells are neutralised", path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if checked < 50 {
		t.Fatalf("checked %d source files; the walk did not find the repository", checked)
	}
}
