package store

import (
	"context"
	"strings"
	"testing"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/tandem"
)

func TestQuestionTranslationsAreStoredAndReplacedWhole(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		q := &pulse.Question{Text: "Where do you mostly work?", Kind: pulse.Choice, Choices: []string{"Office", "Home"},
			Translations: map[string]pulse.Translation{"de": {Text: "Wo arbeiten Sie meistens?", Choices: []string{"Im Büro", "Zu Hause"}}, "pt-BR": {Text: "Onde você trabalha?"}}}
		if err := st.CreateQuestion(ctx, q); err != nil {
			t.Fatal(err)
		}
		find := func() pulse.Question {
			t.Helper()
			qs, err := st.Questions(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range qs {
				if x.ID == q.ID {
					return x
				}
			}
			t.Fatalf("question %d is gone", q.ID)
			return pulse.Question{}
		}
		got := find()
		if len(got.Translations) != 2 || strings.Join(got.Translations["de"].Choices, "|") != "Im Büro|Zu Hause" ||
			got.Translations["pt-BR"].Text != "Onde você trabalha?" || got.Translations["pt-BR"].Choices != nil {
			t.Fatalf("stored translations %+v", got.Translations)
		}

		// A bad set changes nothing; a good one replaces the whole set.
		err := st.SetQuestionTranslations(ctx, q.ID, map[string]pulse.Translation{"fr": {Text: "Où ?", Choices: []string{"Bureau"}}})
		if tandem.ErrorCode(err) != tandem.EINVALID {
			t.Errorf("one option of two: %v, want EINVALID", err)
		}
		if len(find().Translations) != 2 {
			t.Errorf("a refused set changed the translations")
		}
		if err := st.SetQuestionTranslations(ctx, q.ID, map[string]pulse.Translation{"fr": {Text: "Où travaillez-vous ?"}}); err != nil {
			t.Fatal(err)
		}
		if got := find().Translations; len(got) != 1 || got["fr"].Text != "Où travaillez-vous ?" {
			t.Errorf("after replacing: %+v, want French only", got)
		}
		if err := st.SetQuestionTranslations(ctx, q.ID, nil); err != nil || find().Translations != nil {
			t.Errorf("removing all: %v, %+v", err, find().Translations)
		}

		qs, _ := st.Questions(ctx)
		if err := st.SetQuestionTranslations(ctx, qs[0].ID, map[string]pulse.Translation{"de": {Text: "x"}}); !qs[0].Builtin || tandem.ErrorCode(err) != tandem.EINVALID {
			t.Errorf("a built-in question took a translation: %v", err)
		}
		if err := st.SetQuestionTranslations(ctx, 987654, nil); tandem.ErrorCode(err) != tandem.ENOTFOUND {
			t.Errorf("unknown question: %v, want ENOTFOUND", err)
		}
	})
}
