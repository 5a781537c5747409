package pulse

// IndexAnswers is one response's answers to its round's engagement-index
// items (Likert 1–5, Question.InIndex), for measures of agreement within a
// team: Values[i] answers Items[i] (question ids in ascending order, the
// same slice for every response of a round), NaN where the item was not
// answered. UnitID is the unit the response is stored under.
type IndexAnswers struct {
	RoundID, UnitID int64
	Items           []int64
	Values          []float64
}
