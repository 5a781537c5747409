package web

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"
)

// Every field the correlation report's JSON carries is described in
// /api/openapi.json, down to the fields of its nested objects and of the
// items of its arrays, and the document describes no field the report
// lacks.
func TestOpenAPIDescribesEveryFieldOfTheCorrelationReport(t *testing.T) {
	t.Parallel()
	app := newCorrelationApp(t)
	c := app.client()
	c.login("admin@example.com")
	r := c.get("/api/openapi.json")
	if r.status != http.StatusOK {
		t.Fatalf("GET /api/openapi.json: %d", r.status)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.body), &doc); err != nil {
		t.Fatal(err)
	}
	js := c.get("/api/v1/reports/correlation")
	if js.status != http.StatusOK {
		t.Fatalf("report: %d %s", js.status, js.body)
	}
	var got any
	if err := json.Unmarshal([]byte(js.body), &got); err != nil {
		t.Fatal(err)
	}
	path := []string{"paths", "/api/v1/reports/correlation", "get", "responses", "200", "content", "application/json", "schema"}
	var schema any = doc
	for _, k := range path {
		m, _ := schema.(map[string]any)
		schema = m[k]
	}
	if schema == nil {
		t.Fatal("the document has no schema for the report")
	}
	resolve := func(s any) map[string]any {
		m, _ := s.(map[string]any)
		for m != nil && m["$ref"] != nil {
			name := strings.TrimPrefix(m["$ref"].(string), "#/components/schemas/")
			m, _ = doc["components"].(map[string]any)["schemas"].(map[string]any)[name].(map[string]any)
		}
		return m
	}
	var walk func(where string, value any, s any)
	walk = func(where string, value any, s any) {
		sm := resolve(s)
		if sm == nil {
			t.Errorf("%s: no schema", where)
			return
		}
		switch v := value.(type) {
		case map[string]any:
			props, _ := sm["properties"].(map[string]any)
			if props == nil {
				return // a free-form object (params)
			}
			var keys []string
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				ps, ok := props[k]
				if !ok {
					t.Errorf("%s.%s is in the report but not in the document", where, k)
					continue
				}
				walk(where+"."+k, v[k], ps)
			}
			for k := range props {
				if _, ok := v[k]; !ok {
					t.Errorf("%s.%s is in the document but not in the report", where, k)
				}
			}
		case []any:
			if len(v) > 0 {
				walk(where+"[0]", v[0], sm["items"])
			}
		}
	}
	walk("report", got, schema)
	for _, k := range []string{"within", "lag_scan", "power", "agreement", "headline"} {
		if !strings.Contains(js.body, `"`+k+`"`) {
			t.Errorf("the report lacks %q", k)
		}
	}
}
