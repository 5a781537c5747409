package pulse_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/store"
)

// builtinBank is the question bank a fresh database holds (migration
// 0002_pulse.sql), read through a real SQLite store.
func builtinBank(t *testing.T) []pulse.Question {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "tandem.db"), store.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	defer st.Close()
	qs, err := st.Questions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var bank []pulse.Question
	for _, q := range qs {
		if q.Builtin && !q.Retired {
			bank = append(bank, q)
		}
	}
	if len(bank) != 26 {
		t.Fatalf("built-in bank has %d questions, want the 26 of the migration", len(bank))
	}
	return bank
}

func rotationProgram(perRound, cycle, coreEvery int) *pulse.Program {
	p := validProgram()
	p.QuestionsPerRound, p.DriverCycle, p.CoreEvery = perRound, cycle, coreEvery
	return &p
}

// itemsByDriver counts the bank's items per driver (drivers only).
func itemsByDriver(bank []pulse.Question) map[string]int {
	m := map[string]int{}
	for _, q := range bank {
		if pulse.IsDriver(q.Driver) {
			m[q.Driver]++
		}
	}
	return m
}

type roundShape struct {
	index, enps int
	drivers     map[string][]string // driver → item keys asked
	total       int
}

func shape(t *testing.T, qs []pulse.Question) roundShape {
	t.Helper()
	s := roundShape{drivers: map[string][]string{}, total: len(qs)}
	seen := map[int64]bool{}
	for _, q := range qs {
		if seen[q.ID] {
			t.Errorf("question %s asked twice in one round", q.Key)
		}
		seen[q.ID] = true
		switch {
		case q.InIndex:
			s.index++
		case q.Driver == pulse.DriverENPS:
			s.enps++
		case pulse.IsDriver(q.Driver):
			s.drivers[q.Driver] = append(s.drivers[q.Driver], q.Key)
		default:
			t.Errorf("question %s (driver %q) is neither core nor a driver item", q.Key, q.Driver)
		}
	}
	return s
}

func TestBuiltinBankHasThreeIndexItemsENPSAndNineDrivers(t *testing.T) {
	bank := builtinBank(t)
	var index, enps int
	for _, q := range bank {
		if q.InIndex {
			index++
		}
		if q.Driver == pulse.DriverENPS {
			enps++
			if q.Kind != pulse.Scale010 {
				t.Errorf("eNPS question kind %s, want %s", q.Kind, pulse.Scale010)
			}
		}
	}
	byDriver := itemsByDriver(bank)
	if index != 3 || enps != 1 || len(byDriver) != len(pulse.Drivers) || len(pulse.Drivers) != 9 {
		t.Fatalf("bank: %d index items, %d eNPS, %d drivers with items (of %d), want 3, 1, 9 (of 9)", index, enps, len(byDriver), len(pulse.Drivers))
	}
}

func TestEveryRoundAsksTheIndexAndENPSAndEveryDriverWithinTheCycle(t *testing.T) {
	bank := builtinBank(t)
	p := rotationProgram(7, 3, 1)
	if err := p.CheckPool(bank); err != nil {
		t.Fatalf("CheckPool: %v", err)
	}
	const rounds = 30
	shapes := make([]roundShape, rounds+1) // 1-based
	for seq := 1; seq <= rounds; seq++ {
		s := shape(t, pulse.RoundQuestions(bank, p, seq))
		shapes[seq] = s
		if s.index != 3 || s.enps != 1 {
			t.Errorf("round %d: %d index items and %d eNPS, want 3 and 1", seq, s.index, s.enps)
		}
		if s.total > p.QuestionsPerRound {
			t.Errorf("round %d asks %d questions, want at most %d", seq, s.total, p.QuestionsPerRound)
		}
	}
	assertDriversCovered(t, shapes, p.DriverCycle)
	assertItemsRotate(t, shapes, itemsByDriver(bank))
}

func TestCoreEveryTwoAsksTheIndexOnlyOnOddRounds(t *testing.T) {
	bank := builtinBank(t)
	p := rotationProgram(7, 3, 2)
	if err := p.CheckPool(bank); err != nil {
		t.Fatalf("CheckPool: %v", err)
	}
	const rounds = 30
	shapes := make([]roundShape, rounds+1)
	for seq := 1; seq <= rounds; seq++ {
		s := shape(t, pulse.RoundQuestions(bank, p, seq))
		shapes[seq] = s
		wantIndex, wantENPS := 0, 0
		if seq%2 == 1 {
			wantIndex, wantENPS = 3, 1
		}
		if s.index != wantIndex || s.enps != wantENPS {
			t.Errorf("round %d: %d index items and %d eNPS, want %d and %d", seq, s.index, s.enps, wantIndex, wantENPS)
		}
		if s.total > p.QuestionsPerRound {
			t.Errorf("round %d asks %d questions, want at most %d", seq, s.total, p.QuestionsPerRound)
		}
	}
	// The rounds without the core use the room for more drivers, and the
	// promise of the cycle still holds.
	if got := len(shapes[2].drivers); got != 7 {
		t.Errorf("round 2 (no core) asks %d drivers, want 7 (the whole round)", got)
	}
	assertDriversCovered(t, shapes, p.DriverCycle)
	assertItemsRotate(t, shapes, itemsByDriver(bank))
}

