package entry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
)

// kind is the JSON type of a payload field.
type kind int

const (
	kString kind = iota
	kNumber
	kInt
	kEnum
	kDate
	kBool
)

// access tells who may set a field.
type access int

const (
	accUser     access = iota // set by the client
	accFilled                 // accepted, but overwritten by the server (train station names)
	accReadOnly               // set by the server; ignored when a client sends it
	accSystem                 // set only by imports/Tableau; rejected on the API
)

// field is the validation rule of one payload field (docs/domain.md §7).
type field struct {
	name     string
	kind     kind
	required bool
	access   access
	minLen   int
	maxLen   int // runes; 0 = no limit
	pattern  *regexp.Regexp
	min, max float64 // numbers; NaN = unbounded
	minExcl  bool    // min is exclusive
	enum     []string
	aliases  map[string]string // enum input aliases
	upper    bool              // strings stored upper-case (IATA, currency)
	def      any               // default stored when absent
	search   bool              // searched by the list filter q
}

var (
	noBound     = math.NaN()
	sciperRe    = regexp.MustCompile(`^[A-Za-z0-9-]+$`)
	iataRe      = regexp.MustCompile(`^[A-Za-z0-9]{3}$`)
	currencyRe  = regexp.MustCompile(`^[A-Za-z]{3}$`)
	countryRe   = regexp.MustCompile(`^[A-Za-z]{2}$`)
	siusCodes   = []string{"51", "52", "53", "54", "56", "57", "58", "59"}
	roomTypes   = emission.RoomTypes()
	aiFrequency = []string{"1_5", "5_20", "20_100", "gt_100"}
)

// jsonNull is the JSON null literal (merge patch: clears a field).
const jsonNull = "null"

// Soft limits (docs/domain.md §1).
const (
	maxNote = 1000
	maxName = 300
	maxCode = 100
)

func str(name string, required bool, maxLen int) field {
	return field{name: name, kind: kString, required: required, maxLen: maxLen, min: noBound, max: noBound}
}

func num(name string, required bool, lo, hi float64) field {
	return field{name: name, kind: kNumber, required: required, min: lo, max: hi}
}

func integer(name string, required bool, lo, hi float64) field {
	return field{name: name, kind: kInt, required: required, min: lo, max: hi}
}

func enum(name string, required bool, values ...string) field {
	return field{name: name, kind: kEnum, required: required, enum: values, min: noBound, max: noBound}
}

func (f field) searchable() field { f.search = true; return f }
func (f field) upperCase() field  { f.upper = true; return f }
func (f field) withDefault(v any) field {
	f.def = v
	return f
}

func (f field) withAccess(a access) field { f.access = a; return f }

func (f field) withPattern(re *regexp.Regexp, minLen int) field {
	f.pattern, f.minLen = re, minLen
	return f
}

func (f field) exclusiveMin() field { f.minExcl = true; return f }

func (f field) withAliases(m map[string]string) field { f.aliases = m; return f }

var noteField = str("note", false, maxNote)

func sciperField() field {
	return str("user_institutional_id", true, 20).withPattern(sciperRe, 1).searchable()
}

func travelCommon() []field {
	return []field{
		sciperField(),
		{name: "departure_date", kind: kDate, min: noBound, max: noBound},
		integer("number_of_trips", false, 1, 1000).withDefault(1),
	}
}

func equipmentFields() []field {
	return []field{
		str("equipment_id", true, maxCode).searchable(),
		str("name", true, maxName).searchable(),
		str("equipment_class", true, maxName).searchable(),
		str("sub_class", false, maxName).searchable(),
		integer("active_usage_hours_per_week", false, 0, 168),
		integer("standby_usage_hours_per_week", false, 0, 168),
		{name: "hours_defaulted", kind: kBool, access: accReadOnly, min: noBound, max: noBound},
	}
}

