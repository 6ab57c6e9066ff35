//nolint:goconst // spec column and group names read better as literals in the tables
package ingest

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
)

// numKind is the validation rule of a numeric factor value.
type numKind int

const (
	numNonNeg   numKind = iota // ≥ 0
	numShare                   // in [0, 1]
	numPositive                // > 0
	numRFI                     // ≥ 1 (docs/domain.md §7.2)
	numHours                   // 0..168
)

type numSpec struct {
	name     string
	required bool
	kind     numKind
}

type strSpec struct {
	name     string
	required bool
	storeAs  string // values key, default name
	def      string // default value when empty
	upper    bool
	enum     []string
}

// factorSpec describes a factor upload group (docs/jobs.md §5.4).
type factorSpec struct {
	cls      []Column // classification columns (required ones bold in §5.4)
	route    string   // routing column of module files
	nums     []numSpec
	strs     []strSpec
	aliases  map[string]string
	sub      emission.SubmoduleKey // fixed submodule when route == ""
	routeMap map[string]emission.SubmoduleKey
}

var headcountFactor = factorSpec{
	cls:  cols(req("headcount_category", "headcount_class"), opt("headcount_subclass")),
	nums: []numSpec{{"number_of_unit_per_fte", true, numNonNeg}, {"ef_kg_co2eq_per_unit", true, numNonNeg}},
	strs: []strSpec{{name: "unit", required: true}},
}

var equipmentRoutes = map[string]emission.SubmoduleKey{
	"scientific": emission.SubScientific, "it": emission.SubIT, "other": emission.SubOther,
}

var purchaseRoutes = func() map[string]emission.SubmoduleKey {
	m := map[string]emission.SubmoduleKey{}
	for _, s := range emission.Submodules() {
		if emission.IsPurchaseCategory(s.Key) {
			m[string(s.Key)] = s.Key
		}
	}
	m["biological_chemical_gaseous_product"] = emission.SubBiologicalChemicalGaseous
	return m
}()

var animalSources = []string{
	"process_emissions", "buildings_energy_combustion", "buildings_rooms",
	"purchases_common", "purchases_additional", "equipment",
}

