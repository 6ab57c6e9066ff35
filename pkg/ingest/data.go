//nolint:goconst // spec column and group names read better as literals in the tables
package ingest

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
)

// Module-file data groups (routed per row, docs/jobs.md §5.2).
const (
	GroupEquipment = "equipment"
	GroupPurchases = "purchases"
)

// dataSpec lists the columns and aliases of a data group (docs/jobs.md §5.2).
type dataSpec struct {
	cols    []Column
	aliases map[string]string
}

var (
	planeAliases = map[string]string{"origin": "origin_iata", "destination": "destination_iata",
		"sciper": "user_institutional_id", "class": "cabin_class", "date": "departure_date", "trips": "number_of_trips"}
	trainAliases = map[string]string{"origin": "origin_name", "destination": "destination_name",
		"origin_country": "origin_country_code", "destination_country": "destination_country_code",
		"sciper": "user_institutional_id", "class": "cabin_class", "date": "departure_date", "trips": "number_of_trips"}
	equipmentAliases = map[string]string{"class": "equipment_class", "subclass": "sub_class",
		"active_hours": "active_usage_hours_per_week", "standby_hours": "standby_usage_hours_per_week",
		"category": "equipment_category"}
	purchaseAliases = map[string]string{"amount": "total_spent_amount", "total_amount": "total_spent_amount",
		"code": "purchase_institutional_code", "additional_code": "purchase_additional_code", "category": "purchase_category"}
	facilityAliases = map[string]string{"facility_id": "researchfacility_id", "facility_name": "researchfacility_name",
		"facility_type": "researchfacility_type"}

	equipmentCols = cols(req("equipment_id", "name", "equipment_class"),
		opt("sub_class", "active_usage_hours_per_week", "standby_usage_hours_per_week"))
	purchaseCols = cols(req("name", "total_spent_amount", "purchase_institutional_code"),
		opt("supplier", "quantity", "currency", "purchase_institutional_description", "purchase_additional_code"))
)

var dataSpecs = map[string]dataSpec{
	"member": {cols: req("name", "sius_code", "user_institutional_id", "fte"),
		aliases: map[string]string{"sciper": "user_institutional_id", "function_code": "sius_code"}},
	"student": {cols: opt("fte", "students", "months", "average_fte")},
	"plane": {cols: cols(req("origin_iata", "destination_iata", "user_institutional_id", "cabin_class"),
		opt("departure_date", "number_of_trips")), aliases: planeAliases},
	"train": {cols: cols(req("origin_name", "origin_country_code", "destination_name", "destination_country_code",
		"user_institutional_id", "cabin_class"), opt("departure_date", "number_of_trips")), aliases: trainAliases},
	"room": {cols: cols(req("building_name", "room_name"),
		opt("room_type", "room_allocation_ratio", "building_location", "surface_m2")),
		aliases: map[string]string{"room_surface_square_meter": "surface_m2", "allocation_ratio": "room_allocation_ratio"}},
	"energy_combustion": {cols: cols(req("fuel", "quantity"), opt("unit")), aliases: map[string]string{"name": "fuel"}},
	GroupEquipment:      {cols: cols(req("equipment_category"), equipmentCols), aliases: equipmentAliases},
	GroupPurchases:      {cols: cols(purchaseCols, opt("purchase_category")), aliases: purchaseAliases},
	"additional": {cols: req("name", "unit", "annual_consumption", "coef_to_kg"),
		aliases: map[string]string{"consumption": "annual_consumption"}},
	"facility": {cols: req("researchfacility_id", "researchfacility_name", "use", "use_unit"), aliases: facilityAliases},
	"animal_facility": {cols: req("researchfacility_id", "researchfacility_name", "researchfacility_type", "use", "use_unit"),
		aliases: facilityAliases},
	"cloud": {cols: cols(req("service_type", "provider", "spent_amount"), opt("currency")),
		aliases: map[string]string{"amount": "spent_amount"}},
	"ai": {cols: req("provider", "usage_type", "requests_per_user_per_day", "fte_count"),
		aliases: map[string]string{"user_count": "fte_count", "requests_per_day": "requests_per_user_per_day"}},
	"process_gas": {cols: cols(req("category", "quantity"), opt("subcategory")), aliases: map[string]string{"gas": "category"}},
}

