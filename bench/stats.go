package bench

import (
	"math"
	"sort"
)

// Summary is what a scenario reports for one metric of one target over its
// repeats: the median as the headline and the spread around it.
type Summary struct {
	N      int     `json:"n"`
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	// Spread is (Max-Min)/Median: how far apart the repeats were, relative to
	// the headline. 0 with one sample; NaN-free (0 when the median is 0).
	Spread float64 `json:"spread"`
}

// Summarize returns the median and spread of xs. NaNs are ignored; an empty
// input gives the zero Summary.
func Summarize(xs []float64) Summary {
	v := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return Summary{}
	}
	sort.Float64s(v)
	s := Summary{N: len(v), Median: median(v), Min: v[0], Max: v[len(v)-1]}
	if s.Median != 0 {
		s.Spread = (s.Max - s.Min) / math.Abs(s.Median)
	}
	return s
}

// Median returns the median of xs (the mean of the middle two for an even
// count), or NaN for an empty input. xs is not modified.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	v := append([]float64(nil), xs...)
	sort.Float64s(v)
	return median(v)
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// Jain returns Jain's fairness index of the per-flow rates xs:
// (Σx)² / (n·Σx²). It is 1 when every flow got the same share and 1/n when
// one flow got everything. An empty or all-zero input gives NaN: there is no
// share to judge.
func Jain(xs []float64) float64 {
	var sum, sq float64
	for _, x := range xs {
		sum += x
		sq += x * x
	}
	if len(xs) == 0 || sq == 0 {
		return math.NaN()
	}
	return sum * sum / (float64(len(xs)) * sq)
}

// ratio is a/b, or NaN when b is 0 (a ratio to nothing is not a result).
func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}
