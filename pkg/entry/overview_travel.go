package entry

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/co2-calculator/co2-calculator/pkg/calc"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
)

func roundPercent(v float64) float64 { return report.RoundPercent(v) }

// Member is one person of the unit's headcount (traveler picker).
type Member struct {
	Sciper string `json:"sciper"`
	Name   string `json:"name"`
}

// Members returns the members of the unit's headcount for the year, sorted
// by name (docs/api.md §5 .../modules/headcount/members). onlySciper, when not
// empty, restricts the list to that person (own-scoped callers).
func (s *Service) Members(ctx context.Context, unitID int64, year int32, onlySciper string) ([]Member, error) {
	r, err := resolveModule(ctx, dbsqlc.New(s.DB), ModuleScope{UnitID: unitID, Year: year, Module: emission.ModuleHeadcount})
	if err != nil {
		return nil, err
	}
	var only *string
	if onlySciper != "" {
		only = &onlySciper
	}
	rows, err := dbsqlc.New(s.DB).MembersOfReportModule(ctx, dbsqlc.MembersOfReportModuleParams{
		ReportModuleID: r.rm.ID, OnlySciper: only,
	})
	if err != nil {
		return nil, fmt.Errorf("error listing members: %w", err)
	}
	out := make([]Member, 0, len(rows))
	for _, row := range rows {
		out = append(out, Member{Sciper: row.Sciper, Name: row.Name})
	}
	slices.SortFunc(out, func(a, b Member) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.Sciper, b.Sciper))
	})
	return out, nil
}

// MapPoint is one end of a trip leg.
type MapPoint struct {
	Name string  `json:"name"`
	Lat  float64 `json:"lat"`
	Lon  float64 `json:"lon"`
}

// MapLeg is one trip of the trips map.
type MapLeg struct {
	Mode          string   `json:"mode"`
	Origin        MapPoint `json:"origin"`
	Destination   MapPoint `json:"destination"`
	KgCO2eq       float64  `json:"kg_co2eq"`
	NumberOfTrips int64    `json:"number_of_trips"`
	TravelerName  *string  `json:"traveler_name"`
	entryID       int64
}

// TripsMap is the response of .../modules/professional_travel/trips-map.
type TripsMap struct {
	Legs         []MapLeg `json:"legs"`
	DroppedCount int      `json:"dropped_count"`
}

type tripData struct {
	OriginIATA      string `json:"origin_iata"`
	DestinationIATA string `json:"destination_iata"`
	OriginKey       string `json:"origin_key"`
	DestinationKey  string `json:"destination_key"`
	OriginName      string `json:"origin_name"`
	DestinationName string `json:"destination_name"`
	OriginCC        string `json:"origin_country_code"`
	DestinationCC   string `json:"destination_country_code"`
	NumberOfTrips   *int64 `json:"number_of_trips"`
}

// TripsMap returns the plane and train trips of a report with the
// coordinates of their ends (docs/api.md §5); trips whose ends have no
// coordinates are dropped and counted. Own-scoped callers see their own
// trips only.
func (s *Service) TripsMap(ctx context.Context, actor Actor, unitID int64, year int32) (*TripsMap, error) {
	q := dbsqlc.New(s.DB)
	r, err := resolveModule(ctx, q, ModuleScope{UnitID: unitID, Year: year, Module: emission.ModuleProfessionalTravel})
	if err != nil {
		return nil, err
	}
	lk, err := calc.LoadLookup(ctx, s.DB, int(year), emission.ModuleProfessionalTravel)
	if lk == nil {
		return nil, err
	}
	entries, err := q.EntriesByReportModule(ctx, r.rm.ID)
	if err != nil {
		return nil, fmt.Errorf("error loading trips: %w", err)
	}
	out := &TripsMap{Legs: []MapLeg{}}
	var scipers []string
	owners := map[int64]string{}
	for _, e := range entries {
		if actor.OwnSciper != "" && (e.OwnerSciper == nil || *e.OwnerSciper != actor.OwnSciper) {
			continue
		}
		var d tripData
		_ = json.Unmarshal(e.Data, &d)
		var from, to *emission.Location
		var ok1, ok2 bool
		switch emission.SubmoduleKey(e.Submodule) { //nolint:exhaustive // travel submodules only
		case emission.SubPlane:
			from, ok1 = lk.Locations.Airport(d.OriginIATA)
			to, ok2 = lk.Locations.Airport(d.DestinationIATA)
		case emission.SubTrain:
			from, ok1 = station(lk, d.OriginKey, d.OriginName, d.OriginCC)
			to, ok2 = station(lk, d.DestinationKey, d.DestinationName, d.DestinationCC)
		default:
			continue
		}
		if !ok1 || !ok2 || !hasCoords(from) || !hasCoords(to) {
			out.DroppedCount++
			continue
		}
		trips := int64(1)
		if d.NumberOfTrips != nil && *d.NumberOfTrips > 0 {
			trips = *d.NumberOfTrips
		}
		out.Legs = append(out.Legs, MapLeg{
			Mode:        e.Submodule,
			Origin:      MapPoint{Name: from.Name, Lat: from.Latitude, Lon: from.Longitude},
			Destination: MapPoint{Name: to.Name, Lat: to.Latitude, Lon: to.Longitude},
			KgCO2eq:     roundKg(e.KgCo2eq), NumberOfTrips: trips, entryID: e.ID,
		})
		if e.OwnerSciper != nil {
			owners[e.ID] = *e.OwnerSciper
			if !slices.Contains(scipers, *e.OwnerSciper) {
				scipers = append(scipers, *e.OwnerSciper)
			}
		}
	}
	if len(scipers) > 0 {
		names, err := q.ModuleDataMemberNames(ctx, dbsqlc.ModuleDataMemberNamesParams{UnitID: unitID, Year: year, Scipers: scipers})
		if err != nil {
			return nil, fmt.Errorf("error loading traveler names: %w", err)
		}
		byS := map[string]string{}
		for _, n := range names {
			if _, ok := byS[n.Sciper]; !ok {
				byS[n.Sciper] = n.Name
			}
		}
		for i := range out.Legs {
			if name, ok := byS[owners[out.Legs[i].entryID]]; ok {
				out.Legs[i].TravelerName = &name
			}
		}
	}
	return out, nil
}

func station(lk *emission.Lookup, key, name, cc string) (*emission.Location, bool) {
	if key != "" {
		if l, ok := lk.Locations.Station(key); ok {
			return l, true
		}
	}
	if name != "" {
		return lk.Locations.StationByName(name, cc)
	}
	return nil, false
}

func hasCoords(l *emission.Location) bool {
	return l != nil && !(l.Latitude == 0 && l.Longitude == 0)
}
