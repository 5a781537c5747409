// Package sourcescan reads the module's own Go source for tests that
// guard a rule's one home: a test names a pattern that would be a second
// copy of the rule and fails where it appears outside the home.
package sourcescan

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// File is one non-test Go file of the module.
type File struct {
	Rel  string // path from the module root
	Text []byte
}

// Line is the 1-based line of byte offset off.
func (f File) Line(off int) int { return strings.Count(string(f.Text[:off]), "\n") + 1 }

// InComment says whether byte offset off lies on a line comment.
func (f File) InComment(off int) bool {
	start := strings.LastIndexByte(string(f.Text[:off]), '\n') + 1
	return strings.HasPrefix(strings.TrimSpace(string(f.Text[start:off])), "//")
}

// GoFiles are the module's Go files other than tests, outside the
// directory home (relative to the module root; "" skips none). A test
// calls it from a package two levels below the root (internal/<pkg>); it
// fails when the walk finds fewer than 50 files, which would mean it did
// not see the whole module.
func GoFiles(t testing.TB, home string) []File {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", root, err)
	}
	var files []File
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") || (home != "" && rel == filepath.FromSlash(home)) {
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
		files = append(files, File{Rel: rel, Text: b})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 50 {
		t.Fatalf("read %d Go files, want the whole module", len(files))
	}
	return files
}