var factorSpecs = func() map[string]factorSpec {
	m := map[string]factorSpec{
		"member":  headcountFactor,
		"student": headcountFactor,
		"plane": {
			cls: req("category", "cabin_class"),
			nums: []numSpec{{"ef_kg_co2eq_per_km", true, numPositive}, {"rfi_adjustment", false, numRFI},
				{"min_distance", true, numNonNeg}, {"max_distance", true, numNonNeg}},
		},
		"train": {cls: req("country_code"), nums: []numSpec{{"ef_kg_co2eq_per_km", true, numNonNeg}}},
		"room": {
			cls: cols(req("building_name"), opt("room_type")),
			nums: []numSpec{
				{"lighting_kwh_per_square_meter", true, numNonNeg}, {"cooling_kwh_per_square_meter", true, numNonNeg},
				{"ventilation_kwh_per_square_meter", true, numNonNeg}, {"heating_kwh_per_square_meter", true, numNonNeg},
				{"ef_kg_co2eq_per_kwh", true, numNonNeg}, {"conversion_factor", false, numPositive},
			},
			strs: []strSpec{{name: "energy_type", required: true, enum: []string{"electric", "thermal", "elec", "electricity", "therm"}}},
		},
		"energy_combustion": {
			cls: req("name"), nums: []numSpec{{"ef_kg_co2eq_per_unit", true, numNonNeg}},
			strs: []strSpec{{name: "unit", required: true}},
		},
		"embodied_energy": {
			cls: req("building_name", "category"), nums: []numSpec{{"ef_kg_co2eq_per_m2", true, numNonNeg}},
			aliases: map[string]string{"ef_kgco2eq_per_m2": "ef_kg_co2eq_per_m2"},
		},
		"equipment": {
			route: "equipment_category", routeMap: equipmentRoutes,
			cls: cols(req("equipment_class"), opt("sub_class")),
			nums: []numSpec{{"active_power_w", true, numNonNeg}, {"standby_power_w", true, numNonNeg},
				{"active_usage_hours_per_week", true, numHours}, {"standby_usage_hours_per_week", true, numHours},
				{"ef_kg_co2eq_per_kwh", true, numNonNeg}},
		},
		"purchases": {
			route: "purchase_category", routeMap: purchaseRoutes,
			cls:  cols(req("purchase_institutional_code"), opt("purchase_additional_code")),
			nums: []numSpec{{"ef_kg_co2eq_per_currency", true, numNonNeg}},
			strs: []strSpec{{name: "currency", def: "EUR", upper: true},
				{name: "purchase_institutional_description", storeAs: "description"},
				{name: "label"}, {name: "translation_key"}},
		},
		"additional": {cls: req("name"), nums: []numSpec{{"ef_kg_co2eq_per_kg", true, numNonNeg}}},
		"facility": {
			cls:  req("researchfacility_id", "researchfacility_name"),
			nums: []numSpec{{"total_use", true, numNonNeg}, {"kg_co2eq_sum", false, numNonNeg}},
			strs: []strSpec{{name: "use_unit", required: true}},
		},
		"animal_facility": {
			cls:  req("researchfacility_id", "researchfacility_name", "researchfacility_type"),
			nums: []numSpec{{"total_use", true, numNonNeg}},
			strs: []strSpec{{name: "use_unit", required: true}},
			aliases: map[string]string{
				"processemissions_share":           "process_emissions_share",
				"building_energycombustions_share": "buildings_energy_combustion_share",
				"building_rooms_share":             "buildings_rooms_share",
				"equipments_share":                 "equipment_share",
			},
		},
		"cloud": {
			cls:  cols(req("service_type"), opt("provider")),
			nums: []numSpec{{"ef_kg_co2eq_per_currency", true, numNonNeg}},
			strs: []strSpec{{name: "currency", def: "EUR", upper: true}},
		},
		"ai": {
			cls:     cols(req("provider"), opt("usage_type")),
			nums:    []numSpec{{"ef_g_co2eq_per_request", true, numNonNeg}},
			aliases: map[string]string{"ef_kg_co2eq_per_request": "ef_g_co2eq_per_request"},
		},
		"process_gas": {
			cls:  cols(req("category"), opt("subcategory")),
			nums: []numSpec{{"ef_kg_co2eq_per_unit", true, numNonNeg}},
			strs: []strSpec{{name: "unit"}},
		},
	}
	af := m["animal_facility"]
	for _, s := range animalSources {
		af.nums = append(af.nums, numSpec{s + "_share", false, numShare}, numSpec{"kg_co2eq_sum_" + s, false, numNonNeg})
	}
	m["animal_facility"] = af
	for g, s := range m {
		if s.route == "" {
			s.sub = emission.SubmoduleKey(g)
			m[g] = s
		}
	}
	return m
}()

// FactorGroups returns the factor upload groups (docs/domain.md §4), sorted.
func FactorGroups() []string {
	out := make([]string, 0, len(factorSpecs))
	for g := range factorSpecs {
		out = append(out, g)
	}
	slices.Sort(out)
	return out
}

// FactorGroupSubmodules returns the submodules a factor upload group
// writes: one, or the routed submodules of the equipment and purchases
// module files.
func FactorGroupSubmodules(group string) []emission.SubmoduleKey {
	spec, ok := factorSpecs[group]
	if !ok {
		return nil
	}
	if spec.route == "" {
		return []emission.SubmoduleKey{spec.sub}
	}
	var out []emission.SubmoduleKey
	for _, s := range emission.Submodules() {
		if slices.Contains(mapsValues(spec.routeMap), s.Key) {
			out = append(out, s.Key)
		}
	}
	return out
}

