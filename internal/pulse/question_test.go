package pulse_test

import (
	"math"
	"strings"
	"testing"

	"github.com/tandem-hq/tandem/internal/pulse"
)

func TestParseAnswerChecksEachKindsRange(t *testing.T) {
	likert := &pulse.Question{ID: 1, Kind: pulse.Likert5}
	scale := &pulse.Question{ID: 2, Kind: pulse.Scale010}
	choice := &pulse.Question{ID: 3, Kind: pulse.Choice, Choices: []string{"Office", "Home", "Both"}}
	text := &pulse.Question{ID: 4, Kind: pulse.Text}
	tests := []struct {
		name    string
		q       *pulse.Question
		raw     string
		wantOK  bool
		wantErr bool
		want    pulse.Answer
	}{
		{"likert 0 is below the scale", likert, "0", false, true, pulse.Answer{}},
		{"likert 6 is above the scale", likert, "6", false, true, pulse.Answer{}},
		{"likert 1", likert, "1", true, false, pulse.Answer{QuestionID: 1, Value: 1, HasValue: true}},
		{"likert 3", likert, "3", true, false, pulse.Answer{QuestionID: 1, Value: 3, HasValue: true}},
		{"likert 3 with spaces", likert, " 3 ", true, false, pulse.Answer{QuestionID: 1, Value: 3, HasValue: true}},
		{"likert 5", likert, "5", true, false, pulse.Answer{QuestionID: 1, Value: 5, HasValue: true}},
		{"likert 3.5 is not a whole number", likert, "3.5", false, true, pulse.Answer{}},
		{"likert word", likert, "agree", false, true, pulse.Answer{}},
		{"likert empty is required", likert, "", false, true, pulse.Answer{}},
		{"scale 0", scale, "0", true, false, pulse.Answer{QuestionID: 2, Value: 0, HasValue: true}},
		{"scale 10", scale, "10", true, false, pulse.Answer{QuestionID: 2, Value: 10, HasValue: true}},
		{"scale 11", scale, "11", false, true, pulse.Answer{}},
		{"scale -1", scale, "-1", false, true, pulse.Answer{}},
		{"scale empty is required", scale, "  ", false, true, pulse.Answer{}},
		{"choice first option", choice, "0", true, false, pulse.Answer{QuestionID: 3, Value: 0, HasValue: true}},
		{"choice last option", choice, "2", true, false, pulse.Answer{QuestionID: 3, Value: 2, HasValue: true}},
		{"choice past the options", choice, "3", false, true, pulse.Answer{}},
		{"choice negative", choice, "-1", false, true, pulse.Answer{}},
		{"choice by label", choice, "Home", false, true, pulse.Answer{}},
		{"choice empty is required", choice, "", false, true, pulse.Answer{}},
		{"text", text, "More pairing, please.", true, false, pulse.Answer{QuestionID: 4, Text: "More pairing, please."}},
		{"text at the limit", text, strings.Repeat("é", pulse.MaxTextLength), true, false,
			pulse.Answer{QuestionID: 4, Text: strings.Repeat("é", pulse.MaxTextLength)}},
		{"text over the limit", text, strings.Repeat("a", pulse.MaxTextLength+1), false, true, pulse.Answer{}},
		{"empty text is fine", text, "", false, false, pulse.Answer{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := pulse.ParseAnswer(tt.q, tt.raw)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseAnswer(%q) error = %v, want error %v", tt.raw, err, tt.wantErr)
			}
			if err != nil && strings.TrimSpace(err.Error()) == "" {
				t.Errorf("ParseAnswer(%q) gave an empty error message", tt.raw)
			}
			if ok != tt.wantOK {
				t.Errorf("ParseAnswer(%q) ok = %v, want %v", tt.raw, ok, tt.wantOK)
			}
			if tt.wantOK && got != tt.want {
				t.Errorf("ParseAnswer(%q) = %+v, want %+v", tt.raw, got, tt.want)
			}
		})
	}
}