// assertDriversCovered checks that any cycle consecutive rounds ask every
// driver.
func assertDriversCovered(t *testing.T, shapes []roundShape, cycle int) {
	t.Helper()
	for first := 1; first+cycle-1 < len(shapes); first++ {
		asked := map[string]bool{}
		for seq := first; seq < first+cycle; seq++ {
			for d := range shapes[seq].drivers {
				asked[d] = true
			}
		}
		var missing []string
		for _, d := range pulse.Drivers {
			if !asked[d.Key] {
				missing = append(missing, d.Key)
			}
		}
		if len(missing) > 0 {
			t.Errorf("rounds %d–%d leave out drivers %v, want every driver within %d rounds", first, first+cycle-1, missing, cycle)
		}
	}
}

// assertItemsRotate checks that a driver's items take turns: two
// consecutive askings of a driver with several items use different items,
// and over the rounds every item is asked.
func assertItemsRotate(t *testing.T, shapes []roundShape, items map[string]int) {
	t.Helper()
	for driver, n := range items {
		var seq []string
		for _, s := range shapes[1:] {
			seq = append(seq, s.drivers[driver]...)
		}
		used := map[string]bool{}
		repeated := ""
		for i, key := range seq {
			used[key] = true
			if i > 0 && n > 1 && seq[i-1] == key && repeated == "" {
				repeated = key
			}
		}
		if repeated != "" {
			t.Errorf("driver %s: item %s asked twice in a row (%v), want its items in turn", driver, repeated, seq)
		}
		if len(used) != n {
			t.Errorf("driver %s: asked %d of its %d items over %d rounds (%v), want all", driver, len(used), n, len(shapes)-1, seq)
		}
	}
}

func TestRoundQuestionsAreTheSameForTheSameRound(t *testing.T) {
	bank := builtinBank(t)
	p := rotationProgram(7, 3, 1)
	// The pool's order must not matter: the store may hand it in any order.
	reversed := make([]pulse.Question, len(bank))
	for i, q := range bank {
		reversed[len(bank)-1-i] = q
	}
	for seq := 1; seq <= 6; seq++ {
		a, b := pulse.RoundQuestions(bank, p, seq), pulse.RoundQuestions(reversed, p, seq)
		if keys(a) != keys(b) {
			t.Errorf("round %d: %s from the bank, %s from the reversed bank, want the same", seq, keys(a), keys(b))
		}
	}
}

func TestRetiredQuestionsAreNotAsked(t *testing.T) {
	bank := builtinBank(t)
	for i := range bank {
		if bank[i].Key == "eng.proud" || bank[i].Driver == "customer" {
			bank[i].Retired = true
		}
	}
	p := rotationProgram(7, 3, 1)
	for seq := 1; seq <= 9; seq++ {
		for _, q := range pulse.RoundQuestions(bank, p, seq) {
			if q.Retired {
				t.Errorf("round %d asks retired question %s", seq, q.Key)
			}
		}
	}
}

func TestCustomQuestionsWithoutADriverAreAskedEveryRound(t *testing.T) {
	bank := builtinBank(t)
	custom := pulse.Question{ID: 1000, Key: "custom.1", Text: "Anything else?", Kind: pulse.Text, Position: 1000}
	pool := append(bank, custom)
	p := rotationProgram(8, 3, 1)
	if err := p.CheckPool(pool); err != nil {
		t.Fatalf("CheckPool: %v", err)
	}
	for seq := 1; seq <= 6; seq++ {
		qs := pulse.RoundQuestions(pool, p, seq)
		if !strings.Contains(keys(qs), "custom.1") {
			t.Errorf("round %d = %s, want custom.1 in it", seq, keys(qs))
		}
		if len(qs) > p.QuestionsPerRound {
			t.Errorf("round %d asks %d, want at most %d", seq, len(qs), p.QuestionsPerRound)
		}
	}
}

func keys(qs []pulse.Question) string {
	var k []string
	for _, q := range qs {
		k = append(k, q.Key)
	}
	return strings.Join(k, ",")
}

func TestCheckPoolSaysWhatToRaiseWhenRoundsAreTooSmall(t *testing.T) {
	bank := builtinBank(t)
	tests := []struct {
		name                  string
		perRound, cycle, core int
		field                 string // "" means fine
		wantInMessage         string
	}{
		{"core alone does not fit", 3, 3, 1, "questions_per_round", "raise questions per round to at least 4"},
		{"drivers do not fit the cycle", 5, 3, 1, "driver_cycle", "raise questions per round to 7 or the cycle to 9 rounds"},
		{"six per round, cycle three", 6, 3, 1, "driver_cycle", "raise questions per round to 7 or the cycle to 5 rounds"},
		{"seven per round covers nine drivers in three rounds", 7, 3, 1, "", ""},
		{"five per round with a nine-round cycle", 5, 9, 1, "", ""},
		{"thirteen per round asks every driver every round", 13, 1, 1, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := rotationProgram(tt.perRound, tt.cycle, tt.core)
			err := p.CheckPool(bank)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("CheckPool = %v, want nil", err)
				}
				return
			}
			e := fieldError(t, err, tt.field)
			if !strings.Contains(e.Message, tt.wantInMessage) {
				t.Errorf("message %q, want it to say %q", e.Message, tt.wantInMessage)
			}
		})
	}
}