func mapsValues(m map[string]emission.SubmoduleKey) []emission.SubmoduleKey {
	out := make([]emission.SubmoduleKey, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// FactorTable returns the CSV table of a factor upload group (docs/jobs.md §5.4).
// A `year` column is ignored like any unknown column.
func FactorTable(group string) (*Table, error) {
	spec, ok := factorSpecs[group]
	if !ok {
		return nil, fmt.Errorf("unknown factor group %q", group)
	}
	var cs []Column
	if spec.route != "" {
		cs = append(cs, Column{Name: spec.route, Required: true})
	}
	cs = append(cs, spec.cls...)
	for _, n := range spec.nums {
		cs = append(cs, Column{Name: n.name, Required: n.required})
	}
	for _, s := range spec.strs {
		cs = append(cs, Column{Name: s.name, Required: s.required})
	}
	return NewTable("factors_"+group, cs, spec.aliases), nil
}

// FactorRow is one parsed factor row: the factor identity, its derived
// emission type and its values (numbers as float64, string attributes as
// strings), ready for FactorUpsert.
type FactorRow struct {
	Row, Line      int
	Module         emission.ModuleKey
	Submodule      emission.SubmoduleKey
	Classification map[string]string
	ClassKey       string
	EmissionType   emission.EmissionType
	Values         map[string]any
}

// Factor returns the row as an engine factor (id 0).
func (f *FactorRow) Factor() emission.Factor {
	return emission.Factor{Submodule: f.Submodule, Classification: f.Classification, Values: f.Values}
}

// FactorParser parses the records of one factor file. Later duplicates of
// an identity (submodule, class_key) are rejected (duplicate_in_file);
// plane bands are checked by Finish.
type FactorParser struct {
	group string
	spec  factorSpec
	// Pinned restricts a module file to one submodule (category_mismatch
	// for rows routed elsewhere); empty accepts every routed submodule.
	pinned emission.SubmoduleKey
	seen   map[string]int // submodule + class_key → row
	bands  map[string][]band
}

type band struct {
	row      int
	category string
	min, max float64
}

// NewFactorParser returns a parser for a factor upload group. For the
// equipment and purchases groups pinned may name one routed submodule.
func NewFactorParser(group string, pinned emission.SubmoduleKey) (*FactorParser, error) {
	spec, ok := factorSpecs[group]
	if !ok {
		return nil, fmt.Errorf("unknown factor group %q", group)
	}
	return &FactorParser{group: group, spec: spec, pinned: pinned, seen: map[string]int{}, bands: map[string][]band{}}, nil
}

// Parse parses one record. The row is valid (to be upserted) when errs
// holds no error-severity entry.
func (p *FactorParser) Parse(rec *Record) (FactorRow, []RowError) {
	c := newCells(rec)
	row := FactorRow{Row: rec.Row, Line: rec.Line, Classification: map[string]string{}, Values: map[string]any{}}
	spec := p.spec
	row.Submodule = spec.sub
	if spec.route != "" {
		v := c.str(spec.route, true)
		if v != "" {
			sub, ok := spec.routeMap[strings.ToLower(v)]
			switch {
			case !ok:
				c.add(spec.route, CodeUnknownCategory, fmt.Sprintf("unknown %s %q", spec.route, v), v)
			case p.pinned != "" && sub != p.pinned:
				c.add(spec.route, CodeCategoryMismatch, fmt.Sprintf("%s %q does not match the upload's submodule %s", spec.route, v, p.pinned), v)
			default:
				row.Submodule = sub
			}
		}
	}
	for _, col := range spec.cls {
		v := c.str(col.Name, col.Required)
		row.Classification[col.Name] = v
	}
	for _, n := range spec.nums {
		var f float64
		var ok bool
		switch n.kind {
		case numShare:
			f, ok = c.between(n.name, n.required, 0, 1)
		case numPositive:
			f, ok = c.positive(n.name, n.required)
		case numRFI:
			f, ok = c.num(n.name, n.required)
			if ok && f < 1 {
				c.outOfRange(n.name, f, ">= 1")
				ok = false
			}
		case numHours:
			f, ok = c.between(n.name, n.required, 0, 168)
		default:
			f, ok = c.nonNeg(n.name, n.required)
		}
		if ok {
			row.Values[n.name] = f
		}
	}
	for _, s := range spec.strs {
		v := c.str(s.name, s.required)
		if v == "" {
			v = s.def
		}
		if v == "" {
			continue
		}
		if len(s.enum) > 0 {
			e, err := ParseEnum(v, s.enum...)
			if err != nil {
				c.add(s.name, CodeInvalidEnum, fmt.Sprintf("%s must be one of %s", s.name, strings.Join(s.enum, ", ")), v)
				continue
			}
			v = e
		}
		if s.upper {
			v = strings.ToUpper(v)
			if !isCurrencyCode(v) {
				c.add(s.name, CodeInvalidEnum, s.name+" must be a three-letter currency code (ISO 4217: EUR, CHF, USD…)", v)
				continue
			}
		}
		key := s.storeAs
		if key == "" {
			key = s.name
		}
		row.Values[key] = v
	}
	if u, ok := row.Values["unit"].(string); ok && (p.group == "member" || p.group == "student") {
		cat := emission.Fold(row.Classification["headcount_category"])
		if want, known := headcountUnits[cat]; known {
			if strings.EqualFold(u, want) {
				row.Values["unit"] = want
			} else {
				c.add("unit", CodeInvalidEnum, fmt.Sprintf("unit must be %s for %s factors", want, cat), u)
			}
		}
	}
	if p.group == "facility" {
		if _, ok := row.Values["kg_co2eq_sum"]; ok {
			row.Values["kg_co2eq_sum_from_csv"] = true
		}
	}
	if p.group == "plane" {
		lo, okLo := row.Values["min_distance"].(float64)
		hi, okHi := row.Values["max_distance"].(float64)
		if okLo && okHi && lo >= hi {
			c.add("max_distance", CodeOutOfRange, "min_distance must be < max_distance",
				strconv.FormatFloat(hi, 'g', -1, 64))
		}
	}
	if c.failed() {
		return row, c.errs
	}
	row.Module = emission.ModuleOf(row.Submodule)
	et, err := emission.FactorEmissionType(row.Submodule, row.Classification)
	if err != nil {
		code := CodeClassificationNotInTree
		if !errors.Is(err, emission.ErrClassificationNotInTree) {
			code = CodeRequired
		}
		c.add("", code, err.Error(), strings.Join(classValues(spec, row.Classification), ","))
		return row, c.errs
	}
	row.EmissionType = et
	// Final consistency check with the engine's own factor compiler.
	if _, err := emission.NewFactorIndex([]emission.Factor{row.Factor()}); err != nil {
		msg := err.Error()
		if fe, ok := errors.AsType[*emission.FactorError](err); ok {
			msg = fe.Err.Error()
		}
		c.add("", CodeOutOfRange, msg, "")
		return row, c.errs
	}
	// Classification values are stored trimmed; empty optional keys are
	// dropped (they are absent from the class key too).
	for k, v := range row.Classification {
		if v == "" {
			delete(row.Classification, k)
		}
	}
	row.ClassKey = emission.ClassKey(row.Classification)
	id := string(row.Submodule) + "\x00" + row.ClassKey
	if first, dup := p.seen[id]; dup {
		c.add("", CodeDuplicateInFile, fmt.Sprintf("same factor as row %d (%s)", first, row.ClassKey), row.ClassKey)
		return row, c.errs
	}
	p.seen[id] = rec.Row
	if p.group == "plane" {
		cabin := emission.Fold(row.Classification["cabin_class"])
		p.bands[cabin] = append(p.bands[cabin], band{row: rec.Row, category: row.Classification["category"],
			min: row.Values["min_distance"].(float64), max: row.Values["max_distance"].(float64)}) //nolint:forcetypeassert // set above
	}
	return row, c.errs
}

// headcountUnits is the unit of the quantity of a headcount factor per
// category (docs/domain.md §7.1): kg of food and waste, km of commuting.
var headcountUnits = map[string]string{"food": "kg", "waste": "kg", "commuting": "km"}

// isCurrencyCode reports whether v is shaped like an ISO 4217 code (three
// upper-case letters), as fx_rates.currency is.
func isCurrencyCode(v string) bool {
	if len(v) != 3 {
		return false
	}
	for i := range 3 {
		if v[i] < 'A' || v[i] > 'Z' {
			return false
		}
	}
	return true
}

func classValues(spec factorSpec, cls map[string]string) []string {
	out := make([]string, 0, len(spec.cls))
	for _, c := range spec.cls {
		out = append(out, cls[c.Name])
	}
	return out
}

// Finish runs the whole-file checks once every record was parsed: plane
// bands of one cabin class must not overlap (*FileError
// overlapping_bands).
func (p *FactorParser) Finish() error {
	cabins := make([]string, 0, len(p.bands))
	for c := range p.bands {
		cabins = append(cabins, c)
	}
	slices.Sort(cabins)
	for _, cabin := range cabins {
		bs := p.bands[cabin]
		sort.SliceStable(bs, func(i, j int) bool { return bs[i].min < bs[j].min })
		for i := 1; i < len(bs); i++ {
			if bs[i].min < bs[i-1].max {
				return &FileError{Code: CodeOverlappingBands, Message: fmt.Sprintf(
					"%s bands %s [%g, %g) (row %d) and %s [%g, %g) (row %d) overlap", cabin,
					bs[i-1].category, bs[i-1].min, bs[i-1].max, bs[i-1].row, bs[i].category, bs[i].min, bs[i].max, bs[i].row)}
			}
		}
	}
	return nil
}

// Factors given by name instead of as a CSV row (the factor API,
// docs/api.md §8) are validated by the parser of their factor file:
// ParseFactor lays the named cells out as one row of the submodule's file
// and parses it, so that a factor created or edited through the API obeys
// exactly the rules of a factor CSV row (docs/jobs.md §5.4) — required
// columns, number formats and ranges, enumerations, units, the emission
// type of the classification, the engine's own compilation.

// FactorField is one field of a submodule's factor: a column of its factor
// file, stored in the factor's classification or values under Key.
type FactorField struct {
	// Column is the canonical column of the factor file.
	Column string
	// Key is where the value is stored: the column name, except
	// `description` for purchase_institutional_description.
	Key            string
	Classification bool
	Required       bool
}

// factorSpecOf returns the factor upload group a submodule's factors
// belong to, and its spec.
func factorSpecOf(sub emission.SubmoduleKey) (string, factorSpec, bool) {
	for _, g := range FactorGroups() {
		if slices.Contains(FactorGroupSubmodules(g), sub) {
			return g, factorSpecs[g], true
		}
	}
	return "", factorSpec{}, false
}

// FactorFields lists the fields of a submodule's factor in the column order
// of its factor file (classification first); false for a submodule without
// factors. The routing column of the equipment and purchases module files
// is not a field: the submodule names it.
func FactorFields(sub emission.SubmoduleKey) ([]FactorField, bool) {
	_, spec, ok := factorSpecOf(sub)
	if !ok {
		return nil, false
	}
	out := make([]FactorField, 0, len(spec.cls)+len(spec.nums)+len(spec.strs))
	for _, c := range spec.cls {
		out = append(out, FactorField{Column: c.Name, Key: c.Name, Classification: true, Required: c.Required})
	}
	for _, n := range spec.nums {
		out = append(out, FactorField{Column: n.name, Key: n.name, Required: n.required})
	}
	for _, st := range spec.strs {
		key := st.storeAs
		if key == "" {
			key = st.name
		}
		out = append(out, FactorField{Column: st.name, Key: key, Required: st.required})
	}
	return out, true
}

// FactorFieldByName resolves a field of a submodule's factor named by its
// column, one of the column's aliases or its stored key.
func FactorFieldByName(sub emission.SubmoduleKey, name string) (FactorField, bool) {
	_, spec, ok := factorSpecOf(sub)
	if !ok {
		return FactorField{}, false
	}
	if canon, alias := spec.aliases[name]; alias {
		name = canon
	}
	fields, _ := FactorFields(sub)
	for _, f := range fields {
		if f.Column == name || f.Key == name {
			return f, true
		}
	}
	return FactorField{}, false
}

// ParseFactor validates one factor of submodule sub given as its cells by
// canonical column (FactorField.Column), exactly as a row of the
// submodule's factor file with a `,` delimiter: the row errors are the
// ones a CSV import would report for that row (their Column names the
// field; whole-row errors such as classification_not_in_tree have none).
// An error is returned for a submodule without factors or a cell of an
// unknown column.
func ParseFactor(sub emission.SubmoduleKey, cells map[string]string) (FactorRow, []RowError, error) {
	group, spec, ok := factorSpecOf(sub)
	if !ok {
		return FactorRow{}, nil, fmt.Errorf("%w %q: no factors", emission.ErrUnknownSubmodule, sub)
	}
	tbl, err := FactorTable(group)
	if err != nil {
		return FactorRow{}, nil, err
	}
	r := &Reader{table: tbl, opts: (*Options)(nil).withDefaults(), comma: ',', colIdx: make(map[string]int, len(tbl.Columns))}
	fields := make([]string, len(tbl.Columns))
	for i, c := range tbl.Columns {
		r.colIdx[c.Name] = i
	}
	var pinned emission.SubmoduleKey
	if spec.route != "" {
		pinned = sub
		fields[r.colIdx[spec.route]] = string(sub)
	}
	for col, v := range cells {
		i, known := r.colIdx[col]
		if !known || col == spec.route {
			return FactorRow{}, nil, fmt.Errorf("no column %q in the %s factor file", col, group)
		}
		fields[i] = v
	}
	rec := &Record{Row: 1, Line: 2, r: r, fields: fields}
	r.checkCells(rec)
	p, err := NewFactorParser(group, pinned)
	if err != nil {
		return FactorRow{}, nil, err
	}
	row, errs := p.Parse(rec)
	return row, errs, nil
}