func purchaseFields() []field {
	return []field{
		str("name", true, maxName).searchable(),
		str("supplier", false, maxName).searchable(),
		num("quantity", false, 0, noBound),
		num("total_spent_amount", true, 0, noBound),
		str("currency", false, 3).withPattern(currencyRe, 3).upperCase().withDefault("CHF"),
		str("purchase_institutional_code", true, 50).searchable(),
		str("purchase_institutional_description", false, maxNote).searchable(),
		str("purchase_additional_code", false, maxCode).searchable(),
	}
}

func facilityFields(animal bool) []field {
	fs := []field{
		str("researchfacility_id", true, maxCode).searchable(),
		str("researchfacility_name", true, maxName).searchable(),
	}
	if animal {
		fs = append(fs, enum("researchfacility_type", true, "mice", "fish"))
	}
	return append(fs, num("use", true, 0, noBound), str("use_unit", true, maxCode).searchable())
}

// fieldsOf returns the fields of a submodule in display order, note last.
//
//nolint:prealloc // the submodule cases build their own slices
func fieldsOf(sub emission.SubmoduleKey) []field {
	var fs []field
	switch {
	case emission.IsEquipmentSubmodule(sub):
		fs = equipmentFields()
	case emission.IsPurchaseCategory(sub):
		fs = purchaseFields()
	}
	switch sub { //nolint:exhaustive // equipment and purchases above; embodied_energy has no entries
	case emission.SubMember:
		fs = []field{
			str("name", true, maxName).searchable(),
			enum("sius_code", true, siusCodes...).searchable(),
			sciperField(),
			num("fte", true, 0, 1),
		}
	case emission.SubStudent:
		fs = []field{
			num("fte", false, 0, 100000),
			num("students", false, 0, noBound),
			num("months", false, 0, 12),
			num("average_fte", false, 0, 1),
		}
	case emission.SubPlane:
		fs = []field{
			str("origin_iata", true, 3).withPattern(iataRe, 3).upperCase().searchable(),
			str("destination_iata", true, 3).withPattern(iataRe, 3).upperCase().searchable(),
			enum("cabin_class", true, "economy", "business", "first"),
		}
		fs = append(fs, travelCommon()...)
		for _, name := range []string{"supplier", "ticket_number", "transport_type", "passenger_type"} {
			fs = append(fs, str(name, false, maxName).withAccess(accSystem))
		}
		fs = append(fs,
			num("provider_distance_km", false, 0, noBound).withAccess(accSystem),
			field{name: "round_trip", kind: kBool, access: accSystem, min: noBound, max: noBound})
	case emission.SubTrain:
		fs = []field{
			str("origin_key", true, maxName),
			str("destination_key", true, maxName),
			str("origin_name", false, maxName).withAccess(accFilled).searchable(),
			str("destination_name", false, maxName).withAccess(accFilled).searchable(),
			str("origin_country_code", false, 2).withPattern(countryRe, 2).upperCase().withAccess(accFilled),
			str("destination_country_code", false, 2).withPattern(countryRe, 2).upperCase().withAccess(accFilled),
			enum("cabin_class", true, "first", "second"),
		}
		fs = append(fs, travelCommon()...)
	case emission.SubRoom:
		fs = []field{
			str("building_name", true, maxName).searchable(),
			str("room_name", true, maxName).searchable(),
			enum("room_type", false, roomTypes...),
			num("room_allocation_ratio", false, 0, 1).exclusiveMin().withDefault(1),
			str("building_location", false, maxName).searchable(),
			num("surface_m2", false, 0, noBound).exclusiveMin(),
		}
	case emission.SubEnergyCombustion:
		fs = []field{str("fuel", true, maxName).searchable(), num("quantity", true, 0, noBound)}
	case emission.SubAdditional:
		fs = []field{
			str("name", true, maxName).searchable(),
			str("unit", true, maxCode).searchable(),
			num("annual_consumption", true, 0, noBound),
			num("coef_to_kg", true, 0, noBound).exclusiveMin(),
		}
	case emission.SubFacility:
		fs = facilityFields(false)
	case emission.SubAnimalFacility:
		fs = facilityFields(true)
	case emission.SubCloud:
		fs = []field{
			enum("service_type", true, "virtualisation", "compute", "storage"),
			str("provider", true, maxName).searchable(),
			num("spent_amount", true, 0, noBound),
			str("currency", false, 3).withPattern(currencyRe, 3).upperCase().withDefault("EUR"),
		}
	case emission.SubAI:
		fs = []field{
			str("provider", true, maxName).searchable(),
			str("usage_type", true, maxCode).searchable(),
			enum("requests_per_user_per_day", true, aiFrequency...),
			num("fte_count", true, 0.1, noBound),
		}
	case emission.SubProcessGas:
		fs = []field{
			enum("category", true, "co2", "ch4", "n2o", "refrigerants").
				withAliases(map[string]string{"refrigerant": "refrigerants"}),
			str("subcategory", false, maxName).searchable(),
			num("quantity", true, 0, noBound),
		}
	}
	if fs == nil {
		return nil
	}
	return append(fs, noteField.searchable())
}

