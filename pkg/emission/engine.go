package emission

import (
	"fmt"
)

// EngineVersion is stored on every emission row (emissions.engine_version).
const EngineVersion = "2025.1"

// Kg is a mass of CO2-equivalent in kilograms, unrounded.
type Kg float64

// Tonnes converts to tonnes.
func (k Kg) Tonnes() float64 { return float64(k) / 1000 }

// Physical quantity units of emission rows (docs/domain.md §5).
const (
	UnitKm      = "km"
	UnitKg      = "kg"
	UnitKWh     = "kWh"
	UnitM2      = "m2"
	UnitEUR     = "EUR"
	UnitRequest = "request"
)

// CalcStatus is the calculation status of an entry (data_entries.calc_status).
type CalcStatus string

// Calc statuses.
const (
	StatusOK              CalcStatus = "ok"
	StatusOverride        CalcStatus = "override"
	StatusNoFactor        CalcStatus = "no_factor"
	StatusMissingInput    CalcStatus = "missing_input"
	StatusUnknownLocation CalcStatus = "unknown_location"
	StatusMissingFXRate   CalcStatus = "missing_fx_rate"
	// StatusPending is set by the storage layer before a computation; the
	// engine never returns it.
	StatusPending CalcStatus = "pending"
)

// IsIssue reports whether the status counts as a calc issue (neither ok nor
// override).
func (s CalcStatus) IsIssue() bool { return s != StatusOK && s != StatusOverride }

// Entry is the engine's view of one data entry.
type Entry struct {
	Submodule SubmoduleKey
	Payload   Payload
	// KgOverride replaces the formula result with one row (R2.5); nil when
	// absent. Ignored for member, student and room.
	KgOverride *Kg
}

// Row is one emission row: kg CO2-eq of one entry on one leaf of the tree.
type Row struct {
	EmissionType EmissionType `json:"emission_type"`
	Scope        Scope        `json:"scope"`
	Category     Category     `json:"category"`
	Kg           Kg           `json:"kg_co2eq"`
	// Quantity is the physical quantity in QuantityUnit; it is meaningful
	// only when QuantityUnit is not empty (else store null).
	Quantity     float64  `json:"quantity"`
	QuantityUnit string   `json:"quantity_unit,omitempty"`
	FactorID     FactorID `json:"factor_id,omitempty"` // 0 = none
	Meta         RowMeta  `json:"meta"`
}

// HasQuantity reports whether the row carries a physical quantity.
func (r *Row) HasQuantity() bool { return r.QuantityUnit != "" }

// RowMeta holds what is needed to explain a row beyond its factor
// (emissions.meta). Zero values are omitted in JSON.
type RowMeta struct {
	// EF is the coefficient applied (kg per quantity unit; for AI grams
	// per request; for purchases and cloud kg per unit of FactorCurrency).
	EF             float64 `json:"ef,omitempty"`
	Band           string  `json:"band,omitempty"`
	RFI            float64 `json:"rfi,omitempty"`
	FactorCountry  string  `json:"factor_country,omitempty"`
	CountryRule    string  `json:"country_rule,omitempty"`
	Currency       string  `json:"currency,omitempty"`
	PerEUR         float64 `json:"per_eur,omitempty"`
	FactorCurrency string  `json:"factor_currency,omitempty"`
	FactorPerEUR   float64 `json:"factor_per_eur,omitempty"`
	AmountEUR      float64 `json:"amount_eur,omitempty"`
	Override       bool    `json:"override,omitempty"`
}

// Details are per-entry derived values shown by the API next to the entry
// (docs/api.md §2 "computed" extra keys). Only the fields of the entry's
// submodule are set.
type Details struct {
	// travel
	OriginName         string  `json:"origin_name,omitempty"`
	DestinationName    string  `json:"destination_name,omitempty"`
	DistanceKm         float64 `json:"distance_km,omitempty"`
	HaulBand           string  `json:"haul_band,omitempty"`
	FactorCountry      string  `json:"factor_country,omitempty"`
	CoordinatesSwapped bool    `json:"coordinates_swapped,omitempty"`
	// room
	SurfaceM2         float64 `json:"surface_m2,omitempty"`
	RoomType          string  `json:"room_type,omitempty"`
	EnergyType        string  `json:"energy_type,omitempty"`
	LightingKWhPerM2  float64 `json:"lighting_kwh_per_square_meter,omitempty"`
	CoolingKWhPerM2   float64 `json:"cooling_kwh_per_square_meter,omitempty"`
	VentilationKWhPM2 float64 `json:"ventilation_kwh_per_square_meter,omitempty"`
	HeatingKWhPerM2   float64 `json:"heating_kwh_per_square_meter,omitempty"`
	OperationalKg     Kg      `json:"operational_kg_co2eq,omitempty"`
	EmbodiedKg        Kg      `json:"embodied_kg_co2eq,omitempty"`
	// energy_combustion, process_gas
	Unit string `json:"unit,omitempty"`
	// equipment
	ActivePowerW   float64 `json:"active_power_w,omitempty"`
	StandbyPowerW  float64 `json:"standby_power_w,omitempty"`
	HoursDefaulted bool    `json:"hours_defaulted,omitempty"`
	// purchases, cloud
	AmountEUR   float64 `json:"amount_eur,omitempty"`
	FactorLabel string  `json:"factor_label,omitempty"`
	// ai
	ProviderLeaf    string  `json:"provider_leaf,omitempty"`
	RequestsPerYear float64 `json:"requests_per_year,omitempty"`
	// facilities
	UseShare float64 `json:"use_share,omitempty"`
	// OverrideIgnored is set when a kg override was given for a submodule
	// that does not accept one (member, student, room).
	OverrideIgnored bool `json:"override_ignored,omitempty"`
}

