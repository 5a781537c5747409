package web

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// The retention report keeps the roster in memory between requests; a
// change to the roster must show in the next report all the same.
func TestRetentionReportFollowsRosterChanges(t *testing.T) {
	t.Parallel()
	// The store's clock, which stamps roster changes and says whether the
	// latest is old enough to trust a cache; the test moves it.
	clock := &testClock{t: timeNow()}
	app := newPulseAppOn(t, map[string]int{"Acme/Sales/EMEA": 8}, store.Options{Now: clock.Now})
	c := app.client()
	c.login("hr@example.com")
	exits := func() int {
		r := c.get("/api/v1/reports/retention")
		if r.status != 200 {
			t.Fatalf("retention JSON: %d %s", r.status, r.body)
		}
		var got struct {
			TTM struct {
				Exits int `json:"exits"`
			} `json:"trailing_12_months"`
		}
		if err := json.Unmarshal([]byte(r.body), &got); err != nil {
			t.Fatal(err)
		}
		return got.TTM.Exits
	}
	// Let the roster's latest change age past the window in which a cache
	// is not trusted, then load twice (the second from memory).
	clock.Advance(2100 * time.Millisecond)
	before := exits()
	if again := exits(); again != before {
		t.Fatalf("two loads of an unchanged roster: %d then %d exits", before, again)
	}
	yesterday := tandem.Today(timeNow()).AddDate(0, 0, -1)
	if _, err := app.st.RecordExits(context.Background(), []store.Exit{{EmployeeRef: "E2", ExitedOn: yesterday, Type: tandem.ExitVoluntary}}); err != nil {
		t.Fatal(err)
	}
	if after := exits(); after != before+1 {
		t.Errorf("after recording an exit the report shows %d exits, want %d", after, before+1)
	}
}

// checkSchema reports every key of v that schema (an OpenAPI schema in
// doc) does not describe, every required key v lacks, and every list that
// is null.
func checkSchema(t *testing.T, doc map[string]any, schema map[string]any, v any, at string) {
	t.Helper()
	if ref, ok := schema["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		schema = doc["components"].(map[string]any)["schemas"].(map[string]any)[name].(map[string]any)
	}
	switch schema["type"] {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			t.Errorf("%s: %v, want an object", at, v)
			return
		}
		props, _ := schema["properties"].(map[string]any)
		for k, e := range obj {
			p, ok := props[k].(map[string]any)
			if !ok {
				t.Errorf("%s.%s is not in the OpenAPI schema", at, k)
				continue
			}
			checkSchema(t, doc, p, e, at+"."+k)
		}
		req, _ := schema["required"].([]any)
		for _, k := range req {
			if _, ok := obj[k.(string)]; !ok {
				t.Errorf("%s lacks required %s", at, k)
			}
		}
	case "array":
		list, ok := v.([]any)
		if !ok {
			t.Errorf("%s: %v, want a list", at, v)
			return
		}
		for i, e := range list {
			checkSchema(t, doc, schema["items"].(map[string]any), e, fmt.Sprintf("%s[%d]", at, i))
		}
	}
}

// The retention JSON is what /api/openapi.json says it is: every key
// described, every described key present, lists as lists.
func TestRetentionJSONMatchesTheOpenAPIDocument(t *testing.T) {
	t.Parallel()
	app := newPulseApp(t, map[string]int{"Acme/Sales/EMEA": 8, "Acme/Sales/APAC": 6})
	yesterday := tandem.Today(timeNow()).AddDate(0, 0, -1)
	if _, err := app.st.RecordExits(context.Background(), []store.Exit{{EmployeeRef: "E2", ExitedOn: yesterday, Type: tandem.ExitVoluntary}}); err != nil {
		t.Fatal(err)
	}
	c := app.client()
	c.login("hr@example.com")
	var doc map[string]any
	if err := json.Unmarshal([]byte(c.get("/api/openapi.json").body), &doc); err != nil {
		t.Fatal(err)
	}
	r := c.get("/api/v1/reports/retention")
	if r.status != 200 {
		t.Fatalf("retention JSON: %d %s", r.status, r.body)
	}
	var got any
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatal(err)
	}
	op := doc["paths"].(map[string]any)["/api/v1/reports/retention"].(map[string]any)["get"].(map[string]any)
	schema := op["responses"].(map[string]any)["200"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)
	checkSchema(t, doc, schema, got, "retention")
	if units, _ := got.(map[string]any)["units"].([]any); len(units) == 0 {
		t.Errorf("the report shows no units, so the test checks less than it should: %s", r.body)
	}
}

// The retention page shows an exit with no recorded type apart, as of
// unknown type, and does not count it as involuntary.
func TestRetentionPageShowsExitsOfUnknownTypeApart(t *testing.T) {
	t.Parallel()
	app := newPulseApp(t, map[string]int{"Acme/Sales/EMEA": 8})
	yesterday := tandem.Today(timeNow()).AddDate(0, 0, -1)
	if _, err := app.st.RecordExits(context.Background(), []store.Exit{{EmployeeRef: "E2", ExitedOn: yesterday}}); err != nil {
		t.Fatal(err)
	}
	c := app.client()
	c.login("hr@example.com")
	r := c.get("/reports/retention")
	if r.status != 200 {
		t.Fatalf("retention page: %d", r.status)
	}
	if !strings.Contains(r.body, "0<small>involuntary exits; 1 of unknown type (not recorded)") {
		t.Errorf("the page does not show the exit as of unknown type:\n%s", r.body)
	}
}