// dataSpecOf returns the spec of a group: a data group name, or a single
// equipment or purchase submodule (its module file's columns with the
// category column optional).
func dataSpecOf(group string) (dataSpec, bool) {
	if s, ok := dataSpecs[group]; ok {
		return s, true
	}
	sub := emission.SubmoduleKey(group)
	switch {
	case emission.IsEquipmentSubmodule(sub):
		return dataSpec{cols: cols(equipmentCols, opt("equipment_category")), aliases: equipmentAliases}, true
	case emission.IsPurchaseCategory(sub):
		return dataSpec{cols: cols(purchaseCols, opt("purchase_category")), aliases: purchaseAliases}, true
	}
	return dataSpec{}, false
}

// DataGroups returns the data upload groups of the sample files: every
// entry submodule except the routed ones, plus the two module files.
func DataGroups() []string {
	out := make([]string, 0, len(dataSpecs))
	for g := range dataSpecs {
		out = append(out, g)
	}
	slices.Sort(out)
	return out
}

// DataTable returns the CSV table of a data group (a submodule key, or
// "equipment" / "purchases" for module files). perYear makes
// unit_institutional_id required (per-year uploads).
func DataTable(group string, perYear bool) (*Table, error) {
	spec, ok := dataSpecOf(group)
	if !ok {
		return nil, fmt.Errorf("unknown data group %q", group)
	}
	cs := cols([]Column{{Name: "unit_institutional_id", Required: perYear}}, spec.cols, opt("note", "kg_co2eq"))
	aliases := map[string]string{
		"unit_cf": "unit_institutional_id", "cf": "unit_institutional_id",
		"centre_financier": "unit_institutional_id", "unit": "unit_institutional_id",
		"kg_co2eq_override": "kg_co2eq",
	}
	maps.Copy(aliases, spec.aliases)
	return NewTable("data_"+group, cs, aliases), nil
}

// UnitStatus is the answer of a unit resolver.
type UnitStatus int

// Unit statuses.
const (
	UnitActive UnitStatus = iota
	UnitUnknown
	UnitInactive
)

// DataOptions configure a DataParser.
type DataOptions struct {
	// PerYear requires and resolves unit_institutional_id.
	PerYear bool
	// Unit resolves a normalised cf (NormalizeUnitCF); nil accepts every
	// unit.
	Unit func(cf string) UnitStatus
	// Year, when set, requires departure dates within that year.
	Year int
	// PurchaseCategories returns the purchase categories having a factor
	// for an institutional code (and additional code when not empty); used
	// to route purchase rows without purchase_category. Nil makes the
	// category column required per row.
	PurchaseCategories func(code, additionalCode string) []emission.SubmoduleKey
	// NoData leaves DataRow.Data nil: a pass that only validates skips
	// encoding the payload (a parsed payload always encodes: its numbers
	// are finite, ParseNumber).
	NoData bool
}

// DataRow is one parsed data record: the entry's submodule, unit, payload
// and override.
type DataRow struct {
	Row, Line int
	Module    emission.ModuleKey
	Submodule emission.SubmoduleKey
	UnitCF    string // normalised unit_institutional_id ("" when absent)
	// Payload is Data decoded (a parsed row); nil when the row was built
	// from Data alone.
	Payload    emission.Payload
	Data       json.RawMessage // the payload as stored in data_entries.data
	KgOverride *float64
	// OwnerSciper is the traveller of plane and train rows.
	OwnerSciper string
}

// DataParser parses the records of a data file of one group.
type DataParser struct {
	group    string
	opts     DataOptions
	pinned   emission.SubmoduleKey // single submodule, "" for module files
	sciper   map[string]int        // member SCIPER → row (per unit)
	students map[string]int        // unit → row
}

// NewDataParser returns a parser for a data group (see DataTable).
func NewDataParser(group string, opts DataOptions) (*DataParser, error) {
	if _, ok := dataSpecOf(group); !ok {
		return nil, fmt.Errorf("unknown data group %q", group)
	}
	p := &DataParser{group: group, opts: opts, sciper: map[string]int{}, students: map[string]int{}}
	if group != GroupEquipment && group != GroupPurchases {
		p.pinned = emission.SubmoduleKey(group)
	}
	return p, nil
}

