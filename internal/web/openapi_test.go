package web

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// Every route under /api/v1 that the server registers is described in
// /api/openapi.json, with the same method, and the document describes no
// route the server lacks.
func TestOpenAPIDescribesEveryAPIRoute(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	r := app.client().get("/api/openapi.json")
	if r.status != http.StatusOK {
		t.Fatalf("GET /api/openapi.json: %d", r.status)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal([]byte(r.body), &doc); err != nil {
		t.Fatalf("the document is not JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi version %q", doc.OpenAPI)
	}
	param := regexp.MustCompile(`:([A-Za-z_]+)`)
	registered := map[string]bool{}
	for _, rt := range app.srv.Echo().Routes() {
		if !strings.HasPrefix(rt.Path, "/api/v1/") {
			continue
		}
		path := param.ReplaceAllString(rt.Path, "{$1}")
		method := strings.ToLower(rt.Method)
		registered[method+" "+path] = true
		if _, ok := doc.Paths[path][method]; !ok {
			t.Errorf("%s %s is registered but not in the OpenAPI document", rt.Method, path)
		}
	}
	if len(registered) < 4 {
		t.Errorf("only %d API routes registered: %v", len(registered), registered)
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			if !registered[method+" "+path] {
				t.Errorf("the document describes %s %s, which the server does not have", strings.ToUpper(method), path)
			}
		}
	}
}
