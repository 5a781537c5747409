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