// Parse parses one record. The row is to be loaded when errs holds no
// error-severity entry (warnings such as override_ignored keep it).
func (p *DataParser) Parse(rec *Record) (DataRow, []RowError) {
	c := newCells(rec)
	row := DataRow{Row: rec.Row, Line: rec.Line}
	p.unit(c, &row)
	row.Submodule = p.route(c)
	note := c.str("note", false)
	c.maxLen("note", note, 1000)

	var payload emission.Payload
	switch {
	case row.Submodule == "":
		// routing failed; still validate nothing else
	case emission.IsEquipmentSubmodule(row.Submodule):
		payload = equipmentRow(c, note)
	case emission.IsPurchaseCategory(row.Submodule):
		payload = purchaseRow(c, note)
	default:
		payload = p.single(c, &row, note)
	}
	p.override(c, &row)
	if c.failed() || payload == nil {
		return row, c.errs
	}
	var data json.RawMessage
	if !p.opts.NoData {
		var err error
		if data, err = json.Marshal(payload); err != nil {
			c.add("", CodeOutOfRange, "error encoding the payload: "+err.Error(), "")
			return row, c.errs
		}
	}
	row.Module = emission.ModuleOf(row.Submodule)
	row.Payload, row.Data = payload, data
	// Per-file duplicates are recorded only for rows that are loaded.
	switch m := payload.(type) {
	case *emission.Member:
		key := row.UnitCF + "\x00" + m.UserInstitutionalID
		if first, dup := p.sciper[key]; dup {
			c.add("user_institutional_id", CodeDuplicateInstitutionalID,
				fmt.Sprintf("SCIPER %s already on row %d", m.UserInstitutionalID, first), m.UserInstitutionalID)
			return row, c.errs
		}
		p.sciper[key] = rec.Row
	case *emission.Student:
		if first, dup := p.students[row.UnitCF]; dup {
			c.add("", CodeDuplicateInFile, fmt.Sprintf("one student row per unit (already on row %d)", first), row.UnitCF)
			return row, c.errs
		}
		p.students[row.UnitCF] = rec.Row
	}
	return row, c.errs
}

func (p *DataParser) unit(c *cells, row *DataRow) {
	raw := c.str("unit_institutional_id", p.opts.PerYear)
	if raw == "" {
		return
	}
	row.UnitCF = NormalizeUnitCF(raw)
	if !p.opts.PerYear || p.opts.Unit == nil {
		return
	}
	switch p.opts.Unit(row.UnitCF) {
	case UnitUnknown:
		c.add("unit_institutional_id", CodeUnknownUnit, "unknown unit "+row.UnitCF, raw)
	case UnitInactive:
		c.add("unit_institutional_id", CodeInactiveUnit, "inactive unit "+row.UnitCF, raw)
	case UnitActive:
	}
}

// route returns the submodule of the row ("" after a routing error).
func (p *DataParser) route(c *cells) emission.SubmoduleKey {
	switch {
	case p.group == GroupEquipment || emission.IsEquipmentSubmodule(p.pinned):
		v := c.str("equipment_category", p.pinned == "")
		if v == "" {
			return p.pinned
		}
		sub, ok := equipmentRoutes[strings.ToLower(v)]
		if !ok {
			if p.pinned != "" {
				c.add("equipment_category", CodeCategoryMismatch, fmt.Sprintf("equipment_category %q does not match the upload's submodule %s", v, p.pinned), v)
				return ""
			}
			c.add("equipment_category", CodeInvalidEnum, "equipment_category must be one of scientific, it, other", v)
			return ""
		}
		if p.pinned != "" && sub != p.pinned {
			c.add("equipment_category", CodeCategoryMismatch, fmt.Sprintf("equipment_category %q does not match the upload's submodule %s", v, p.pinned), v)
			return ""
		}
		return sub
	case p.group == GroupPurchases || emission.IsPurchaseCategory(p.pinned):
		v := c.str("purchase_category", false)
		if v != "" {
			sub, ok := purchaseRoutes[strings.ToLower(v)]
			switch {
			case p.pinned != "" && sub != p.pinned:
				c.add("purchase_category", CodeCategoryMismatch, fmt.Sprintf("purchase_category %q does not match the upload's submodule %s", v, p.pinned), v)
				return ""
			case !ok:
				c.add("purchase_category", CodeUnknownCategory, fmt.Sprintf("unknown purchase_category %q", v), v)
				return ""
			}
			return sub
		}
		if p.pinned != "" {
			return p.pinned
		}
		if p.opts.PurchaseCategories == nil {
			c.add("purchase_category", CodeRequired, "purchase_category is required", "")
			return ""
		}
		code := c.rec.Get("purchase_institutional_code")
		if code == "" {
			return "" // reported as required by purchaseRow
		}
		add := c.rec.Get("purchase_additional_code")
		subs := p.opts.PurchaseCategories(code, add)
		switch len(subs) {
		case 1:
			return subs[0]
		case 0:
			c.add("purchase_institutional_code", CodeNoFactorForCode, "no purchase factor for code "+code, code)
		default:
			names := make([]string, len(subs))
			for i, s := range subs {
				names[i] = string(s)
			}
			c.add("purchase_institutional_code", CodeAmbiguousCategory,
				fmt.Sprintf("code %s has factors in several categories (%s)", code, strings.Join(names, ", ")), code)
		}
		return ""
	}
	return p.pinned
}

