package tandem

import (
	"strings"
	"testing"
)

func TestCheckLengthCountsCharactersAndNeverQuotesTheValue(t *testing.T) {
	for _, tt := range []struct {
		value string
		max   int
		want  string
	}{
		{strings.Repeat("é", 200), 200, ""},
		{strings.Repeat("a", 201), 200, "name: is 201 characters long; shorten it to at most 200"},
		{strings.Repeat("x", 15_000_000), 200, "name: is 15,000,000 characters long; shorten it to at most 200"},
		{"", 200, ""},
	} {
		err := CheckLength("name", tt.value, tt.max)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("CheckLength(%d runes, %d) = %q, want %q", len([]rune(tt.value)), tt.max, got, tt.want)
		}
	}
}

func TestShortenCutsWholeCharacters(t *testing.T) {
	for in, want := range map[string]string{"Émile": "Émi…", "abc": "abc", "abcd": "abc…", "日本語": "日本語"} {
		if got := Shorten(in, 3); got != want {
			t.Errorf("Shorten(%q, 3) = %q, want %q", in, got, want)
		}
	}
}

func TestSplitUnitPathRefusesTooLongNamesAndTooManyLevels(t *testing.T) {
	deep := strings.TrimSuffix(strings.Repeat("L/", MaxUnitDepth+1), "/")
	for in, want := range map[string]string{
		"Acme/" + strings.Repeat("é", MaxNameLength):   "",
		"Acme/" + strings.Repeat("é", MaxNameLength+1): "longer than 200 characters",
		deep: "21 levels",
		strings.TrimSuffix(strings.Repeat("L/", MaxUnitDepth), "/"): "",
	} {
		_, err := SplitUnitPath(in)
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("SplitUnitPath(%.30q…) = %v, want %q", in, err, want)
		}
		if err != nil && len(err.Error()) > 300 {
			t.Errorf("the error quotes %d bytes; keep it short", len(err.Error()))
		}
	}
}

func TestEmployeesAndAccountsRefuseOverlongFields(t *testing.T) {
	long := strings.Repeat("a", 1_000_000)
	ok := Employee{Name: "Ana", Email: "ana@example.com", UnitID: 1}
	for field, change := range map[string]func(*Employee){
		"name":        func(e *Employee) { e.Name = long },
		"email":       func(e *Employee) { e.Email = long + "@example.com" },
		"employee_id": func(e *Employee) { e.ExternalID = long },
		"location":    func(e *Employee) { e.Location = long },
		"exit_reason": func(e *Employee) { e.ExitReason = long },
	} {
		e := ok
		change(&e)
		err := e.Validate()
		var te *Error
		if err == nil || !asError(err, &te) || te.Field != field || len(te.Message) > 200 {
			t.Errorf("an employee with a long %s: %v, want a short error on %s", field, err, field)
		}
	}
	u := User{Email: "ana@example.com", Role: RoleHR, Name: long}
	if err := u.Validate(); err == nil || !strings.HasPrefix(err.Error(), "name:") {
		t.Errorf("an account with a long name: %v, want a name error", err)
	}
}

func asError(err error, te **Error) bool {
	e, ok := err.(*Error)
	*te = e
	return ok
}
