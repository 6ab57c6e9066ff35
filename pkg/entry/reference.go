package entry

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

// TaxonomyNode is one dropdown option; Defaults are factor values useful
// to prefill a form (powers and hours, units).
type TaxonomyNode struct {
	Value    string         `json:"value"`
	Label    string         `json:"label"`
	Defaults map[string]any `json:"defaults"`
	Children []TaxonomyNode `json:"children"`
}

// Taxonomy is the dropdown tree of a submodule for a year (docs/api.md §8).
type Taxonomy struct {
	Submodule    string         `json:"submodule"`
	Year         int32          `json:"year"`
	KindField    *string        `json:"kind_field"`
	SubkindField *string        `json:"subkind_field"`
	Nodes        []TaxonomyNode `json:"nodes"`
}

// taxSpec describes the taxonomy of a submodule: the payload fields and
// the classification keys they come from.
type taxSpec struct {
	kind, subkind       string // payload fields
	kindKey, subkindKey string // classification keys
	defaults            []string
	// linked is a payload field whose value must be one of the defaults
	// of the entry's node (the facility id of a facility name).
	linked    string
	fromRooms bool
}

func taxonomySpec(sub emission.SubmoduleKey) (taxSpec, bool) {
	switch {
	case emission.IsEquipmentSubmodule(sub):
		return taxSpec{kind: "equipment_class", subkind: "sub_class", defaults: []string{
			"active_power_w", "standby_power_w", fActiveH, fStandbyH,
		}}, true
	case emission.IsPurchaseCategory(sub):
		return taxSpec{kind: "purchase_institutional_code", subkind: "purchase_additional_code", defaults: []string{"currency"}}, true
	}
	switch sub { //nolint:exhaustive // the others have no taxonomy
	case emission.SubRoom:
		return taxSpec{kind: "building_name", subkind: "room_type", fromRooms: true}, true
	case emission.SubEnergyCombustion:
		return taxSpec{kind: "fuel", kindKey: "name", defaults: []string{"unit"}}, true
	case emission.SubAdditional:
		return taxSpec{kind: "name"}, true
	case emission.SubFacility:
		return taxSpec{kind: "researchfacility_name", defaults: []string{"use_unit", fFacilityID}, linked: fFacilityID}, true
	case emission.SubAnimalFacility:
		return taxSpec{kind: "researchfacility_name", subkind: "researchfacility_type", defaults: []string{"use_unit", fFacilityID},
			linked: fFacilityID}, true
	case emission.SubCloud:
		return taxSpec{kind: "service_type", subkind: "provider", defaults: []string{"currency"}}, true
	case emission.SubAI:
		return taxSpec{kind: "provider", subkind: "usage_type"}, true
	case emission.SubProcessGas:
		return taxSpec{kind: "category", subkind: "subcategory", defaults: []string{"unit"}}, true
	}
	return taxSpec{}, false
}

// Taxonomy returns the dropdown options of a submodule for a year (nil:
// the latest open year) from the year's factors (rooms: from the building
// rooms reference).
func (s *Service) Taxonomy(ctx context.Context, sub emission.SubmoduleKey, yr *int32) (*Taxonomy, error) {
	info, ok := emission.LookupSubmodule(sub)
	if !ok || info.FactorsOnly {
		return nil, apperr.NotFound("unknown submodule %q", sub)
	}
	q := dbsqlc.New(s.DB)
	var y int32
	if yr != nil {
		if _, err := years.Get(ctx, q, *yr); err != nil {
			return nil, err
		}
		y = *yr
	} else {
		latest, err := q.ModuleDataLatestOpenYear(ctx)
		if err != nil {
			if isNoRows(err) {
				return nil, apperr.NotFound("no open year")
			}
			return nil, fmt.Errorf("error loading the latest open year: %w", err)
		}
		y = latest
	}
	return taxonomyOf(ctx, q, sub, y)
}