// override reads the optional kg_co2eq override (warnings only).
func (p *DataParser) override(c *cells, row *DataRow) {
	v := c.rec.Get("kg_co2eq")
	if v == "" {
		return
	}
	if info, ok := emission.LookupSubmodule(row.Submodule); ok && !info.OverrideAllowed {
		c.warn("kg_co2eq", CodeOverrideIgnored, fmt.Sprintf("kg_co2eq overrides are ignored for %s", row.Submodule), v)
		return
	}
	f, err := ParseNumber(v, c.rec.DecimalComma())
	if err != nil || f < 0 {
		c.warn("kg_co2eq", CodeOverrideIgnored, "kg_co2eq is not a number >= 0; the computed value is used", v)
		return
	}
	row.KgOverride = &f
}

func (p *DataParser) single(c *cells, row *DataRow, note string) emission.Payload {
	switch row.Submodule {
	case emission.SubMember:
		m := &emission.Member{Note: note}
		m.Name = c.str("name", true)
		c.maxLen("name", m.Name, 300)
		m.SiusCode = siusCode(c)
		m.UserInstitutionalID = sciper(c)
		m.FTE, _ = c.between("fte", true, 0, 1)
		return m
	case emission.SubStudent:
		s := &emission.Student{Note: note}
		if f, ok := c.between("fte", false, 0, 100_000); ok {
			s.FTE = &f
		}
		if f, ok := c.nonNeg("students", false); ok {
			s.Students = &f
		}
		if f, ok := c.between("months", false, 0, 12); ok {
			s.Months = &f
		}
		if f, ok := c.between("average_fte", false, 0, 1); ok {
			s.AverageFTE = &f
		}
		if s.FTE == nil && !c.failed() && (s.Students == nil || s.Months == nil || s.AverageFTE == nil) {
			c.add("fte", CodeRequired, "fte is required unless students, months and average_fte are given", "")
		}
		return s
	case emission.SubPlane:
		pl := &emission.Plane{Note: note}
		pl.OriginIATA = iata(c, "origin_iata")
		pl.DestinationIATA = iata(c, "destination_iata")
		if pl.OriginIATA != "" && pl.OriginIATA == pl.DestinationIATA {
			c.add("destination_iata", CodeOutOfRange, "destination_iata must differ from origin_iata", pl.DestinationIATA)
		}
		pl.UserInstitutionalID = sciper(c)
		pl.CabinClass = c.enum("cabin_class", true, "economy", "business", "first")
		pl.DepartureDate = p.departure(c)
		pl.NumberOfTrips = trips(c)
		row.OwnerSciper = pl.UserInstitutionalID
		return pl
	case emission.SubTrain:
		t := &emission.Train{Note: note}
		t.OriginName = c.str("origin_name", true)
		t.OriginCountryCode = country(c, "origin_country_code")
		t.DestinationName = c.str("destination_name", true)
		t.DestinationCountryCode = country(c, "destination_country_code")
		t.UserInstitutionalID = sciper(c)
		t.CabinClass = c.enum("cabin_class", true, "first", "second")
		t.DepartureDate = p.departure(c)
		t.NumberOfTrips = trips(c)
		row.OwnerSciper = t.UserInstitutionalID
		return t
	case emission.SubRoom:
		r := &emission.RoomEntry{Note: note}
		r.BuildingName = c.str("building_name", true)
		r.RoomName = c.str("room_name", true)
		r.RoomType = c.enum("room_type", false, emission.RoomTypes()...)
		if f, ok := c.num("room_allocation_ratio", false); ok {
			if f <= 0 || f > 1 {
				c.outOfRange("room_allocation_ratio", f, "> 0 and <= 1")
			} else {
				r.RoomAllocationRatio = &f
			}
		}
		r.BuildingLocation = c.str("building_location", false)
		if f, ok := c.positive("surface_m2", false); ok {
			r.SurfaceM2 = &f
		}
		return r
	case emission.SubEnergyCombustion:
		e := &emission.EnergyCombustion{Note: note}
		e.Fuel = c.str("fuel", true)
		e.Quantity, _ = c.nonNeg("quantity", true)
		return e
	case emission.SubAdditional:
		a := &emission.Additional{Note: note}
		a.Name = c.str("name", true)
		a.Unit = c.str("unit", true)
		a.AnnualConsumption, _ = c.nonNeg("annual_consumption", true)
		a.CoefToKg, _ = c.positive("coef_to_kg", true)
		return a
	case emission.SubFacility:
		f := &emission.Facility{Note: note}
		f.ResearchfacilityID = c.str("researchfacility_id", true)
		f.ResearchfacilityName = c.str("researchfacility_name", true)
		f.Use, _ = c.nonNeg("use", true)
		f.UseUnit = c.str("use_unit", true)
		return f
	case emission.SubAnimalFacility:
		f := &emission.AnimalFacility{Note: note}
		f.ResearchfacilityID = c.str("researchfacility_id", true)
		f.ResearchfacilityName = c.str("researchfacility_name", true)
		f.ResearchfacilityType = c.enum("researchfacility_type", true, "mice", "fish")
		f.Use, _ = c.nonNeg("use", true)
		f.UseUnit = c.str("use_unit", true)
		return f
	case emission.SubCloud:
		cl := &emission.Cloud{Note: note}
		cl.ServiceType = c.enum("service_type", true, "virtualisation", "compute", "storage")
		cl.Provider = c.str("provider", true)
		cl.SpentAmount, _ = c.nonNeg("spent_amount", true)
		cl.Currency = currency(c)
		return cl
	case emission.SubAI:
		a := &emission.AI{Note: note}
		a.Provider = c.str("provider", true)
		a.UsageType = c.str("usage_type", true)
		a.RequestsPerUserPerDay = c.enum("requests_per_user_per_day", true, "1_5", "5_20", "20_100", "gt_100")
		if f, ok := c.num("fte_count", true); ok {
			if f < 0.1 {
				c.outOfRange("fte_count", f, ">= 0.1")
			}
			a.FTECount = f
		}
		return a
	case emission.SubProcessGas:
		g := &emission.ProcessGas{Note: note}
		g.Category = c.enum("category", true, "co2", "ch4", "n2o", "refrigerants", "refrigerant")
		if g.Category == "refrigerant" {
			g.Category = "refrigerants"
		}
		g.Subcategory = c.str("subcategory", false)
		g.Quantity, _ = c.nonNeg("quantity", true)
		return g
	}
	c.add("", CodeInvalidEnum, fmt.Sprintf("submodule %s has no data file", row.Submodule), string(row.Submodule))
	return nil
}