// SortKeys returns the sort keys accepted by the entries list of a
// submodule (docs/api.md §5): the columns, every data field, and the computed
// travel/room keys.
func SortKeys(sub emission.SubmoduleKey) []string {
	keys := []string{"id", "created_at", "updated_at", "kg_co2eq"}
	for _, f := range fieldsOf(sub) {
		keys = append(keys, f.name)
	}
	switch sub { //nolint:exhaustive // only travel adds computed keys (room's surface_m2 is a data field)
	case emission.SubPlane, emission.SubTrain:
		keys = append(keys, "distance_km", "traveler_name")
	}
	return keys
}

// searchFields are the data fields the q filter searches.
func searchFields(sub emission.SubmoduleKey) []string {
	var out []string
	for _, f := range fieldsOf(sub) {
		if f.search {
			out = append(out, f.name)
		}
	}
	return out
}

// validator collects field errors of one payload.
type validator struct {
	errs []apperr.FieldError
}

func (v *validator) addf(name, code, format string, args ...any) {
	v.errs = append(v.errs, apperr.FieldError{Field: "data." + name, Code: code, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) err() error {
	if len(v.errs) == 0 {
		return nil
	}
	msg := "1 field is invalid"
	if len(v.errs) > 1 {
		msg = fmt.Sprintf("%d fields are invalid", len(v.errs))
	}
	return apperr.Validation(msg, v.errs...)
}

// normalize checks the raw fields of a payload (after a merge patch) and
// returns the normalized values: strings trimmed, empty optional strings
// dropped, enums lower-case, codes upper-case, integers as int64. Required
// checks and cross-field rules run later (checkRequired, rules).
// sent is the set of keys the client sent in this request: read-only and
// system fields are only checked when the client sent them.
func normalize(sub emission.SubmoduleKey, raw map[string]json.RawMessage, sent map[string]bool, v *validator) map[string]any {
	specs := fieldsOf(sub)
	out := make(map[string]any, len(raw))
	names := make([]string, 0, len(raw))
	for k := range raw {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, name := range names {
		i := slices.IndexFunc(specs, func(f field) bool { return f.name == name })
		if i < 0 {
			v.addf(name, "unknown_field", "unknown field for submodule %s", sub)
			continue
		}
		f := specs[i]
		if sent[name] {
			switch f.access {
			case accSystem:
				v.addf(name, "unknown_field", "system field, set only by imports")
				continue
			case accReadOnly:
				continue // set by the server
			case accUser, accFilled:
			}
		}
		val, ok := decodeField(f, raw[name], v)
		if ok && val != nil {
			out[name] = val
		}
	}
	return out
}

// decodeField decodes and checks one value; a nil value means absent.
func decodeField(f field, raw json.RawMessage, v *validator) (any, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == jsonNull {
		return nil, true
	}
	switch f.kind {
	case kBool:
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			v.addf(f.name, "invalid_format", "must be a boolean")
			return nil, false
		}
		return b, true
	case kNumber, kInt:
		return decodeNumber(f, raw, v)
	case kString, kEnum, kDate:
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		// sius_code: integers accepted on input.
		var n json.Number
		if f.kind == kEnum && json.Unmarshal(raw, &n) == nil {
			s = n.String()
		} else {
			v.addf(f.name, "invalid_format", "must be a string")
			return nil, false
		}
	}
	if !utf8.Valid(raw) {
		v.addf(f.name, "invalid_format", "must be valid UTF-8")
		return nil, false
	}
	if strings.IndexByte(s, 0) >= 0 { // PostgreSQL stores no NUL in text or jsonb
		v.addf(f.name, "invalid_format", "must not contain a NUL character")
		return nil, false
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, true
	}
	switch f.kind {
	case kEnum:
		s = strings.ToLower(s)
		if a, ok := f.aliases[s]; ok {
			s = a
		}
		if !slices.Contains(f.enum, s) {
			v.addf(f.name, "invalid_enum", "must be one of %s", strings.Join(f.enum, ", "))
			return nil, false
		}
		return s, true
	case kDate:
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			v.addf(f.name, "invalid_format", "must be a date YYYY-MM-DD")
			return nil, false
		}
		return s, true
	case kString, kNumber, kInt, kBool:
	}
	if f.maxLen > 0 && utf8.RuneCountInString(s) > f.maxLen {
		v.addf(f.name, "too_long", "must be at most %d characters", f.maxLen)
		return nil, false
	}
	if f.pattern != nil && !f.pattern.MatchString(s) {
		v.addf(f.name, "invalid_format", "has an invalid format")
		return nil, false
	}
	if f.upper {
		s = strings.ToUpper(s)
	}
	return s, true
}

func decodeNumber(f field, raw json.RawMessage, v *validator) (any, bool) {
	var n json.Number
	// A JSON number only: json.Number would also take a numeric string ("2").
	if raw[0] == '"' || json.Unmarshal(raw, &n) != nil {
		v.addf(f.name, "invalid_format", "must be a number")
		return nil, false
	}
	x, err := strconv.ParseFloat(n.String(), 64)
	if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
		v.addf(f.name, "invalid_format", "must be a finite number")
		return nil, false
	}
	if f.kind == kInt && x != math.Trunc(x) {
		v.addf(f.name, "invalid_format", "must be an integer")
		return nil, false
	}
	lowOK := math.IsNaN(f.min) || x > f.min || (!f.minExcl && x == f.min)
	highOK := math.IsNaN(f.max) || x <= f.max
	if !lowOK || !highOK {
		v.addf(f.name, "out_of_range", "%s", rangeMessage(f))
		return nil, false
	}
	if f.kind == kInt {
		return int64(x), true
	}
	return x, true
}