func TestOnlyFreeTextIsOptional(t *testing.T) {
	for _, k := range []pulse.Kind{pulse.Likert5, pulse.Scale010, pulse.Choice} {
		if !(&pulse.Question{Kind: k}).Required() {
			t.Errorf("%s not required, want required", k)
		}
	}
	if (&pulse.Question{Kind: pulse.Text}).Required() {
		t.Error("text required, want optional")
	}
}

func TestNPSFromHandWorkedCounts(t *testing.T) {
	tests := []struct {
		name               string
		promoters, detr, n int
		want               float64
	}{
		// 10 answers: 9,9,10,10,10,10 (6 promoters), 7,8 (passive), 3,6 (2 detractors): 60% − 20% = 40.
		{"six promoters two detractors of ten", 6, 2, 10, 40},
		// 4 answers, all 0–6: −100.
		{"all detractors", 0, 4, 4, -100},
		{"all promoters", 5, 0, 5, 100},
		// 8 answers: 3 promoters, 3 detractors, 2 passives: 0.
		{"balanced", 3, 3, 8, 0},
		// 3 answers: one promoter, two passives: 33.33…
		{"one promoter of three", 1, 0, 3, 100.0 / 3},
	}
	for _, tt := range tests {
		if got := pulse.NPS(tt.promoters, tt.detr, tt.n); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s: NPS(%d, %d, %d) = %v, want %v", tt.name, tt.promoters, tt.detr, tt.n, got, tt.want)
		}
	}
	if got := pulse.NPS(0, 0, 0); !math.IsNaN(got) {
		t.Errorf("NPS of no answers = %v, want NaN", got)
	}
}

func TestPromotersAreNineAndTenDetractorsZeroToSix(t *testing.T) {
	for v := 0; v <= 10; v++ {
		wantP, wantD := v >= 9, v <= 6
		if got := pulse.Promoter(float64(v)); got != wantP {
			t.Errorf("Promoter(%d) = %v, want %v", v, got, wantP)
		}
		if got := pulse.Detractor(float64(v)); got != wantD {
			t.Errorf("Detractor(%d) = %v, want %v", v, got, wantD)
		}
	}
}

func TestScore0to100MapsAgreementLinearly(t *testing.T) {
	tests := []struct{ likert, want float64 }{
		{1, 0}, {2, 25}, {3, 50}, {4, 75}, {5, 100},
		// Mean of 4, 4, 5, 4, 4 = 4.2 → (4.2−1)/4·100 = 80.
		{4.2, 80},
		// Mean of 1, 2 = 1.5 → 12.5.
		{1.5, 12.5},
	}
	for _, tt := range tests {
		if got := pulse.Score0to100(tt.likert); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("Score0to100(%v) = %v, want %v", tt.likert, got, tt.want)
		}
	}
}

func TestQuestionValidateChecksKindChoicesAndDriver(t *testing.T) {
	tests := []struct {
		name  string
		q     pulse.Question
		field string
	}{
		{"fine likert", pulse.Question{Text: "I can focus.", Kind: pulse.Likert5, Driver: "workload"}, ""},
		{"blank text", pulse.Question{Text: "  ", Kind: pulse.Likert5}, "text"},
		{"long text", pulse.Question{Text: strings.Repeat("a", 501), Kind: pulse.Likert5}, "text"},
		{"unknown kind", pulse.Question{Text: "Q", Kind: "stars"}, "kind"},
		{"one choice", pulse.Question{Text: "Q", Kind: pulse.Choice, Choices: []string{"Yes", " "}}, "choices"},
		{"duplicate choice", pulse.Question{Text: "Q", Kind: pulse.Choice, Choices: []string{"Yes", "yes"}}, "choices"},
		{"unknown driver", pulse.Question{Text: "Q", Kind: pulse.Likert5, Driver: "snacks"}, "driver"},
		{"index needs likert", pulse.Question{Text: "Q", Kind: pulse.Scale010, InIndex: true}, "in_index"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.q.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			fieldError(t, err, tt.field)
		})
	}
}