func equipmentRow(c *cells, note string) emission.Payload {
	e := &emission.Equipment{Note: note}
	e.EquipmentID = c.str("equipment_id", true)
	c.maxLen("equipment_id", e.EquipmentID, 100)
	e.Name = c.str("name", true)
	e.EquipmentClass = c.str("equipment_class", true)
	e.SubClass = c.str("sub_class", false)
	hours := func(col string) *int {
		n, ok := c.integer(col, false)
		if !ok {
			return nil
		}
		if n < 0 || n > 168 {
			c.outOfRange(col, float64(n), "between 0 and 168")
			return nil
		}
		h := int(n)
		return &h
	}
	e.ActiveUsageHoursPerWeek = hours("active_usage_hours_per_week")
	e.StandbyUsageHoursPerWeek = hours("standby_usage_hours_per_week")
	if a, s := e.ActiveUsageHoursPerWeek, e.StandbyUsageHoursPerWeek; a != nil && s != nil && *a+*s > 168 {
		c.add("standby_usage_hours_per_week", CodeHoursExceedWeek,
			fmt.Sprintf("active + standby hours (%d) exceed the 168 hours of a week", *a+*s), strconv.Itoa(*a+*s))
	}
	return e
}

func purchaseRow(c *cells, note string) emission.Payload {
	pu := &emission.Purchase{Note: note}
	pu.Name = c.str("name", true)
	pu.Supplier = c.str("supplier", false)
	if f, ok := c.nonNeg("quantity", false); ok {
		pu.Quantity = &f
	}
	pu.TotalSpentAmount, _ = c.nonNeg("total_spent_amount", true)
	pu.Currency = currency(c)
	pu.PurchaseInstitutionalCode = c.str("purchase_institutional_code", true)
	c.maxLen("purchase_institutional_code", pu.PurchaseInstitutionalCode, 50)
	pu.PurchaseInstitutionalDescription = c.str("purchase_institutional_description", false)
	pu.PurchaseAdditionalCode = c.str("purchase_additional_code", false)
	return pu
}

