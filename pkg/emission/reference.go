package emission

import (
	"strings"
)

// Transport modes of locations.
const (
	ModePlane = "plane"
	ModeTrain = "train"
)

// Location is a reference airport or train station (docs/domain.md §3.4).
type Location struct {
	Mode        string // "plane" or "train"
	IATA        string // airports
	Name        string
	CountryCode string // ISO-3166 alpha-2
	Latitude    float64
	Longitude   float64
}

// TrainNaturalKey returns the natural key of a train station:
// "train:<CC>:<name folded, spaces collapsed>".
func TrainNaturalKey(countryCode, name string) string {
	return "train:" + strings.ToUpper(strings.TrimSpace(countryCode)) + ":" + Fold(name)
}

// PlaneNaturalKey returns the natural key of an airport: "plane:<IATA>".
func PlaneNaturalKey(iata string) string {
	return "plane:" + strings.ToUpper(strings.TrimSpace(iata))
}

// Locations indexes airports by IATA code and train stations by natural key
// and by folded (name, country). It is read-only once built and safe for
// concurrent use.
type Locations struct {
	airports map[string]*Location // folded IATA
	stations map[string]*Location // folded natural key
}

// NewLocations indexes locations; later duplicates win.
func NewLocations(locs []Location) *Locations {
	x := &Locations{
		airports: make(map[string]*Location),
		stations: make(map[string]*Location),
	}
	for i := range locs {
		l := &locs[i]
		switch Fold(l.Mode) {
		case ModePlane:
			x.airports[Fold(l.IATA)] = l
		case ModeTrain:
			x.stations[Fold(TrainNaturalKey(l.CountryCode, l.Name))] = l
		}
	}
	return x
}

// Airport returns the airport with an IATA code (case-insensitive).
func (x *Locations) Airport(iata string) (*Location, bool) {
	if x == nil {
		return nil, false
	}
	var buf [16]byte
	l, ok := x.airports[string(appendFold(buf[:0], iata))]
	return l, ok
}

// Station returns the station with a natural key (case-insensitive).
func (x *Locations) Station(naturalKey string) (*Location, bool) {
	if x == nil {
		return nil, false
	}
	var buf [128]byte
	l, ok := x.stations[string(appendFold(buf[:0], naturalKey))]
	return l, ok
}

// StationByName returns the station with a (name, country) pair, compared
// folded.
func (x *Locations) StationByName(name, countryCode string) (*Location, bool) {
	if x == nil {
		return nil, false
	}
	var buf [128]byte
	b := append(buf[:0], "train:"...)
	b = appendFold(b, countryCode)
	b = append(b, ':')
	b = appendFold(b, name)
	l, ok := x.stations[string(b)]
	return l, ok
}

// Room is a reference building room (docs/domain.md §3.4 building_rooms).
type Room struct {
	BuildingLocation string
	BuildingName     string
	RoomName         string
	RoomType         string // one of RoomTypes, or ""
	SurfaceM2        float64
}

// Rooms indexes building rooms by folded (building_name, room_name).
type Rooms struct {
	by map[string]*Room
}

// NewRooms indexes rooms; later duplicates win.
func NewRooms(rooms []Room) *Rooms {
	x := &Rooms{by: make(map[string]*Room, len(rooms))}
	for i := range rooms {
		r := &rooms[i]
		x.by[string(appendKey(nil, r.BuildingName, r.RoomName))] = r
	}
	return x
}

// Room returns the reference room of a building (case-insensitive).
func (x *Rooms) Room(building, room string) (*Room, bool) {
	if x == nil {
		return nil, false
	}
	var buf [128]byte
	r, ok := x.by[string(appendKey(buf[:0], building, room))]
	return r, ok
}

// FXRates maps an upper-case ISO-4217 currency code to units of that
// currency per 1 EUR for the report year (fx_rates.per_eur). EUR is implicit.
type FXRates map[string]float64

// PerEUR returns per_eur(currency); EUR is always 1. Missing or
// non-positive rates report false.
func (r FXRates) PerEUR(currency string) (float64, bool) {
	cur := strings.ToUpper(strings.TrimSpace(currency))
	if cur == "EUR" {
		return 1, true
	}
	v, ok := r[cur]
	if !ok || !(v > 0) {
		return 0, false
	}
	return v, true
}

// Lookup is everything Compute needs for one report year, preloaded by the
// caller (per job or per request). A Lookup is read-only and safe for
// concurrent use once built. Nil members behave as empty.
type Lookup struct {
	Year      int
	Factors   *FactorIndex
	Locations *Locations
	Rooms     *Rooms
	FX        FXRates
}