func TestServiceAnswersNeedAListedProviderAndARatingOrNothing(t *testing.T) {
	q := &pulse.Question{ID: 9, Kind: pulse.Service, Text: "How well does this team support yours?", Providers: []int64{4, 7}}
	if err := q.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		provider, rating string
		ok, wantErr      bool
	}{
		{"", "", false, false},
		{"7", "4", true, false},
		{"5", "4", false, true},
		{"7", "", false, true},
		{"", "3", false, true},
		{"7", "6", false, true},
		{"x", "3", false, true},
	} {
		a, ok, err := pulse.ParseServiceAnswer(q, tc.provider, tc.rating)
		if ok != tc.ok || (err != nil) != tc.wantErr {
			t.Errorf("provider %q rating %q: ok %v err %v", tc.provider, tc.rating, ok, err)
		}
		if ok && (a.ProviderUnitID != 7 || a.Value != 4) {
			t.Errorf("answer %+v", a)
		}
	}
	empty := &pulse.Question{Kind: pulse.Service, Text: "Rate a team"}
	if err := empty.Validate(); err == nil {
		t.Error("a service question without providers was accepted")
	}
}

func TestQuestionTranslationsAreCheckedAndTheirOptionsMatchTheOriginal(t *testing.T) {
	choice := func(tr map[string]pulse.Translation) *pulse.Question {
		return &pulse.Question{Text: "Where do you mostly work?", Kind: pulse.Choice, Choices: []string{"Office", "Home", "Both"}, Translations: tr}
	}
	bad := []struct {
		name string
		q    *pulse.Question
		want string
	}{
		{"unknown language", choice(map[string]pulse.Translation{"it": {Text: "Dove lavori?"}}), `"it" is not a language Tandem speaks`},
		{"too few options", choice(map[string]pulse.Translation{"de": {Text: "Wo?", Choices: []string{"Büro", "Zuhause"}}}), "has 3 options and its Deutsch translation 2"},
		{"options without text", choice(map[string]pulse.Translation{"fr": {Choices: []string{"a", "b", "c"}}}), "the Français options need the question in Français too"},
		{"repeated option", choice(map[string]pulse.Translation{"es": {Text: "¿Dónde?", Choices: []string{"Casa", "casa", "Ambos"}}}), `option "casa" is listed twice`},
		{"too long", &pulse.Question{Text: "Q", Kind: pulse.Likert5, Translations: map[string]pulse.Translation{"pt-BR": {Text: strings.Repeat("x", 501)}}}, "the question in Português (Brasil) is 501 characters long"},
	}
	for _, c := range bad {
		if err := c.q.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
	}

	q := choice(map[string]pulse.Translation{
		"de": {Text: "  Wo arbeiten Sie meistens? ", Choices: []string{" Im Büro", "", "Zu Hause", "Beides "}},
		"fr": {Text: "Où travaillez-vous ?"},
		"es": {Text: "  ", Choices: []string{" "}},
	})
	if err := q.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, ok := q.Translations["es"]; ok || len(q.Translations) != 2 {
		t.Errorf("an empty translation is kept: %+v", q.Translations)
	}
	if got := q.TextIn("de"); got != "Wo arbeiten Sie meistens?" {
		t.Errorf("TextIn(de) = %q", got)
	}
	if got := strings.Join(q.ChoicesIn("de"), "|"); got != "Im Büro|Zu Hause|Beides" {
		t.Errorf("ChoicesIn(de) = %q", got)
	}
	// French has no options of its own: the original's, in their order.
	if got := strings.Join(q.ChoicesIn("fr"), "|"); got != "Office|Home|Both" || q.TextIn("fr") != "Où travaillez-vous ?" {
		t.Errorf("French: %q, %q", q.TextIn("fr"), got)
	}
	if q.TextIn("es") != q.Text || q.TextIn("en") != q.Text {
		t.Errorf("a language without a translation reads %q", q.TextIn("es"))
	}
	// Other kinds have no options to translate.
	l := &pulse.Question{Text: "I like it here.", Kind: pulse.Likert5, Translations: map[string]pulse.Translation{"de": {Text: "Mir gefällt es hier.", Choices: []string{"x"}}}}
	if err := l.Validate(); err != nil || l.Translations["de"].Choices != nil {
		t.Errorf("likert translation: %v, %+v", err, l.Translations)
	}
}
