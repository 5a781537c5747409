package web

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every route is registered in routes.go, so that one file answers "what
// does this server serve, and to whom".
func TestEveryRouteIsInTheRouteTable(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	register := regexp.MustCompile(`\.(GET|POST|PUT|PATCH|DELETE|Any|Add|Group)\(\s*"/`)
	for _, f := range files {
		if f == "routes.go" || strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if register.MatchString(line) {
				t.Errorf("%s:%d registers a route outside routes.go: %s", f, i+1, strings.TrimSpace(line))
			}
		}
	}
}