// taxonomyOf builds the taxonomy of a submodule for a year (the write path
// checks entries against it, docs/domain.md §7).
func taxonomyOf(ctx context.Context, q *dbsqlc.Queries, sub emission.SubmoduleKey, y int32) (*Taxonomy, error) {
	out := &Taxonomy{Submodule: string(sub), Year: y, Nodes: []TaxonomyNode{}}
	spec, ok := taxonomySpec(sub)
	if !ok {
		return out, nil
	}
	out.KindField = &spec.kind
	if spec.subkind != "" {
		out.SubkindField = &spec.subkind
	}
	if spec.fromRooms {
		rooms, err := q.BuildingRoomsAll(ctx)
		if err != nil {
			return nil, fmt.Errorf("error loading building rooms: %w", err)
		}
		b := newTreeBuilder()
		for _, r := range rooms {
			n := b.node(r.BuildingName, r.BuildingName)
			if r.RoomType != nil && *r.RoomType != "" {
				b.child(n, strings.ToLower(*r.RoomType), strings.ToLower(*r.RoomType))
			}
		}
		out.Nodes = b.nodes
		return out, nil
	}
	factors, err := q.FactorsByYearSubmodule(ctx, dbsqlc.FactorsByYearSubmoduleParams{Year: y, Submodule: string(sub)})
	if err != nil {
		return nil, fmt.Errorf("error loading factors: %w", err)
	}
	kindKey, subKey := firstSet(spec.kindKey, spec.kind), firstSet(spec.subkindKey, spec.subkind)
	b := newTreeBuilder()
	for _, f := range factors {
		var cls map[string]string
		var vals map[string]any
		if json.Unmarshal(f.Classification, &cls) != nil || json.Unmarshal(f.Values, &vals) != nil {
			continue
		}
		kv := strings.TrimSpace(cls[kindKey])
		if kv == "" {
			continue
		}
		defaults := map[string]any{}
		for _, k := range spec.defaults {
			if v, ok := vals[k]; ok {
				defaults[k] = v
			} else if v, ok := cls[k]; ok && v != "" {
				defaults[k] = v
			}
		}
		label := kv
		if l, ok := vals["label"].(string); ok && strings.TrimSpace(l) != "" {
			label = strings.TrimSpace(l)
		}
		sv := ""
		if subKey != "" {
			sv = strings.TrimSpace(cls[subKey])
		}
		if sv == "" {
			n := b.node(kv, label)
			n.Defaults = defaults
			continue
		}
		n := b.node(kv, kv)
		c := b.child(n, sv, label)
		c.Defaults = defaults
	}
	out.Nodes = b.nodes
	return out, nil
}