// Outcome is the per-entry result of Compute (the data_entries columns
// computed from the rows).
type Outcome struct {
	Status  CalcStatus
	Message string // empty when Status is ok or override
	// PrimaryFactorID is the first factor used (0 = none).
	PrimaryFactorID FactorID
	// Rows is the number of rows appended for this entry.
	Rows int
	// Kg is the sum of the entry's rows; KgAdditional the part in
	// additional categories.
	Kg           Kg
	KgAdditional Kg
	Details      Details
}

// Compute evaluates one entry and appends its emission rows to dst, like
// append: pass dst[:0] to reuse a buffer, or a growing slice to collect the
// rows of a batch. It returns the extended slice and the entry's outcome.
// When no row can be produced the outcome says why (no_factor,
// missing_input, unknown_location, missing_fx_rate). Compute is pure and
// safe for concurrent use with a shared Lookup.
func Compute(e *Entry, lk *Lookup, dst []Row) ([]Row, Outcome) {
	if lk == nil {
		lk = &Lookup{}
	}
	c := calc{lk: lk, sub: e.Submodule, rows: dst, start: len(dst)}
	info, ok := submoduleByKey[e.Submodule]
	switch {
	case !ok:
		c.fail(StatusMissingInput, fmt.Sprintf("unknown submodule %q", e.Submodule))
	case info.FactorsOnly:
		c.fail(StatusMissingInput, fmt.Sprintf("submodule %q has no entries", e.Submodule))
	case e.Payload == nil || !e.Payload.Accepts(e.Submodule):
		c.fail(StatusMissingInput, fmt.Sprintf("payload %T does not belong to submodule %q", e.Payload, e.Submodule))
	default:
		c.dispatch(e.Payload)
	}
	if e.KgOverride != nil && ok {
		if info.OverrideAllowed {
			c.override(*e.KgOverride)
		} else {
			c.out.Details.OverrideIgnored = true
		}
	}
	return c.finish()
}

// calc is the state of one computation; it lives on the stack.
type calc struct {
	lk    *Lookup
	sub   SubmoduleKey
	rows  []Row
	start int
	out   Outcome

	// What an override row needs (docs/domain.md §6.1 step 3).
	leaf     *Node
	factorID FactorID
	qty      float64
	qtyUnit  string
	meta     RowMeta
}

func (c *calc) dispatch(p Payload) {
	switch {
	case IsEquipmentSubmodule(c.sub):
		if v, ok := payloadAs[Equipment](p); ok {
			c.equipment(v)
			return
		}
	case IsPurchaseCategory(c.sub):
		if v, ok := payloadAs[Purchase](p); ok {
			c.purchase(v)
			return
		}
	}
	switch c.sub { //nolint:exhaustive // equipment and purchases above
	case SubMember:
		if v, ok := payloadAs[Member](p); ok {
			c.headcount(v.FTE)
			return
		}
	case SubStudent:
		if v, ok := payloadAs[Student](p); ok {
			c.student(v)
			return
		}
	case SubPlane:
		if v, ok := payloadAs[Plane](p); ok {
			c.plane(v)
			return
		}
	case SubTrain:
		if v, ok := payloadAs[Train](p); ok {
			c.train(v)
			return
		}
	case SubRoom:
		if v, ok := payloadAs[RoomEntry](p); ok {
			c.room(v)
			return
		}
	case SubEnergyCombustion:
		if v, ok := payloadAs[EnergyCombustion](p); ok {
			c.energyCombustion(v)
			return
		}
	case SubAdditional:
		if v, ok := payloadAs[Additional](p); ok {
			c.additional(v)
			return
		}
	case SubFacility:
		if v, ok := payloadAs[Facility](p); ok {
			c.facility(v)
			return
		}
	case SubAnimalFacility:
		if v, ok := payloadAs[AnimalFacility](p); ok {
			c.animalFacility(v)
			return
		}
	case SubCloud:
		if v, ok := payloadAs[Cloud](p); ok {
			c.cloud(v)
			return
		}
	case SubAI:
		if v, ok := payloadAs[AI](p); ok {
			c.ai(v)
			return
		}
	case SubProcessGas:
		if v, ok := payloadAs[ProcessGas](p); ok {
			c.processGas(v)
			return
		}
	}
	c.fail(StatusMissingInput, fmt.Sprintf("payload %T does not belong to submodule %q", p, c.sub))
}

