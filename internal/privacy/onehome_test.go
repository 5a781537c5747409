package privacy_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The threshold in force has one home, privacy.Threshold (see the package
// doc). These patterns outside this package would be a second copy of it:
// comparing a configured k directly, starting from a literal k, or
// flooring a too-low k with a policy of its own. Each was found once (the
// digest promised "at least 5" from a literal while naming groups of 3; the
// within-team agreement floored k at 1 instead of correcting it).
var secondCopies = []struct {
	what string
	re   *regexp.Regexp
}{
	{"a configured k compared as it is (privacy.Threshold(k) is the k in force)", regexp.MustCompile(`(?i)\bmin_?group\s*(<|>|<=|>=)|(<|>|<=|>=)\s*[\w.]*\bmin_?group\b`)},
	{"a too-low k floored by hand (privacy.Threshold corrects it)", regexp.MustCompile(`(?i)max\([^()]*min_?group[^()]*\)|max\(\s*k\s*,|max\([^()]*,\s*k\s*\)`)},
	{"a literal threshold (privacy.DefaultK / privacy.Threshold)", regexp.MustCompile(`\bK:\s*[0-9]+\b|(?i)\bmin_?(k|group)\s*:?=\s*[0-9]+\b`)},
}

func TestTheThresholdHasNoSecondCopyOutsidePrivacy(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", root, err)
	}
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") || rel == filepath.Join("internal", "privacy") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		checked++
		for _, c := range secondCopies {
			for _, loc := range c.re.FindAllIndex(b, -1) {
				line := strings.Count(string(b[:loc[0]]), "\n") + 1
				if start := strings.LastIndexByte(string(b[:loc[0]]), '\n') + 1; strings.HasPrefix(strings.TrimSpace(string(b[start:loc[0]])), "//") {
					continue // a comment may say what k is
				}
				t.Errorf("%s:%d: %q: %s", rel, line, b[loc[0]:loc[1]], c.what)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("checked %d Go files, want the whole module", checked)
	}
}
