package privacy_test

import (
	"regexp"
	"testing"

	"github.com/tandem-hq/tandem/internal/sourcescan"
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
	for _, f := range sourcescan.GoFiles(t, "internal/privacy") {
		for _, c := range secondCopies {
			for _, loc := range c.re.FindAllIndex(f.Text, -1) {
				if f.InComment(loc[0]) {
					continue // a comment may say what k is
				}
				t.Errorf("%s:%d: %q: %s", f.Rel, f.Line(loc[0]), f.Text[loc[0]:loc[1]], c.what)
			}
		}
	}
}
