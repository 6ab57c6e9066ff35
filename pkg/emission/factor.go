package emission

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// FactorID is the database id of a factor (0 = none).
type FactorID int64

// Factor is one year-scoped emission factor of a submodule as stored in the
// factors table: classification (lookup keys, string values) and values
// (numbers plus a few string attributes such as unit, currency, energy_type,
// use_unit, label). Values may hold float64, int, int64, json.Number or
// numeric strings for numbers (a decoded JSONB object or raw CSV cells).
type Factor struct {
	ID             FactorID          `json:"id"`
	Submodule      SubmoduleKey      `json:"submodule"`
	Classification map[string]string `json:"classification"`
	Values         map[string]any    `json:"values"`
}

// FactorError reports a factor that NewFactorIndex rejected.
type FactorError struct {
	// Index is the position of the factor in the slice given to
	// NewFactorIndex.
	Index     int
	ID        FactorID
	Submodule SubmoduleKey
	Err       error
}

func (e *FactorError) Error() string {
	return fmt.Sprintf("factor #%d (id %d, submodule %s): %v", e.Index, e.ID, e.Submodule, e.Err)
}

func (e *FactorError) Unwrap() error { return e.Err }

// Errors returned (wrapped) for invalid factors.
var (
	ErrClassificationNotInTree = errors.New("classification_not_in_tree")
	ErrMissingValue            = errors.New("missing value")
	ErrInvalidValue            = errors.New("invalid value")
	ErrUnknownSubmodule        = errors.New("unknown submodule")
)

// cfactor is a validated, compiled factor. Only the fields of its
// submodule are meaningful.
type cfactor struct {
	id   FactorID
	node *Node // factor emission type (docs/domain.md §6.2)
	unit string

	ef float64 // the factor's main coefficient (per unit, km, kWh, kg, currency, m2; grams per request for ai)

	// headcount
	perFTE float64
	// plane
	band       string
	rfi        float64
	minD, maxD float64
	// room
	intensity  [4]float64 // lighting, cooling, ventilation, heating kWh/m2
	thermal    bool
	conversion float64
	energyType string
	// embodied
	embodiedOrder int
	// equipment
	activeW, standbyW      float64
	activeH, standbyH      float64
	hasActiveH, hasStandbH bool
	// purchases, cloud
	currency string
	label    string
	instCode string // folded
	addCode  string // folded
	// facilities
	useUnit     string // as given
	useUnitFold string
	totalUse    float64
	kgSum       float64
	hasKgSum    bool
	shares      [6]float64
	sums        [6]float64
	hasShare    [6]bool
	hasSum      [6]bool
	// train
	country string
}

// animal-facility sources (docs/domain.md §7.6).
var animalSources = []string{
	"process_emissions", "buildings_energy_combustion", "buildings_rooms",
	"purchases_common", "purchases_additional", "equipment",
}

// subIndex indexes the factors of one submodule.
type subIndex struct {
	all []*cfactor
	// by maps the folded lookup key of the submodule (see keyFields) to
	// its factors.
	by map[string][]*cfactor
	// byAdd maps a folded purchase_additional_code to its factors
	// (purchases only).
	byAdd map[string][]*cfactor
}

// FactorIndex is the compiled, read-only set of factors of one year. It is
// safe for concurrent use.
type FactorIndex struct {
	subs map[SubmoduleKey]*subIndex
	n    int
}

// keyFields are the classification keys named by a submodule's key sets
// (docs/domain.md §6.3), in key order.
func keyFields(sub SubmoduleKey) []string {
	switch {
	case IsEquipmentSubmodule(sub):
		return []string{"equipment_class", "sub_class"}
	case IsPurchaseCategory(sub):
		return []string{"purchase_institutional_code"}
	}
	switch sub { //nolint:exhaustive // others have no key
	case SubPlane:
		return []string{"cabin_class"}
	case SubTrain:
		return []string{"country_code"}
	case SubRoom:
		return []string{"building_name", "room_type"}
	case SubEnergyCombustion, SubAdditional:
		return []string{"name"}
	case SubEmbodiedEnergy:
		return []string{"building_name"}
	case SubFacility:
		return []string{"researchfacility_id"}
	case SubAnimalFacility:
		return []string{"researchfacility_id", "researchfacility_type"}
	case SubCloud:
		return []string{"service_type", "provider"}
	case SubAI:
		return []string{"provider", "usage_type"}
	case SubProcessGas:
		return []string{"category", "subcategory"}
	}
	return nil
}