func rangeMessage(f field) string {
	fmtN := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	switch {
	case !math.IsNaN(f.min) && !math.IsNaN(f.max) && f.minExcl:
		return fmt.Sprintf("must be greater than %s and at most %s", fmtN(f.min), fmtN(f.max))
	case !math.IsNaN(f.min) && !math.IsNaN(f.max):
		return fmt.Sprintf("must be between %s and %s", fmtN(f.min), fmtN(f.max))
	case f.minExcl:
		return "must be greater than " + fmtN(f.min)
	default:
		return "must be at least " + fmtN(f.min)
	}
}

// checkRequired reports missing required fields and stores defaults.
func checkRequired(sub emission.SubmoduleKey, data map[string]any, invalid map[string]bool, v *validator) {
	for _, f := range fieldsOf(sub) {
		if _, ok := data[f.name]; ok || invalid[f.name] {
			continue
		}
		switch {
		case f.required:
			v.addf(f.name, "required", "is required")
		case f.def != nil:
			data[f.name] = f.def
		}
	}
}

// renderData returns the stored data with every field of the submodule
// present (null when absent), as the API shows it (docs/api.md §2). System
// fields appear only when set.
func renderData(sub emission.SubmoduleKey, raw json.RawMessage) map[string]any {
	var stored map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	_ = dec.Decode(&stored)
	out := make(map[string]any, len(stored)+4)
	for _, f := range fieldsOf(sub) {
		val, ok := stored[f.name]
		switch {
		case ok:
			out[f.name] = val
		case f.access == accSystem:
		case f.kind == kBool:
			out[f.name] = false
		default:
			out[f.name] = nil
		}
	}
	return out
}
