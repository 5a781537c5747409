package pulse

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// The fuzz targets feed the program form's cron and time-zone fields, and
// the answer form's values, whatever a person or a script may type. Seeds
// are in testdata/fuzz/<target>/; run one with
//
//	go test ./internal/pulse -run '^$' -fuzz '^FuzzCronCadence$' -fuzztime 20s

// FuzzCronCadence: an admin's cron expression and a zone, as the form
// sends them, never make ParseCadence or Schedule panic; they are refused
// with a field error on "cron" or "timezone" that says what to write, or
// accepted as a five-field expression without seconds or shorthand whose
// slots, from a fixed date, keep moving forward.
func FuzzCronCadence(f *testing.F) {
	f.Add("0 9 * * 1", "Europe/Berlin")
	f.Add("0 9 1-7,15-21 * 1", "Europe/Berlin")
	f.Add("0 30 9 * * MON-FRI", "America/New_York")
	f.Add("@weekly", "UTC")
	f.Add("0 9 31 2 *", "Asia/Kolkata")
	from := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, expr, zone string) {
		c, err := ParseCadence(CadenceInput{Repeat: "cron", Cron: expr, Zone: zone})
		var s *Schedule
		if err == nil {
			s, err = c.Schedule()
		}
		if err != nil {
			for _, e := range unjoin(err) {
				var te *tandem.Error
				if !errors.As(e, &te) || te.Code != tandem.EINVALID || (te.Field != FieldCron && te.Field != FieldZone) {
					t.Fatalf("cron %q zone %q: %T %v, want field errors on cron or timezone", expr, zone, e, e)
				}
				if strings.TrimSpace(te.Message) == "" {
					t.Fatalf("cron %q zone %q: an error without a message", expr, zone)
				}
			}
			return
		}
		if n := len(strings.Fields(c.Expr)); n != 5 || strings.HasPrefix(c.Expr, "@") {
			t.Fatalf("cron %q accepted as %q: want five fields and no shorthand", expr, c.Expr)
		}
		prev := from
		for _, u := range s.Upcoming(from, 3) {
			if !u.After(prev) {
				t.Fatalf("cron %q zone %q: upcoming slot %v is not after %v", expr, zone, u, prev)
			}
			prev = u
		}
		if c.Describe() == "" {
			t.Fatalf("cron %q zone %q: no words", expr, zone)
		}
	})
}

// fuzzProviders are the provider units of the fuzzed Service question.
var fuzzProviders = []int64{3, 5, 8}

// FuzzParseAnswer: ParseAnswer and ParseServiceAnswer never panic; a
// refused value comes with a message; an accepted one is in range for its
// kind (a whole 1–5 or 0–10, an option's index, a provider of the
// question) or is text that fits and that every engine can store; an
// empty value is accepted as no answer only when the question is optional.
func FuzzParseAnswer(f *testing.F) {
	f.Add("likert5", "4", "", uint8(0))
	f.Add("scale0_10", "10", "", uint8(0))
	f.Add("choice", "2", "", uint8(3))
	f.Add("text", "Fine, thanks.", "", uint8(0))
	f.Add("service", "5", "3", uint8(0))
	f.Fuzz(func(t *testing.T, kind, raw, provider string, nChoices uint8) {
		q := &Question{ID: 7, Kind: Kind(kind), Providers: fuzzProviders}
		for i := 0; i < int(nChoices%13); i++ {
			q.Choices = append(q.Choices, "option "+string(rune('A'+i)))
		}
		var a Answer
		var ok bool
		var err error
		if q.Kind == Service {
			a, ok, err = ParseServiceAnswer(q, provider, raw)
		} else {
			a, ok, err = ParseAnswer(q, raw)
		}
		switch {
		case err != nil:
			if ok || err.Error() == "" {
				t.Fatalf("%s %q: ok %v with error %q", kind, raw, ok, err)
			}
			return
		case !ok:
			empty := strings.TrimSpace(raw) == ""
			if q.Kind == Service {
				empty = empty && strings.TrimSpace(provider) == ""
			}
			if !empty || q.Required() {
				t.Fatalf("%s %q (provider %q): no answer and no error", kind, raw, provider)
			}
			return
		}
		if a.QuestionID != q.ID {
			t.Fatalf("answer for question %d, want %d", a.QuestionID, q.ID)
		}
		whole := a.HasValue && a.Value == math.Trunc(a.Value)
		switch q.Kind {
		case Likert5:
			if !whole || a.Value < 1 || a.Value > 5 {
				t.Fatalf("likert5 %q accepted as %v", raw, a.Value)
			}
		case Scale010:
			if !whole || a.Value < 0 || a.Value > 10 {
				t.Fatalf("scale0_10 %q accepted as %v", raw, a.Value)
			}
		case Choice:
			if !whole || a.Value < 0 || int(a.Value) >= len(q.Choices) {
				t.Fatalf("choice %q of %d options accepted as %v", raw, len(q.Choices), a.Value)
			}
		case Service:
			known := false
			for _, p := range fuzzProviders {
				known = known || p == a.ProviderUnitID
			}
			if !whole || a.Value < 1 || a.Value > 5 || !known {
				t.Fatalf("service %q for %q accepted as %v for unit %d", raw, provider, a.Value, a.ProviderUnitID)
			}
		case Text:
			if a.HasValue || a.Text != strings.TrimSpace(raw) || a.Text == "" || utf8.RuneCountInString(a.Text) > MaxTextLength || !StorableText(a.Text) {
				t.Fatalf("text %q accepted as %+v", raw, a)
			}
		default:
			t.Fatalf("kind %q is not a kind, but %q was accepted", kind, raw)
		}
	})
}
