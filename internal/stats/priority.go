package stats

import "math"

// DriverPriority ranks a driver for action by combining room to improve with
// the strength of its link to customers, in the spirit of importance–
// performance analysis (Martilla & James 1977, J. Marketing 41(1)):
//
//	priority = max(0, linkLow) × (100 − score) / 100.
//
// score is the driver's score on the 0–100 scale (pulse.Score0to100 of the
// team or company mean); (100 − score)/100 is the share of the scale still
// to gain. linkLow is the lower end of the 95 % interval of the driver's
// correlation with the customer measure: the weakest link the data still
// support, so that a driver whose interval reaches zero, or whose link is
// negative, gets priority 0 however low its score, and a strong but
// uncertain link counts for less than an equally strong, certain one.
//
// The result lies in [0, 1): 0.3 means, for example, a link of at least 0.5
// on a driver scoring 40. It is NaN when score is NaN or outside [0, 100],
// or linkLow is NaN or outside [−1, 1] (no link computed).
func DriverPriority(score, linkLow float64) float64 {
	if !(score >= 0 && score <= 100) || !(linkLow >= -1 && linkLow <= 1) {
		return math.NaN()
	}
	return math.Max(0, linkLow) * (100 - score) / 100
}
