// Package testbin builds the tandem binary for the tests and benchmarks
// that run it as a real process (crash safety, replicas, load programs).
package testbin

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/tandem-hq/tandem/internal/pulse"
)

// ModuleRoot returns the folder holding go.mod, walking up from the
// working directory (a test runs in its package's folder).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory: run this from inside the tandem repository")
		}
		dir = parent
	}
}

// Build compiles ./cmd/tandem into dir and returns the binary's path.
func Build(dir string) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "tandem")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/tandem")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/tandem: %v\n%s", err, out)
	}
	return bin, nil
}

// BuildCached is Build into a folder of the user's cache named for the
// caller (one per package, so that packages tested side by side never
// write the same file), and returns the binary's path. go build relinks
// only when a source, flag or the toolchain has changed since the binary
// there was made, so a test run after the first pays about 0.3 s of CPU
// for the binary instead of 3.5 s. Without a cache folder (no $HOME), it
// builds into a new temporary folder.
func BuildCached(name string) (string, error) {
	dir, err := os.UserCacheDir()
	if err == nil {
		dir = filepath.Join(dir, "tandem-test", name)
		err = os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		if dir, err = os.MkdirTemp("", "tandem-"+name+"-"); err != nil {
			return "", err
		}
	}
	return Build(dir)
}

// AnswerForm is a complete, valid answer to questions qs as the answer
// page posts it: "Agree" (4) to agreement items, 8 to 0–10 items, the
// first option of a choice, a short text, and a comment.
func AnswerForm(qs []pulse.Question) string {
	v := url.Values{}
	for _, q := range qs {
		name := "q" + strconv.FormatInt(q.ID, 10)
		switch q.Kind {
		case pulse.Likert5:
			v.Set(name, "4")
		case pulse.Scale010:
			v.Set(name, "8")
		case pulse.Choice:
			v.Set(name, "0")
		case pulse.Text:
			v.Set(name, "Fine.")
		}
	}
	v.Set("comment", "Good week overall.")
	return v.Encode()
}
