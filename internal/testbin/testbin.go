// Package testbin builds the tandem binary for the tests and benchmarks
// that run it as a real process (crash safety, replicas, load programs).
package testbin

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
