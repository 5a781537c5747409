// Package csvfile holds what Tandem's CSV files share: which separator a
// file people bring uses (Delimiter), and the one writer of every CSV
// Tandem writes, which keeps spreadsheets from running cells as formulas
// (Writer), with its inverse for the importers (Restore).
package csvfile

// Delimiter returns the separator the header line uses most: comma,
// semicolon (Excel in many European locales) or tab. Separators inside
// quotes do not count; leading blank lines are skipped, as csv.Reader
// skips them.
func Delimiter(data []byte) rune {
	for len(data) > 0 && (data[0] == '\n' || data[0] == '\r') {
		data = data[1:]
	}
	count := map[byte]int{}
	inQuotes := false
scan:
	for _, c := range data {
		switch {
		case c == '"':
			inQuotes = !inQuotes
		case inQuotes:
		case c == '\n':
			break scan
		case c == ',' || c == ';' || c == '\t':
			count[c]++
		}
	}
	best := byte(',')
	for _, c := range []byte{';', '\t'} {
		if count[c] > count[best] {
			best = c
		}
	}
	return rune(best)
}
