package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTheREADMELayoutNamesEveryPackage: the README's Layout section names
// each package under internal/ and each program and helper under bench/,
// so that a new package cannot land without a line saying what it holds.
func TestTheREADMELayoutNamesEveryPackage(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i := strings.Index(readme, "\n## Layout\n")
	if i < 0 {
		t.Fatal("README.md has no Layout section")
	}
	layout := readme[i+1:]
	if j := strings.Index(layout[3:], "\n## "); j >= 0 {
		layout = layout[:j+3]
	}
	dirs := func(pattern string) []string {
		m, err := filepath.Glob(filepath.Join("../..", pattern))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range m {
			if fi, err := os.Stat(d); err == nil && fi.IsDir() {
				out = append(out, d)
			}
		}
		return out
	}
	internal := dirs("internal/*")
	if len(internal) < 20 {
		t.Fatalf("found %d packages under internal/, want the module's", len(internal))
	}
	for _, d := range internal {
		if name := "`internal/" + filepath.Base(d) + "`"; !strings.Contains(layout, name) {
			t.Errorf("the README's Layout does not name %s", name)
		}
	}
	for _, d := range append(dirs("bench/*"), dirs("bench/internal/*")...) {
		if filepath.Base(d) == "internal" {
			continue
		}
		if name := "`" + filepath.Base(d) + "`"; !strings.Contains(layout, name) {
			t.Errorf("the README's Layout does not name the bench program or helper %s", name)
		}
	}
}
