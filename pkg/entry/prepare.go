package entry

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// Equipment hour fields.
const (
	fActiveH  = "active_usage_hours_per_week"
	fStandbyH = "standby_usage_hours_per_week"
	fHoursDef = "hours_defaulted"
)

// decodeObject decodes a JSON object into its raw members.
func decodeObject(raw json.RawMessage, name string) (map[string]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == jsonNull {
		return nil, apperr.Validation("1 field is invalid",
			apperr.FieldError{Field: name, Code: "required", Message: "is required"})
	}
	var m map[string]json.RawMessage
	if raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
		return nil, apperr.Validation("1 field is invalid",
			apperr.FieldError{Field: name, Code: "invalid_format", Message: "must be a JSON object"})
	}
	return m, nil
}

// prepared is a validated payload ready to store.
type prepared struct {
	data  map[string]any
	owner *string // owner_sciper (plane, train)
}

func (p *prepared) json() (json.RawMessage, error) {
	b, err := json.Marshal(p.data)
	if err != nil {
		return nil, fmt.Errorf("error encoding entry data: %w", err)
	}
	return b, nil
}

// prepare validates a payload and fills the system fields (docs/domain.md §9.2:
// validate → defaults). merged is the payload after the merge patch (the
// whole body on create); sent holds the keys of this request's data;
// stored is the previous normalized data (nil on create).
func (s *Service) prepare(ctx context.Context, q *dbsqlc.Queries, r *resolved, actor Actor,
	merged map[string]json.RawMessage, sent map[string]bool, stored map[string]any,
) (*prepared, error) {
	sub := r.Submodule
	v := &validator{}
	var stationFromName map[string]bool
	if sub == emission.SubTrain {
		stationFromName = deriveTrainKeys(merged, sent)
	}
	data := normalize(sub, merged, sent, v)
	invalid := map[string]bool{}
	for _, e := range v.errs {
		invalid[strings.TrimPrefix(e.Field, "data.")] = true
	}
	if sub == emission.SubStudent {
		studentFTE(data, sent, stored != nil, v)
	}
	if sub == emission.SubRoom {
		if err := s.roomDefaults(ctx, q, data, invalid, v); err != nil {
			return nil, err
		}
	}
	checkRequired(sub, data, invalid, v)
	if err := checkTaxonomy(ctx, q, r, data, sent, stored == nil, invalid, v); err != nil {
		return nil, err
	}
	if err := s.rules(ctx, q, r, data, stationFromName, v); err != nil {
		return nil, err
	}
	if emission.IsEquipmentSubmodule(sub) && len(v.errs) == 0 {
		if err := equipmentHours(ctx, q, r, data, sent, stored); err != nil {
			return nil, err
		}
	}
	p := &prepared{data: data}
	if sub == emission.SubPlane || sub == emission.SubTrain {
		if sciper, ok := data["user_institutional_id"].(string); ok {
			p.owner = &sciper
			if actor.OwnSciper != "" && sciper != actor.OwnSciper {
				v.addf("user_institutional_id", "traveler_must_be_self", "you may only record your own trips")
			}
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	return p, nil
}

// deriveTrainKeys decides where each end of a train trip takes its station
// from (docs/domain.md §7.2): the natural key when the request sends one;
// otherwise the station name and country code, as in CSV files, when the
// request sends either of them or when the entry has no key (imported
// rows, or a client sending the key back as null). The key derived from
// the name is resolved and stored by trainRules. It returns the ends whose
// key was derived, so that an unknown station is reported on the name.
func deriveTrainKeys(m map[string]json.RawMessage, sent map[string]bool) map[string]bool {
	fromName := map[string]bool{}
	for _, end := range []string{"origin", "destination"} {
		key := rawString(m[end+"_key"])
		switch {
		case key != "" && sent[end+"_key"]:
			continue // the client chose the station
		case key != "" && !sent[end+"_name"] && !sent[end+"_country_code"]:
			continue // the stored station is kept
		}
		name, cc := rawString(m[end+"_name"]), rawString(m[end+"_country_code"])
		if name == "" || cc == "" {
			continue
		}
		b, err := json.Marshal(emission.TrainNaturalKey(cc, name))
		if err != nil {
			continue
		}
		m[end+"_key"] = b
		fromName[end] = true
	}
	return fromName
}

// rawString returns a JSON string member trimmed, "" when it is absent,
// null or not a string.
func rawString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return strings.TrimSpace(s)
}

// studentFTE derives fte from the helper fields (docs/domain.md §7.1).
func studentFTE(data map[string]any, sent map[string]bool, patch bool, v *validator) {
	st, okS := data["students"].(float64)
	mo, okM := data["months"].(float64)
	av, okA := data["average_fte"].(float64)
	_, hasFTE := data["fte"]
	helpersSent := sent["students"] || sent["months"] || sent["average_fte"]
	if okS && okM && okA && (!hasFTE || (patch && helpersSent && !sent["fte"])) {
		data["fte"] = st * mo * av / 12
		return
	}
	if !hasFTE {
		v.addf("fte", "required", "is required unless students, months and average_fte are given")
	}
}

// roomDefaults applies the reference room: room_type defaults to its type;
// surface_m2 is required only for rooms absent from building_rooms.
func (s *Service) roomDefaults(ctx context.Context, q *dbsqlc.Queries, data map[string]any, invalid map[string]bool, v *validator) error {
	building, _ := data["building_name"].(string)
	room, _ := data["room_name"].(string)
	if building == "" || room == "" {
		return nil
	}
	ref, err := q.BuildingRoomGet(ctx, dbsqlc.BuildingRoomGetParams{BuildingName: building, RoomName: room})
	switch {
	case isNoRows(err):
		if _, ok := data["surface_m2"]; !ok && !invalid["surface_m2"] {
			v.addf("surface_m2", "required", "is required for a room that is not in the reference data")
		}
		if _, ok := data["room_type"]; !ok && !invalid["room_type"] {
			v.addf("room_type", "required", "is required for a room that is not in the reference data")
		}
		return nil
	case err != nil:
		return fmt.Errorf("error loading building room: %w", err)
	}
	if _, ok := data["room_type"]; !ok && !invalid["room_type"] {
		if ref.RoomType == nil {
			v.addf("room_type", "required", "is required: the reference room has no type")
		} else {
			data["room_type"] = strings.ToLower(*ref.RoomType)
		}
	}
	if _, ok := data["building_location"]; !ok && ref.BuildingLocation != nil && *ref.BuildingLocation != "" {
		data["building_location"] = *ref.BuildingLocation
	}
	return nil
}

// rules checks the cross-field and reference rules of a submodule.
// stationFromName holds the train ends whose key was derived from the
// station name (deriveTrainKeys).
func (s *Service) rules(ctx context.Context, q *dbsqlc.Queries, r *resolved, data map[string]any, stationFromName map[string]bool, v *validator) error {
	sub := r.Submodule
	if d, ok := data["departure_date"].(string); ok && !strings.HasPrefix(d, strconv.Itoa(int(r.Year))+"-") {
		v.addf("departure_date", "date_outside_year", "must be within %d", r.Year)
	}
	switch {
	case emission.IsEquipmentSubmodule(sub):
		a, okA := data[fActiveH].(int64)
		b, okB := data[fStandbyH].(int64)
		if okA && okB && a+b > 168 {
			v.addf(fActiveH, "hours_exceed_week", "active and standby hours exceed the 168 hours of a week")
		}
	case emission.IsPurchaseCategory(sub):
		s.checkCurrency(data, nil, v)
	}
	switch sub { //nolint:exhaustive // other submodules have no cross-field rule
	case emission.SubCloud:
		s.checkCurrency(data, []string{"CHF", "USD"}, v)
	case emission.SubPlane:
		return planeRules(ctx, q, data, v)
	case emission.SubTrain:
		return trainRules(ctx, q, data, stationFromName, v)
	}
	return nil
}

func (s *Service) checkCurrency(data map[string]any, extra []string, v *validator) {
	cur, ok := data["currency"].(string)
	if !ok || cur == "EUR" || slices.Contains(extra, cur) || slices.Contains(s.currencies(), cur) {
		return
	}
	v.addf("currency", "invalid_enum", "must be EUR or one of %s", strings.Join(append(slices.Clone(extra), s.currencies()...), ", "))
}

func planeRules(ctx context.Context, q *dbsqlc.Queries, data map[string]any, v *validator) error {
	o, okO := data["origin_iata"].(string)
	d, okD := data["destination_iata"].(string)
	if okO && okD && o == d {
		v.addf("destination_iata", "invalid_format", "must differ from origin_iata")
		return nil
	}
	for name, code := range map[string]string{"origin_iata": o, "destination_iata": d} {
		if code == "" {
			continue
		}
		if _, err := q.LocationGetByIATA(ctx, code); err != nil {
			if !isNoRows(err) {
				return fmt.Errorf("error loading airport %s: %w", code, err)
			}
			v.addf(name, "unknown_location", "unknown airport %s", code)
		}
	}
	slices.SortFunc(v.errs, func(a, b apperr.FieldError) int { return strings.Compare(a.Field, b.Field) })
	return nil
}

// trainStation resolves a natural key (exact, else rebuilt folded).
func trainStation(ctx context.Context, q *dbsqlc.Queries, key string) (dbsqlc.Location, bool, error) {
	l, err := q.LocationGetByNaturalKey(ctx, key)
	if isNoRows(err) {
		parts := strings.SplitN(key, ":", 3)
		if len(parts) == 3 && strings.EqualFold(parts[0], emission.ModeTrain) {
			l, err = q.LocationGetByNaturalKey(ctx, emission.TrainNaturalKey(parts[1], parts[2]))
		}
	}
	switch {
	case isNoRows(err):
		return l, false, nil
	case err != nil:
		return l, false, fmt.Errorf("error loading station %s: %w", key, err)
	}
	return l, l.TransportMode == emission.ModeTrain, nil
}

// trainRules resolves the stations of a train trip and stores their
// natural key, name and country code; an unknown station is reported on
// the key, or on the name when the key was derived from it.
func trainRules(ctx context.Context, q *dbsqlc.Queries, data map[string]any, fromName map[string]bool, v *validator) error {
	for _, end := range []string{"origin", "destination"} {
		key, ok := data[end+"_key"].(string)
		if !ok {
			continue
		}
		l, found, err := trainStation(ctx, q, key)
		if err != nil {
			return err
		}
		if !found && fromName[end] {
			v.addf(end+"_name", "unknown_location", "unknown train station %v (%v)", data[end+"_name"], data[end+"_country_code"])
			continue
		}
		if !found {
			v.addf(end+"_key", "unknown_location", "unknown train station %s", key)
			continue
		}
		data[end+"_key"] = l.NaturalKey
		data[end+"_name"] = l.Name
		if l.CountryCode != nil {
			data[end+"_country_code"] = *l.CountryCode
		}
	}
	return nil
}

// equipmentHours copies absent hours from the equipment factor
// (docs/domain.md §7.4, §9.2) and maintains hours_defaulted.
func equipmentHours(ctx context.Context, q *dbsqlc.Queries, r *resolved, data map[string]any, sent map[string]bool, stored map[string]any) error {
	defaulted := false
	if stored != nil {
		prev, _ := stored[fHoursDef].(bool)
		defaulted = prev
		classChanged := !strings.EqualFold(fmt.Sprint(stored["equipment_class"]), fmt.Sprint(data["equipment_class"])) ||
			!strings.EqualFold(fmt.Sprint(stored["sub_class"]), fmt.Sprint(data["sub_class"]))
		if prev && classChanged && !sent[fActiveH] && !sent[fStandbyH] {
			delete(data, fActiveH)
			delete(data, fStandbyH)
		}
	}
	if sent[fActiveH] || sent[fStandbyH] {
		defaulted = false
	}
	_, hasA := data[fActiveH]
	_, hasS := data[fStandbyH]
	if !hasA || !hasS {
		class, _ := data["equipment_class"].(string)
		subClass, _ := data["sub_class"].(string)
		vals, err := equipmentFactorValues(ctx, q, r, class, subClass)
		if err != nil {
			return err
		}
		for name, has := range map[string]bool{fActiveH: hasA, fStandbyH: hasS} {
			if has {
				continue
			}
			if h, ok := vals[name]; ok {
				data[name] = int64(math.Round(min(max(h, 0), 168)))
				defaulted = true
			}
		}
	}
	data[fHoursDef] = defaulted
	return nil
}

// equipmentFactorValues returns the numeric values of the equipment factor
// matching (class, sub_class), else (class) (docs/domain.md §6.3).
func equipmentFactorValues(ctx context.Context, q *dbsqlc.Queries, r *resolved, class, subClass string) (map[string]float64, error) {
	rows, err := q.FactorsByYearSubmodule(ctx, dbsqlc.FactorsByYearSubmoduleParams{Year: r.Year, Submodule: string(r.Submodule)})
	if err != nil {
		return nil, fmt.Errorf("error loading equipment factors: %w", err)
	}
	find := func(sc string) *dbsqlc.Factor {
		var hit *dbsqlc.Factor
		for i := range rows {
			var cls map[string]string
			if json.Unmarshal(rows[i].Classification, &cls) != nil {
				continue
			}
			if emission.Fold(cls["equipment_class"]) == emission.Fold(class) && emission.Fold(cls["sub_class"]) == emission.Fold(sc) {
				if hit != nil {
					return nil // ambiguous
				}
				hit = &rows[i]
			}
		}
		return hit
	}
	f := find(subClass)
	if f == nil && strings.TrimSpace(subClass) != "" {
		f = find("")
	}
	out := map[string]float64{}
	if f == nil {
		return out, nil
	}
	var raw map[string]any
	_ = json.Unmarshal(f.Values, &raw) // stored values are valid JSON; a bad one yields no defaults
	for k, val := range raw {
		switch x := val.(type) {
		case float64:
			out[k] = x
		case string:
			if n, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
				out[k] = n
			}
		}
	}
	return out, nil
}