func firstSet(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// treeBuilder groups values case-insensitively, keeping the first
// spelling, in first-seen order.
type treeBuilder struct {
	nodes []TaxonomyNode
	index map[string]int
}

func newTreeBuilder() *treeBuilder {
	return &treeBuilder{nodes: []TaxonomyNode{}, index: map[string]int{}}
}

func (b *treeBuilder) node(value, label string) *TaxonomyNode {
	k := emission.Fold(value)
	if i, ok := b.index[k]; ok {
		n := &b.nodes[i]
		if label != value && n.Label == n.Value {
			n.Label = label
		}
		return n
	}
	b.index[k] = len(b.nodes)
	b.nodes = append(b.nodes, TaxonomyNode{Value: value, Label: label, Defaults: map[string]any{}, Children: []TaxonomyNode{}})
	return &b.nodes[len(b.nodes)-1]
}

func (b *treeBuilder) child(n *TaxonomyNode, value, label string) *TaxonomyNode {
	k := emission.Fold(value)
	for i := range n.Children {
		if emission.Fold(n.Children[i].Value) == k {
			return &n.Children[i]
		}
	}
	n.Children = append(n.Children, TaxonomyNode{Value: value, Label: label, Defaults: map[string]any{}, Children: []TaxonomyNode{}})
	return &n.Children[len(n.Children)-1]
}

// Location is a reference airport or station as the API shows it.
type Location struct {
	ID            int64   `json:"id"`
	TransportMode string  `json:"transport_mode"`
	NaturalKey    string  `json:"natural_key"`
	Name          string  `json:"name"`
	IATACode      *string `json:"iata_code"`
	CountryCode   *string `json:"country_code"`
	Municipality  *string `json:"municipality"`
	AirportSize   *string `json:"airport_size"`
	Latitude      float64 `json:"latitude"`
	Longitude     float64 `json:"longitude"`
}

func checkMode(mode string) error {
	if mode != emission.ModePlane && mode != emission.ModeTrain {
		return invalidFilter("mode", "must be plane or train")
	}
	return nil
}

// SearchLocations searches airports (IATA, name, city) or stations
// (docs/domain.md §8); q ≥ 2 characters, limit 1–20 (0: 8).
func (s *Service) SearchLocations(ctx context.Context, mode, q string, limit int) ([]Location, error) {
	if err := checkMode(mode); err != nil {
		return nil, err
	}
	q = strings.TrimSpace(q)
	if utf8.RuneCountInString(q) < 2 || utf8.RuneCountInString(q) > maxQ {
		return nil, invalidFilter("q", "must have 2 to %d characters", maxQ)
	}
	if limit == 0 {
		limit = 8
	}
	if limit < 1 || limit > 20 {
		return nil, invalidFilter("limit", "must be between 1 and 20")
	}
	rows, err := dbsqlc.New(s.DB).LocationsSearch(ctx, dbsqlc.LocationsSearchParams{Q: q, TransportMode: mode, Limit: int32(limit)})
	if err != nil {
		return nil, fmt.Errorf("error searching locations: %w", err)
	}
	out := make([]Location, 0, len(rows))
	for _, r := range rows {
		out = append(out, Location{
			ID: r.ID, TransportMode: r.TransportMode, NaturalKey: r.NaturalKey, Name: r.Name,
			IATACode: r.IataCode, CountryCode: r.CountryCode, Municipality: r.Municipality,
			AirportSize: r.AirportSize, Latitude: r.Latitude, Longitude: r.Longitude,
		})
	}
	return out, nil
}

// Distance is a distance preview (docs/api.md §8), computed as the engine does
// (docs/domain.md §7.2).
type Distance struct {
	GreatCircleKm float64 `json:"great_circle_km"`
	OneTripKm     float64 `json:"one_trip_km"`
	DistanceKm    float64 `json:"distance_km"`
}

// PreviewDistance returns the distance between two locations: IATA codes
// for planes, natural keys for trains; trips 1–1000 (0: 1). Unknown
// locations are 404.
func (s *Service) PreviewDistance(ctx context.Context, mode, origin, destination string, trips int) (*Distance, error) {
	if err := checkMode(mode); err != nil {
		return nil, err
	}
	if trips == 0 {
		trips = 1
	}
	if trips < 1 || trips > 1000 {
		return nil, invalidFilter("trips", "must be between 1 and 1000")
	}
	q := dbsqlc.New(s.DB)
	get := func(key string) (dbsqlc.Location, error) {
		if mode == emission.ModePlane {
			l, err := q.LocationGetByIATA(ctx, key)
			if isNoRows(err) {
				return l, apperr.NotFound("unknown airport %q", key)
			}
			return l, err
		}
		l, found, err := trainStation(ctx, q, key)
		if err == nil && !found {
			return l, apperr.NotFound("unknown train station %q", key)
		}
		return l, err
	}
	o, err := get(strings.TrimSpace(origin))
	if err != nil {
		return nil, err
	}
	d, err := get(strings.TrimSpace(destination))
	if err != nil {
		return nil, err
	}
	lat1, lon1 := swapped(o.Latitude, o.Longitude)
	lat2, lon2 := swapped(d.Latitude, d.Longitude)
	h := emission.GreatCircleKm(lat1, lon1, lat2, lon2)
	one := emission.TrainTripKm(h)
	if mode == emission.ModePlane {
		one = emission.PlaneTripKm(h)
	}
	return &Distance{GreatCircleKm: math.Round(h*100) / 100, OneTripKm: one, DistanceKm: one * float64(trips)}, nil
}

// swapped undoes swapped reference coordinates as the engine does
// (docs/domain.md §7.2).
func swapped(lat, lon float64) (float64, float64) {
	if (lat < -90 || lat > 90) && lon >= -90 && lon <= 90 {
		return lon, lat
	}
	return lat, lon
}

// Building is one distinct building of the reference rooms.
type Building struct {
	BuildingLocation string `json:"building_location"`
	BuildingName     string `json:"building_name"`
}

// Buildings lists the distinct buildings, optionally of one location.
func (s *Service) Buildings(ctx context.Context, location string) ([]Building, error) {
	rows, err := dbsqlc.New(s.DB).BuildingRoomsBuildings(ctx, nonEmpty(strings.TrimSpace(location)))
	if err != nil {
		return nil, fmt.Errorf("error listing buildings: %w", err)
	}
	out := make([]Building, 0, len(rows))
	for _, r := range rows {
		out = append(out, Building{BuildingLocation: r.BuildingLocation, BuildingName: r.BuildingName})
	}
	return out, nil
}

// Room is a reference building room.
type Room struct {
	BuildingLocation *string  `json:"building_location"`
	BuildingName     string   `json:"building_name"`
	RoomName         string   `json:"room_name"`
	RoomType         *string  `json:"room_type"`
	SurfaceM2        *float64 `json:"surface_m2"`
}

// Rooms lists reference rooms of a building (exact, case-insensitive)
// whose name contains q; limit 1–1000 (0: 50).
func (s *Service) Rooms(ctx context.Context, building, q string, limit int) ([]Room, error) {
	if limit == 0 {
		limit = DefaultLimit
	}
	if limit < 1 || limit > MaxLimit {
		return nil, invalidFilter("limit", "must be between 1 and %d", MaxLimit)
	}
	rows, err := dbsqlc.New(s.DB).BuildingRoomsSearch(ctx, dbsqlc.BuildingRoomsSearchParams{
		BuildingName: nonEmpty(strings.TrimSpace(building)), Q: nonEmpty(strings.TrimSpace(q)),
		Limit: int32(limit),
	})
	if err != nil {
		return nil, fmt.Errorf("error listing rooms: %w", err)
	}
	out := make([]Room, 0, len(rows))
	for _, r := range rows {
		out = append(out, Room{BuildingLocation: r.BuildingLocation, BuildingName: r.BuildingName,
			RoomName: r.RoomName, RoomType: r.RoomType, SurfaceM2: r.SurfaceM2})
	}
	return out, nil
}

// Uniqueness is the answer of check-unique.
type Uniqueness struct {
	Unique             bool   `json:"unique"`
	ConflictingEntryID *int64 `json:"conflicting_entry_id"`
}

// CheckUnique tells whether a value is free: member user_institutional_id
// (enforced on writes) and equipment equipment_id (advisory, across the
// module's equipment submodules). Other fields are 400.
func (s *Service) CheckUnique(ctx context.Context, sc Scope, fieldName, value string, excludeID *int64) (*Uniqueness, error) {
	if err := CheckSubmodule(sc.Module, sc.Submodule); err != nil {
		return nil, err
	}
	var subs []string
	switch {
	case sc.Submodule == emission.SubMember && fieldName == "user_institutional_id":
		subs = []string{string(emission.SubMember)}
	case emission.IsEquipmentSubmodule(sc.Submodule) && fieldName == "equipment_id":
		subs = []string{string(emission.SubScientific), string(emission.SubIT), string(emission.SubOther)}
	default:
		return nil, invalidFilter("field", "check-unique supports member user_institutional_id and equipment equipment_id")
	}
	if strings.TrimSpace(value) == "" {
		return nil, invalidFilter("value", "is required")
	}
	q := dbsqlc.New(s.DB)
	r, err := resolve(ctx, q, sc, false)
	if err != nil {
		return nil, err
	}
	id, err := q.ModuleDataEntryFieldConflict(ctx, dbsqlc.ModuleDataEntryFieldConflictParams{
		ReportModuleID: r.rm.ID, Submodules: subs, Field: fieldName, Value: value, ExceptID: excludeID,
	})
	switch {
	case isNoRows(err):
		return &Uniqueness{Unique: true}, nil
	case err != nil:
		return nil, fmt.Errorf("error checking uniqueness: %w", err)
	}
	return &Uniqueness{Unique: false, ConflictingEntryID: &id}, nil
}