// NewFactorIndex validates and compiles the factors of one year. Factors
// that fail validation are skipped and reported in the returned error
// (errors.Join of *FactorError); the returned index is always usable and
// holds every valid factor. The order of factors is kept for multi-factor
// submodules (member, student), so pass them in a stable order (e.g. by id).
func NewFactorIndex(factors []Factor) (*FactorIndex, error) {
	idx := &FactorIndex{subs: make(map[SubmoduleKey]*subIndex)}
	var errs []error
	var buf []byte
	for i := range factors {
		f := &factors[i]
		cf, err := compileFactor(f)
		if err != nil {
			errs = append(errs, &FactorError{Index: i, ID: f.ID, Submodule: f.Submodule, Err: err})
			continue
		}
		si := idx.subs[f.Submodule]
		if si == nil {
			si = &subIndex{by: make(map[string][]*cfactor)}
			idx.subs[f.Submodule] = si
		}
		si.all = append(si.all, cf)
		fields := keyFields(f.Submodule)
		if len(fields) > 0 {
			buf = buf[:0]
			for j, k := range fields {
				if j > 0 {
					buf = append(buf, keySep)
				}
				v := f.Classification[k]
				if f.Submodule == SubProcessGas && k == "category" {
					v = processCategory(v)
				}
				buf = appendFold(buf, v)
			}
			key := string(buf)
			si.by[key] = append(si.by[key], cf)
		}
		if IsPurchaseCategory(f.Submodule) && cf.addCode != "" {
			if si.byAdd == nil {
				si.byAdd = make(map[string][]*cfactor)
			}
			si.byAdd[cf.addCode] = append(si.byAdd[cf.addCode], cf)
		}
		idx.n++
	}
	if si := idx.subs[SubEmbodiedEnergy]; si != nil {
		for _, list := range si.by {
			slices.SortStableFunc(list, func(a, b *cfactor) int { return a.embodiedOrder - b.embodiedOrder })
		}
	}
	return idx, errors.Join(errs...)
}

// Len returns the number of valid factors in the index.
func (x *FactorIndex) Len() int {
	if x == nil {
		return 0
	}
	return x.n
}

// Count returns the number of valid factors of a submodule.
func (x *FactorIndex) Count(sub SubmoduleKey) int {
	if x == nil {
		return 0
	}
	if si := x.subs[sub]; si != nil {
		return len(si.all)
	}
	return 0
}

func (x *FactorIndex) sub(sub SubmoduleKey) *subIndex {
	if x == nil {
		return nil
	}
	return x.subs[sub]
}

// FactorEmissionType derives the emission type of a factor from its
// submodule and classification (docs/domain.md §6.2). It returns an error
// wrapping ErrClassificationNotInTree when the classification maps to no
// node of the tree.
func FactorEmissionType(sub SubmoduleKey, classification map[string]string) (EmissionType, error) {
	n, err := factorNode(sub, classification)
	if err != nil {
		return "", err
	}
	return n.Path, nil
}

func notInTree(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrClassificationNotInTree}, args...)...)
}