// fail records the first failure; later failures keep the first message.
func (c *calc) fail(status CalcStatus, msg string) {
	if c.out.Status == "" {
		c.out.Status = status
		c.out.Message = msg
	}
}

// use records the factor the formula resolved (for overrides and the
// primary factor id).
func (c *calc) use(f *cfactor) {
	if c.factorID == 0 {
		c.factorID = f.id
	}
}

func (c *calc) setQty(q float64, unit string) {
	c.qty, c.qtyUnit = q, unit
}

func (c *calc) emit(n *Node, kg, qty float64, unit string, fid FactorID, meta RowMeta) {
	c.rows = append(c.rows, Row{
		EmissionType: n.Path,
		Scope:        n.Scope,
		Category:     n.Category,
		Kg:           Kg(kg),
		Quantity:     qty,
		QuantityUnit: unit,
		FactorID:     fid,
		Meta:         meta,
	})
}

// override replaces the formula rows by one row on the resolved leaf.
func (c *calc) override(kg Kg) {
	if c.leaf == nil || !c.leaf.Leaf {
		// The payload could not even determine a leaf (invalid enum);
		// keep the failure status.
		c.fail(StatusMissingInput, "cannot place the kg override: emission type unknown")
		return
	}
	c.rows = c.rows[:c.start]
	meta := c.meta
	meta.Override = true
	c.emit(c.leaf, float64(kg), c.qty, c.qtyUnit, c.factorID, meta)
	c.out.Status = StatusOverride
	c.out.Message = ""
}

func (c *calc) finish() ([]Row, Outcome) {
	rows := c.rows[c.start:]
	c.out.Rows = len(rows)
	for i := range rows {
		c.out.Kg += rows[i].Kg
		if rows[i].Category.IsAdditional() {
			c.out.KgAdditional += rows[i].Kg
		}
		if c.out.PrimaryFactorID == 0 {
			c.out.PrimaryFactorID = rows[i].FactorID
		}
	}
	if c.out.PrimaryFactorID == 0 {
		c.out.PrimaryFactorID = c.factorID
	}
	if c.out.Status == "" {
		c.out.Status = StatusOK
	}
	return c.rows, c.out
}

// factor resolution helpers --------------------------------------------------

type match int

const (
	matchNone match = iota
	matchOne
	matchAmbiguous
)

func pick(list []*cfactor) (*cfactor, match) {
	switch len(list) {
	case 0:
		return nil, matchNone
	case 1:
		return list[0], matchOne
	default:
		return nil, matchAmbiguous
	}
}

func (si *subIndex) get1(a string) []*cfactor {
	if si == nil {
		return nil
	}
	var buf [96]byte
	return si.by[string(appendFold(buf[:0], a))]
}

func (si *subIndex) get2(a, b string) []*cfactor {
	if si == nil {
		return nil
	}
	var buf [160]byte
	k := appendFold(buf[:0], a)
	k = append(k, keySep)
	k = appendFold(k, b)
	return si.by[string(k)]
}

// resolve2 applies the key sets (a, b); (a, b absent) of docs/domain.md §6.3.
func (si *subIndex) resolve2(a, b string) (*cfactor, match) {
	f, m := pick(si.get2(a, b))
	if m != matchNone || isBlank(b) {
		return f, m
	}
	return pick(si.get2(a, ""))
}

func isBlank(s string) bool {
	for i := range len(s) {
		switch s[i] {
		case ' ', '\t', '\n', '\r', '\v', '\f':
		default:
			return false
		}
	}
	return true
}

// noFactor records a no_factor failure for a resolution result.
func (c *calc) noFactor(m match, what string) {
	if m == matchAmbiguous {
		c.fail(StatusNoFactor, "ambiguous factor for "+what)
		return
	}
	c.fail(StatusNoFactor, "no factor for "+what)
}