func (p *DataParser) departure(c *cells) string {
	t, ok := c.date("departure_date", false)
	if !ok {
		return ""
	}
	if p.opts.Year != 0 && t.Year() != p.opts.Year {
		c.add("departure_date", CodeOutOfRange, fmt.Sprintf("departure_date must be in %d", p.opts.Year), c.rec.Get("departure_date"))
		return ""
	}
	return t.Format("2006-01-02")
}

func trips(c *cells) int {
	n, ok := c.integer("number_of_trips", false)
	if !ok {
		return 0
	}
	if n < 1 || n > 1000 {
		c.outOfRange("number_of_trips", float64(n), "between 1 and 1000")
		return 0
	}
	return int(n)
}

func siusCode(c *cells) string {
	v := c.str("sius_code", true)
	if v == "" {
		return ""
	}
	if n, err := ParseInt(v, c.rec.DecimalComma()); err == nil {
		v = strconv.FormatInt(n, 10)
	}
	switch v {
	case "51", "52", "53", "54", "56", "57", "58", "59":
		return v
	}
	c.add("sius_code", CodeInvalidEnum, "sius_code must be one of 51, 52, 53, 54, 56, 57, 58, 59", c.rec.Get("sius_code"))
	return ""
}

func sciper(c *cells) string {
	v := c.str("user_institutional_id", true)
	if v == "" {
		return ""
	}
	if len(v) > 20 {
		c.add("user_institutional_id", CodeTooLong, "user_institutional_id is longer than 20 characters", v)
		return ""
	}
	for i := range len(v) {
		ch := v[i]
		if (ch < 'a' || ch > 'z') && (ch < 'A' || ch > 'Z') && (ch < '0' || ch > '9') && ch != '-' {
			c.add("user_institutional_id", CodeOutOfRange, "user_institutional_id may only hold letters, digits and -", v)
			return ""
		}
	}
	return v
}

func iata(c *cells, col string) string {
	v := strings.ToUpper(c.str(col, true))
	if v != "" && !isAlpha(v, 3) {
		c.add(col, CodeOutOfRange, col+" must be a 3-letter IATA code", v)
		return ""
	}
	return v
}

func country(c *cells, col string) string {
	v := strings.ToUpper(c.str(col, true))
	if v != "" && !isAlpha(v, 2) {
		c.add(col, CodeOutOfRange, col+" must be an ISO 3166-1 alpha-2 code", v)
		return ""
	}
	return v
}

func currency(c *cells) string {
	v := strings.ToUpper(c.str("currency", false))
	if v != "" && !isAlpha(v, 3) {
		c.add("currency", CodeInvalidEnum, "currency must be an ISO 4217 code", v)
		return ""
	}
	return v
}
