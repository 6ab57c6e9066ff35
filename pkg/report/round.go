package report

import "math"

// Edge rounding (docs/domain.md §1): half away from zero.

func roundTo(v float64, decimals int) float64 {
	p := math.Pow10(decimals)
	return math.Round(v*p) / p
}

// RoundKg rounds a kg figure to 2 decimals.
func RoundKg(v float64) float64 { return roundTo(v, 2) }

// KgToT converts kg to tonnes rounded to 3 decimals.
func KgToT(kg float64) float64 { return roundTo(kg/1000, 3) }

// RoundPercent rounds a percentage to 1 decimal.
func RoundPercent(v float64) float64 { return roundTo(v, 1) }

// RoundFTE rounds an FTE to 2 decimals.
func RoundFTE(v float64) float64 { return roundTo(v, 2) }

// RoundKm rounds a distance to an integer number of km.
func RoundKm(v float64) int64 { return int64(math.Round(v)) }

func optT(kg *float64) *float64 {
	if kg == nil {
		return nil
	}
	return new(KgToT(*kg))
}

func optFTE(v *float64) *float64 {
	if v == nil {
		return nil
	}
	return new(RoundFTE(*v))
}

func optPercent(v *float64) *float64 {
	if v == nil {
		return nil
	}
	return new(RoundPercent(*v))
}

// perFTE is kg / fte, nil when fte is nil or 0.
func perFTE(kg float64, fte *float64) *float64 {
	if fte == nil || *fte == 0 {
		return nil
	}
	return new(kg / *fte)
}

// yoy is (cur − prev) / prev × 100, nil when prev is nil or 0.
func yoy(cur float64, prev *float64) *float64 {
	if prev == nil || *prev == 0 {
		return nil
	}
	return new((cur - *prev) / *prev * 100)
}
