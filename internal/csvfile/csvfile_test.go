package csvfile

import "testing"

func TestDelimiterIsTheHeadersMostUsedSeparatorOutsideQuotes(t *testing.T) {
	for in, want := range map[string]rune{
		"a,b,c\n1;2;3;4\n":         ',',
		"a;b;c\n":                  ';',
		"a\tb\tc\n":                '\t',
		"\"x;y;z\",b\n":            ',',
		"\r\n\na;b\n":              ';',
		"single\n":                 ',',
		"":                         ',',
		"\"unterminated;quote;x,y": ',',
	} {
		if got := Delimiter([]byte(in)); got != want {
			t.Errorf("Delimiter(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHeaderKeyIgnoresCaseSpacesUnderscoresAndWordJoins(t *testing.T) {
	for _, group := range [][]string{
		{"EmployeeNumber", "Employee Number", "employee_number", "EMPLOYEE-NUMBER", "employee.number", " employeeNumber ", "\uFEFFEmployee  Number"},
		{"WorkEmail", "Work Email", "work_email", "Work E-mail", "workemail"},
		{"Employee #", "employee#", "EMPLOYEE_#"},
	} {
		want := HeaderKey(group[0])
		for _, h := range group[1:] {
			if got := HeaderKey(h); got != want {
				t.Errorf("HeaderKey(%q) = %q, want %q, the key of %q", h, got, want, group[0])
			}
		}
	}
	for _, pair := range [][2]string{{"Employee #", "Employee"}, {"Manager", "Manager ID"}, {"email", "e"}} {
		if HeaderKey(pair[0]) == HeaderKey(pair[1]) {
			t.Errorf("HeaderKey(%q) = HeaderKey(%q) = %q, want different keys", pair[0], pair[1], HeaderKey(pair[0]))
		}
	}
}