func factorNode(sub SubmoduleKey, cls map[string]string) (*Node, error) {
	get := func(k string) string { return cls[k] }
	leafUnder := func(parent, key string) (*Node, error) {
		n, ok := treeByPath[EmissionType(parent+"."+key)]
		if !ok || !n.Leaf {
			return nil, notInTree("%q is not a leaf under %s", key, parent)
		}
		return n, nil
	}
	switch {
	case IsEquipmentSubmodule(sub):
		if strings.TrimSpace(get("equipment_class")) == "" {
			return nil, fmt.Errorf("%w: equipment_class", ErrMissingValue)
		}
		return mustNode("equipment." + string(sub)), nil
	case IsPurchaseCategory(sub):
		if strings.TrimSpace(get("purchase_institutional_code")) == "" {
			return nil, fmt.Errorf("%w: purchase_institutional_code", ErrMissingValue)
		}
		return purchaseLeaf(sub), nil
	}
	switch sub { //nolint:exhaustive // the remaining ones are handled below
	case SubMember, SubStudent:
		cat, class, subclass := slug(get("headcount_category")), slug(get("headcount_class")), slug(get("headcount_subclass"))
		if cat != "food" && cat != "waste" && cat != "commuting" {
			return nil, notInTree("headcount_category %q", get("headcount_category"))
		}
		path := cat + "." + class
		if subclass != "" {
			path += "." + subclass
		}
		n, ok := treeByPath[EmissionType(path)]
		if !ok || !n.Leaf || class == "" {
			return nil, notInTree("%s is not a leaf", path)
		}
		return n, nil
	case SubPlane:
		return leafUnder("professional_travel.plane", slug(get("cabin_class")))
	case SubTrain:
		if strings.TrimSpace(get("country_code")) == "" {
			return nil, fmt.Errorf("%w: country_code", ErrMissingValue)
		}
		return mustNode("professional_travel.train"), nil
	case SubRoom:
		if strings.TrimSpace(get("building_name")) == "" {
			return nil, fmt.Errorf("%w: building_name", ErrMissingValue)
		}
		if rt := Fold(get("room_type")); rt != "" && roomTypeIndex(rt) < 0 {
			return nil, notInTree("room_type %q", get("room_type"))
		}
		return mustNode("buildings.rooms"), nil
	case SubEnergyCombustion:
		if strings.TrimSpace(get("name")) == "" {
			return nil, fmt.Errorf("%w: name", ErrMissingValue)
		}
		return fuelLeaf(get("name")), nil
	case SubEmbodiedEnergy:
		if strings.TrimSpace(get("building_name")) == "" {
			return nil, fmt.Errorf("%w: building_name", ErrMissingValue)
		}
		return leafUnder("buildings.construction_and_renovation", slug(get("category")))
	case SubAdditional:
		if strings.TrimSpace(get("name")) == "" {
			return nil, fmt.Errorf("%w: name", ErrMissingValue)
		}
		return additionalLeaf(get("name")), nil
	case SubFacility:
		if strings.TrimSpace(get("researchfacility_id")) == "" {
			return nil, fmt.Errorf("%w: researchfacility_id", ErrMissingValue)
		}
		return facilityLeaf(get("researchfacility_name")), nil
	case SubAnimalFacility:
		if strings.TrimSpace(get("researchfacility_id")) == "" {
			return nil, fmt.Errorf("%w: researchfacility_id", ErrMissingValue)
		}
		return leafUnder("research_facilities.animal", slug(get("researchfacility_type")))
	case SubCloud:
		return leafUnder("external_cloud_ai.clouds", slug(get("service_type")))
	case SubAI:
		if strings.TrimSpace(get("provider")) == "" {
			return nil, fmt.Errorf("%w: provider", ErrMissingValue)
		}
		return aiLeaf(get("provider")), nil
	case SubProcessGas:
		return leafUnder("process_emissions", processCategory(get("category")))
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownSubmodule, sub)
}

// ClassKey returns the canonical class key of a classification (docs/domain.md
// §3.4): keys sorted, "key=value" with the value folded, empty values
// omitted, pairs joined by "|".
func ClassKey(classification map[string]string) string {
	keys := make([]string, 0, len(classification))
	for k, v := range classification {
		if Fold(v) != "" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('|')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(Fold(classification[k]))
	}
	return b.String()
}

// value helpers -------------------------------------------------------------

type valueReader struct {
	vals map[string]any
	err  error
}

func (r *valueReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// num returns the numeric value of the first present key.
func (r *valueReader) num(keys ...string) (float64, bool) {
	for _, k := range keys {
		raw, ok := r.vals[k]
		if !ok || raw == nil {
			continue
		}
		var f float64
		switch v := raw.(type) {
		case float64:
			f = v
		case float32:
			f = float64(v)
		case int:
			f = float64(v)
		case int64:
			f = float64(v)
		case json.Number:
			var err error
			if f, err = v.Float64(); err != nil {
				r.fail(fmt.Errorf("%w: %s=%q", ErrInvalidValue, k, v))
				return 0, false
			}
		case string:
			s := strings.TrimSpace(v)
			if s == "" {
				continue
			}
			var err error
			if f, err = strconv.ParseFloat(s, 64); err != nil {
				r.fail(fmt.Errorf("%w: %s=%q", ErrInvalidValue, k, v))
				return 0, false
			}
		default:
			r.fail(fmt.Errorf("%w: %s has type %T", ErrInvalidValue, k, raw))
			return 0, false
		}
		if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
			r.fail(fmt.Errorf("%w: %s=%v", ErrInvalidValue, k, f))
			return 0, false
		}
		return f, true
	}
	return 0, false
}

// req returns a required numeric value.
func (r *valueReader) req(keys ...string) float64 {
	f, ok := r.num(keys...)
	if !ok && r.err == nil {
		r.fail(fmt.Errorf("%w: %s", ErrMissingValue, keys[0]))
	}
	return f
}

// opt returns an optional numeric value with a default.
func (r *valueReader) opt(def float64, keys ...string) float64 {
	if f, ok := r.num(keys...); ok {
		return f
	}
	return def
}

