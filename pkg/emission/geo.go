package emission

import "math"

// EarthRadiusKm is the mean Earth radius used for great-circle distances
// (docs/domain.md §7.2): 6 371.0088 km, not 6 371 or 6 378.137.
const EarthRadiusKm = 6371.0088

// PlaneDetourKm is added to the rounded great-circle distance of a flight.
const PlaneDetourKm = 95

// TrainDetourFactor multiplies the rounded great-circle distance of a train
// trip.
const TrainDetourFactor = 1.2

// GreatCircleKm returns the haversine distance in km between two points
// given in decimal degrees, unrounded.
func GreatCircleKm(lat1, lon1, lat2, lon2 float64) float64 {
	const rad = math.Pi / 180
	p1, p2 := lat1*rad, lat2*rad
	dp := (lat2 - lat1) * rad
	dl := (lon2 - lon1) * rad
	sp, sl := math.Sin(dp/2), math.Sin(dl/2)
	h := sp*sp + math.Cos(p1)*math.Cos(p2)*sl*sl
	if h > 1 {
		h = 1
	}
	return 2 * EarthRadiusKm * math.Asin(math.Sqrt(h))
}

// RoundHalfAwayFromZero rounds to the nearest integer, halves away from
// zero (the round() of docs/domain.md §1).
func RoundHalfAwayFromZero(x float64) float64 { return math.Round(x) }

// PlaneTripKm returns the one-trip plane distance d1 = round(h) + 95.
func PlaneTripKm(h float64) float64 { return math.Round(h) + PlaneDetourKm }

// TrainTripKm returns the one-trip train distance d1 = round(round(h) × 1.2).
func TrainTripKm(h float64) float64 { return math.Round(math.Round(h) * TrainDetourFactor) }

// normalizeCoords swaps latitude and longitude when the latitude is out of
// range while the longitude would be a valid latitude (swapped reference
// data, docs/domain.md §7.2).
func normalizeCoords(lat, lon float64) (float64, float64, bool) {
	if (lat < -90 || lat > 90) && lon >= -90 && lon <= 90 {
		return lon, lat, true
	}
	return lat, lon, false
}