func (r *valueReader) str(key string) string {
	switch v := r.vals[key].(type) {
	case string:
		return strings.TrimSpace(v)
	case nil:
		return ""
	default:
		return strings.TrimSpace(fmt.Sprint(v))
	}
}

func compileFactor(f *Factor) (*cfactor, error) {
	if _, ok := submoduleByKey[f.Submodule]; !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownSubmodule, f.Submodule)
	}
	node, err := factorNode(f.Submodule, f.Classification)
	if err != nil {
		return nil, err
	}
	c := &cfactor{id: f.ID, node: node}
	r := &valueReader{vals: f.Values}
	cls := f.Classification
	sub := f.Submodule
	switch {
	case IsEquipmentSubmodule(sub):
		c.activeW = r.req("active_power_w")
		c.standbyW = r.req("standby_power_w")
		c.activeH, c.hasActiveH = r.num("active_usage_hours_per_week")
		c.standbyH, c.hasStandbH = r.num("standby_usage_hours_per_week")
		c.ef = r.req("ef_kg_co2eq_per_kwh")
		c.unit = UnitKWh
	case IsPurchaseCategory(sub):
		c.ef = r.req("ef_kg_co2eq_per_currency")
		c.currency = strings.ToUpper(r.str("currency"))
		if c.currency == "" {
			c.currency = "EUR"
		}
		c.label = r.str("label")
		if c.label == "" {
			c.label = r.str("description")
		}
		c.instCode = Fold(cls["purchase_institutional_code"])
		c.addCode = Fold(cls["purchase_additional_code"])
	}
	switch sub { //nolint:exhaustive // equipment and purchases handled above
	case SubMember, SubStudent:
		c.perFTE = r.req("number_of_unit_per_fte")
		c.ef = r.req("ef_kg_co2eq_per_unit")
		c.unit = r.str("unit")
		if c.unit == "" {
			c.unit = UnitKg
			if IsUnder(node.Path, "commuting") {
				c.unit = UnitKm
			}
		}
	case SubPlane:
		c.band = strings.TrimSpace(cls["category"])
		c.ef = r.req("ef_kg_co2eq_per_km")
		c.rfi = r.opt(1, "rfi_adjustment")
		c.minD = r.req("min_distance")
		c.maxD = r.req("max_distance")
		if r.err == nil && c.minD >= c.maxD {
			r.fail(fmt.Errorf("%w: min_distance %v ≥ max_distance %v", ErrInvalidValue, c.minD, c.maxD))
		}
		c.unit = UnitKm
	case SubTrain:
		c.ef = r.req("ef_kg_co2eq_per_km")
		c.country = strings.TrimSpace(cls["country_code"])
		c.unit = UnitKm
	case SubRoom:
		c.intensity[0] = r.req("lighting_kwh_per_square_meter")
		c.intensity[1] = r.req("cooling_kwh_per_square_meter")
		c.intensity[2] = r.req("ventilation_kwh_per_square_meter")
		c.intensity[3] = r.req("heating_kwh_per_square_meter")
		c.ef = r.req("ef_kg_co2eq_per_kwh")
		c.conversion = r.opt(1, "conversion_factor")
		if r.err == nil && c.conversion <= 0 {
			r.fail(fmt.Errorf("%w: conversion_factor must be > 0", ErrInvalidValue))
		}
		switch Fold(r.str("energy_type")) {
		case "electric", "elec", "electricity":
			c.energyType = "electric"
		case "thermal", "therm":
			c.energyType, c.thermal = "thermal", true
		case "":
			r.fail(fmt.Errorf("%w: energy_type", ErrMissingValue))
		default:
			r.fail(fmt.Errorf("%w: energy_type=%q", ErrInvalidValue, r.str("energy_type")))
		}
		c.unit = UnitKWh
	case SubEnergyCombustion:
		c.ef = r.req("ef_kg_co2eq_per_unit")
		c.unit = r.str("unit")
	case SubEmbodiedEnergy:
		c.ef = r.req("ef_kg_co2eq_per_m2", "ef_kgco2eq_per_m2")
		c.embodiedOrder = slices.Index(embodiedCategories, node.Key)
		c.unit = UnitM2
	case SubAdditional:
		c.ef = r.req("ef_kg_co2eq_per_kg")
		c.unit = UnitKg
	case SubFacility, SubAnimalFacility:
		c.useUnit = r.str("use_unit")
		c.useUnitFold = Fold(c.useUnit)
		if c.useUnitFold == "" {
			r.fail(fmt.Errorf("%w: use_unit", ErrMissingValue))
		}
		c.totalUse = r.req("total_use")
		c.unit = c.useUnit
		if sub == SubFacility {
			c.kgSum, c.hasKgSum = r.num("kg_co2eq_sum")
		} else {
			for i, s := range animalSources {
				c.shares[i], c.hasShare[i] = r.num(s + "_share")
				if c.hasShare[i] && c.shares[i] > 1 {
					r.fail(fmt.Errorf("%w: %s_share %v > 1", ErrInvalidValue, s, c.shares[i]))
				}
				c.sums[i], c.hasSum[i] = r.num("kg_co2eq_sum_" + s)
			}
		}
	case SubCloud:
		c.ef = r.req("ef_kg_co2eq_per_currency")
		c.currency = strings.ToUpper(r.str("currency"))
		if c.currency == "" {
			c.currency = "EUR"
		}
		c.unit = UnitEUR
	case SubAI:
		// Grams per request; the CSV alias ef_kg_co2eq_per_request also
		// holds grams despite its name (docs/domain.md §7.7).
		c.ef = r.req("ef_g_co2eq_per_request", "ef_kg_co2eq_per_request")
		c.unit = UnitRequest
	case SubProcessGas:
		c.ef = r.req("ef_kg_co2eq_per_unit")
		c.unit = r.str("unit")
		if c.unit == "" {
			c.unit = UnitKg
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return c, nil
}

// Leaf derivations shared by factors and entries (docs/domain.md §6.2) ----------

var combustionFuels = []string{"natural_gas", "heating_oil", "biomethane", "pellets", "forest_chips", "wood_logs"}

var fuelNodes = func() map[string]*Node {
	m := make(map[string]*Node, len(combustionFuels))
	for _, f := range combustionFuels {
		m[f] = mustNode("buildings.combustion." + f)
	}
	return m
}()

// fuelLeaf returns buildings.combustion.<fuel> or buildings.combustion.other.
func fuelLeaf(name string) *Node {
	var buf [64]byte
	if n, ok := fuelNodes[string(appendSlug(buf[:0], name))]; ok {
		return n
	}
	return mustNode("buildings.combustion.other")
}

// additionalLeaf returns purchases.additional.ln2 for the LN2 names, else
// purchases.additional.other.
func additionalLeaf(name string) *Node {
	switch Fold(name) {
	case "ln2", "liquid nitrogen", "liquid_nitrogen", "azote liquide", "n2 liquide":
		return mustNode("purchases.additional.ln2")
	}
	return mustNode("purchases.additional.other")
}

// facilityLeaf returns research_facilities.it_facilities for SCITAS and RCP.
func facilityLeaf(name string) *Node {
	switch Fold(name) {
	case "scitas", "rcp":
		return mustNode("research_facilities.it_facilities")
	}
	return mustNode("research_facilities.facilities")
}

func purchaseLeaf(sub SubmoduleKey) *Node {
	if sub == SubOtherPurchases {
		return mustNode("purchases.other")
	}
	return mustNode("purchases." + string(sub))
}

// processCategory folds a process-gas category, accepting "refrigerant" for
// "refrigerants".
func processCategory(s string) string {
	f := Fold(s)
	if f == "refrigerant" {
		return "refrigerants"
	}
	return f
}

var aiProviderLeaves = []string{"google", "mistral_ai", "anthropic", "openai", "cohere", "others"}

// AIProviderLeaf maps an AI provider text to its leaf (docs/domain.md §7.7,
// R2.1): first match wins on the folded text.
func AIProviderLeaf(provider string) Node {
	return *aiLeaf(provider)
}

func aiLeaf(provider string) *Node {
	return aiNodes[aiProviderKey(provider)]
}

var aiNodes = func() map[string]*Node {
	m := make(map[string]*Node, len(aiProviderLeaves))
	for _, k := range aiProviderLeaves {
		m[k] = mustNode("external_cloud_ai.ai." + k)
	}
	return m
}()

func aiProviderKey(provider string) string {
	var buf [64]byte
	f := string(appendFold(buf[:0], provider)) // does not escape: used for Contains only
	switch {
	case strings.Contains(f, "google") || strings.Contains(f, "gemini"):
		return "google"
	case strings.Contains(f, "mistral"):
		return "mistral_ai"
	case strings.Contains(f, "anthropic") || strings.Contains(f, "claude"):
		return "anthropic"
	case strings.Contains(f, "openai") || strings.Contains(f, "chatgpt") || strings.Contains(f, "gpt"):
		return "openai"
	case strings.Contains(f, "cohere"):
		return "cohere"
	}
	return "others"
}

func roomTypeIndex(folded string) int {
	return slices.Index(roomTypes, folded)
}
