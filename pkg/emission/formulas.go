package emission

import (
	"fmt"
	"strings"
)

// Headcount (docs/domain.md §7.1) ------------------------------------------------

// headcount emits one row per factor of the submodule's set.
func (c *calc) headcount(fte float64) {
	si := c.lk.Factors.sub(c.sub)
	if si == nil || len(si.all) == 0 {
		c.fail(StatusNoFactor, fmt.Sprintf("no %s factors for %d", c.sub, c.lk.Year))
		return
	}
	for _, f := range si.all {
		q := fte * f.perFTE
		c.emit(f.node, q*f.ef, q, f.unit, f.id, RowMeta{EF: f.ef})
	}
}

func (c *calc) student(p *Student) {
	switch {
	case p.FTE != nil:
		c.headcount(*p.FTE)
	case p.Students != nil && p.Months != nil && p.AverageFTE != nil:
		c.headcount(*p.Students * *p.Months * *p.AverageFTE / 12)
	default:
		c.fail(StatusMissingInput, "fte missing (or students, months and average_fte)")
	}
}

// Professional travel (docs/domain.md §7.2) --------------------------------------

var (
	planeLeaves = map[string]*Node{
		"economy":  mustNode("professional_travel.plane.economy"),
		"business": mustNode("professional_travel.plane.business"),
		"first":    mustNode("professional_travel.plane.first"),
	}
	trainLeaves = map[string]*Node{
		"first":  mustNode("professional_travel.train.first"),
		"second": mustNode("professional_travel.train.second"),
	}
)

func trips(n int) float64 {
	if n <= 0 {
		return 1
	}
	return float64(n)
}

func (c *calc) locationDistance(a, b *Location) float64 {
	lat1, lon1, s1 := normalizeCoords(a.Latitude, a.Longitude)
	lat2, lon2, s2 := normalizeCoords(b.Latitude, b.Longitude)
	if s1 || s2 {
		c.out.Details.CoordinatesSwapped = true
	}
	return GreatCircleKm(lat1, lon1, lat2, lon2)
}

func (c *calc) plane(p *Plane) {
	var buf [16]byte
	cabin := appendFold(buf[:0], p.CabinClass)
	leaf := planeLeaves[string(cabin)]
	if leaf == nil {
		c.fail(StatusMissingInput, fmt.Sprintf("unknown cabin class %q", p.CabinClass))
		return
	}
	c.leaf = leaf
	if p.ProviderDistanceKm != nil {
		// Tableau trips: the provider distance is the row quantity.
		c.setQty(*p.ProviderDistanceKm, UnitKm)
	}
	o, ok1 := c.lk.Locations.Airport(p.OriginIATA)
	d, ok2 := c.lk.Locations.Airport(p.DestinationIATA)
	if !ok1 || !ok2 {
		c.fail(StatusUnknownLocation, unknownLocations("airport", p.OriginIATA, ok1, p.DestinationIATA, ok2))
		return
	}
	c.out.Details.OriginName, c.out.Details.DestinationName = o.Name, d.Name
	d1 := PlaneTripKm(c.locationDistance(o, d))
	dist := d1 * trips(p.NumberOfTrips)
	c.out.Details.DistanceKm = dist
	if p.ProviderDistanceKm == nil {
		c.setQty(dist, UnitKm)
	}
	var band *cfactor
	if si := c.lk.Factors.sub(SubPlane); si != nil {
		for _, f := range si.by[string(cabin)] {
			if f.minD <= d1 && d1 < f.maxD {
				band = f
				break
			}
		}
	}
	if band == nil {
		c.fail(StatusNoFactor, fmt.Sprintf("no haul band for %v km", d1))
		return
	}
	c.use(band)
	c.out.Details.HaulBand = band.band
	c.meta = RowMeta{EF: band.ef, Band: band.band, RFI: band.rfi}
	c.emit(leaf, dist*band.ef*band.rfi, c.qty, UnitKm, band.id, c.meta)
}

func unknownLocations(kind, a string, okA bool, b string, okB bool) string {
	switch {
	case !okA && !okB:
		return fmt.Sprintf("unknown %ss %q and %q", kind, a, b)
	case !okA:
		return fmt.Sprintf("unknown %s %q", kind, a)
	default:
		return fmt.Sprintf("unknown %s %q", kind, b)
	}
}

func (c *calc) station(key, name, cc string) (*Location, bool) {
	if !isBlank(key) {
		return c.lk.Locations.Station(key)
	}
	return c.lk.Locations.StationByName(name, cc)
}

// Country-rule names recorded in RowMeta.CountryRule.
const (
	CountryRuleBothCH      = "both_ch"
	CountryRuleDestination = "destination"
	CountryRuleOrigin      = "origin"
	CountryRuleRoW         = "row_fallback"
)

func (c *calc) train(p *Train) {
	var buf [16]byte
	leaf := trainLeaves[string(appendFold(buf[:0], p.CabinClass))]
	if leaf == nil {
		c.fail(StatusMissingInput, fmt.Sprintf("unknown cabin class %q", p.CabinClass))
		return
	}
	c.leaf = leaf
	o, ok1 := c.station(p.OriginKey, p.OriginName, p.OriginCountryCode)
	d, ok2 := c.station(p.DestinationKey, p.DestinationName, p.DestinationCountryCode)
	if !ok1 || !ok2 {
		c.fail(StatusUnknownLocation, unknownLocations("station",
			firstNonBlank(p.OriginKey, p.OriginName), ok1, firstNonBlank(p.DestinationKey, p.DestinationName), ok2))
		return
	}
	c.out.Details.OriginName, c.out.Details.DestinationName = o.Name, d.Name
	d1 := TrainTripKm(c.locationDistance(o, d))
	dist := d1 * trips(p.NumberOfTrips)
	c.out.Details.DistanceKm = dist
	c.setQty(dist, UnitKm)

	oc, dc := firstNonBlank(o.CountryCode, p.OriginCountryCode), firstNonBlank(d.CountryCode, p.DestinationCountryCode)
	var country, rule string
	switch {
	case strings.EqualFold(oc, "CH") && strings.EqualFold(dc, "CH"):
		country, rule = "CH", CountryRuleBothCH
	case !strings.EqualFold(dc, "CH"):
		country, rule = dc, CountryRuleDestination
	default:
		country, rule = oc, CountryRuleOrigin
	}
	si := c.lk.Factors.sub(SubTrain)
	f, m := pick(si.get1(country))
	if m == matchNone {
		f, m = pick(si.get1("RoW"))
		rule = CountryRuleRoW
	}
	if m != matchOne {
		c.noFactor(m, fmt.Sprintf("train country %s (no RoW factor)", country))
		return
	}
	c.use(f)
	c.out.Details.FactorCountry = f.country
	c.meta = RowMeta{EF: f.ef, FactorCountry: f.country, CountryRule: rule}
	c.emit(leaf, dist*f.ef, dist, UnitKm, f.id, c.meta)
}

func firstNonBlank(a, b string) string {
	if !isBlank(a) {
		return strings.TrimSpace(a)
	}
	return strings.TrimSpace(b)
}

// Buildings (docs/domain.md §7.3) ------------------------------------------------

// roomLeaves[roomType][energy] is the leaf of an operational room row.
var roomLeaves = func() [][]*Node {
	out := make([][]*Node, len(roomTypes))
	for i, rt := range roomTypes {
		out[i] = make([]*Node, len(roomEnergies))
		for j, e := range roomEnergies {
			out[i][j] = mustNode("buildings.rooms." + e + "." + rt)
		}
	}
	return out
}()

func (c *calc) room(p *RoomEntry) {
	ref, hasRef := c.lk.Rooms.Room(p.BuildingName, p.RoomName)
	rt := p.RoomType
	if isBlank(rt) && hasRef {
		rt = ref.RoomType
	}
	var buf [32]byte
	rti := roomTypeIndex(string(appendFold(buf[:0], rt)))
	if rti < 0 {
		if isBlank(rt) {
			c.fail(StatusMissingInput, "room_type missing and the room is not in the reference data")
		} else {
			c.fail(StatusMissingInput, fmt.Sprintf("unknown room_type %q", rt))
		}
		return
	}
	var surface float64
	switch {
	case hasRef && ref.SurfaceM2 > 0:
		surface = ref.SurfaceM2
	case p.SurfaceM2 != nil && *p.SurfaceM2 > 0:
		surface = *p.SurfaceM2
	default:
		c.fail(StatusMissingInput, "surface unknown: room not in building_rooms and no surface_m2")
		return
	}
	ratio := 1.0
	if p.RoomAllocationRatio != nil {
		ratio = *p.RoomAllocationRatio
	}
	area := surface * ratio
	d := &c.out.Details
	d.SurfaceM2, d.RoomType = surface, roomTypes[rti]

	// Operational rows.
	f, m := c.lk.Factors.sub(SubRoom).resolve2(p.BuildingName, roomTypes[rti])
	if m == matchOne {
		c.use(f)
		d.EnergyType = f.energyType
		d.LightingKWhPerM2, d.CoolingKWhPerM2 = f.intensity[0], f.intensity[1]
		d.VentilationKWhPM2, d.HeatingKWhPerM2 = f.intensity[2], f.intensity[3]
		meta := RowMeta{EF: f.ef}
		leaves := roomLeaves[rti]
		for e := energyLighting; e <= energyVentilation; e++ {
			kwh := area * f.intensity[e]
			c.emit(leaves[e], kwh*f.ef, kwh, UnitKWh, f.id, meta)
			d.OperationalKg += Kg(kwh * f.ef)
		}
		kwh := area * f.intensity[3]
		kg := kwh * f.ef * f.conversion
		heat := leaves[energyHeatingElec]
		if f.thermal {
			heat = leaves[energyHeatingThermal]
		}
		c.emit(heat, kg, kwh, UnitKWh, f.id, meta)
		d.OperationalKg += Kg(kg)
	}

	// Embodied rows (D2): the building's factors, else the default ones.
	if si := c.lk.Factors.sub(SubEmbodiedEnergy); si != nil {
		list := si.get1(p.BuildingName)
		if len(list) == 0 {
			list = si.by["default"]
		}
		for _, ef := range list {
			kg := area * ef.ef
			c.emit(ef.node, kg, area, UnitM2, ef.id, RowMeta{EF: ef.ef})
			d.EmbodiedKg += Kg(kg)
		}
	}
	// Decision: a room without an operational factor still gets its
	// embodied rows, and its status reports the missing room factor.
	if m != matchOne {
		c.noFactor(m, fmt.Sprintf("room in building %q with room_type %q", strings.TrimSpace(p.BuildingName), roomTypes[rti]))
	}
}

func (c *calc) energyCombustion(p *EnergyCombustion) {
	c.leaf = fuelLeaf(p.Fuel)
	f, m := pick(c.lk.Factors.sub(SubEnergyCombustion).get1(p.Fuel))
	if m != matchOne {
		c.noFactor(m, fmt.Sprintf("fuel %q", p.Fuel))
		return
	}
	c.use(f)
	c.leaf = f.node
	c.setQty(p.Quantity, f.unit)
	c.out.Details.Unit = f.unit
	c.meta = RowMeta{EF: f.ef}
	c.emit(f.node, p.Quantity*f.ef, p.Quantity, f.unit, f.id, c.meta)
}

// Equipment (docs/domain.md §7.4) ------------------------------------------------

var equipmentLeaves = map[SubmoduleKey]*Node{
	SubScientific: mustNode("equipment.scientific"),
	SubIT:         mustNode("equipment.it"),
	SubOther:      mustNode("equipment.other"),
}

func (c *calc) equipment(p *Equipment) {
	c.leaf = equipmentLeaves[c.sub]
	f, m := c.lk.Factors.sub(c.sub).resolve2(p.EquipmentClass, p.SubClass)
	if m != matchOne {
		c.noFactor(m, fmt.Sprintf("%s equipment class %q, sub_class %q", c.sub, p.EquipmentClass, p.SubClass))
		return
	}
	c.use(f)
	d := &c.out.Details
	d.ActivePowerW, d.StandbyPowerW = f.activeW, f.standbyW
	// Decision: absent hours fall back to the factor's defaults, as the
	// write path does when it copies them (hours_defaulted).
	var ah, sh float64
	switch {
	case p.ActiveUsageHoursPerWeek != nil:
		ah = float64(*p.ActiveUsageHoursPerWeek)
	case f.hasActiveH:
		ah, d.HoursDefaulted = f.activeH, true
	default:
		c.fail(StatusMissingInput, "active_usage_hours_per_week missing")
		return
	}
	switch {
	case p.StandbyUsageHoursPerWeek != nil:
		sh = float64(*p.StandbyUsageHoursPerWeek)
	case f.hasStandbH:
		sh, d.HoursDefaulted = f.standbyH, true
	default:
		c.fail(StatusMissingInput, "standby_usage_hours_per_week missing")
		return
	}
	kwh := (ah*f.activeW + sh*f.standbyW) * 52 / 1000
	c.setQty(kwh, UnitKWh)
	c.meta = RowMeta{EF: f.ef}
	c.emit(c.leaf, kwh*f.ef, kwh, UnitKWh, f.id, c.meta)
}

// Purchases (docs/domain.md §7.5) ------------------------------------------------

// purchaseFactor applies the purchase rule within the entry's submodule.
func (c *calc) purchaseFactor(p *Purchase) (*cfactor, bool) {
	si := c.lk.Factors.sub(c.sub)
	if si == nil {
		c.fail(StatusNoFactor, fmt.Sprintf("no %s factors for %d", c.sub, c.lk.Year))
		return nil, false
	}
	if !isBlank(p.PurchaseAdditionalCode) {
		var buf [64]byte
		list := si.byAdd[string(appendFold(buf[:0], p.PurchaseAdditionalCode))]
		switch len(list) {
		case 0:
			// Decision: an unknown additional code falls back to the
			// institutional-code rule (the code average).
		case 1:
			return list[0], true
		default:
			var found *cfactor
			n := 0
			inst := appendFold(buf[:0], p.PurchaseInstitutionalCode)
			for _, f := range list {
				if f.instCode == string(inst) {
					found, n = f, n+1
				}
			}
			if n == 1 {
				return found, true
			}
			c.fail(StatusNoFactor, fmt.Sprintf("ambiguous additional code %q", p.PurchaseAdditionalCode))
			return nil, false
		}
	}
	list := si.get1(p.PurchaseInstitutionalCode)
	if len(list) == 1 {
		return list[0], true
	}
	var found *cfactor
	n := 0
	for _, f := range list {
		if f.addCode == "" {
			found, n = f, n+1
		}
	}
	if n == 1 {
		return found, true
	}
	if len(list) == 0 {
		c.fail(StatusNoFactor, fmt.Sprintf("no factor for purchase code %q", p.PurchaseInstitutionalCode))
	} else {
		c.fail(StatusNoFactor, fmt.Sprintf("ambiguous factor for purchase code %q", p.PurchaseInstitutionalCode))
	}
	return nil, false
}

func (c *calc) purchase(p *Purchase) {
	c.leaf = purchaseLeaf(c.sub)
	cur := p.Currency
	if isBlank(cur) {
		cur = "CHF"
	}
	f, ok := c.purchaseFactor(p)
	if !ok {
		c.quietEUR(p.TotalSpentAmount, cur)
		return
	}
	c.use(f)
	c.out.Details.FactorLabel = f.label
	c.spend(p.TotalSpentAmount, cur, f)
}

// quietEUR sets the override quantity in EUR when the rate is known.
func (c *calc) quietEUR(amount float64, cur string) {
	if rate, ok := c.lk.FX.PerEUR(cur); ok {
		c.setQty(amount/rate, UnitEUR)
		c.out.Details.AmountEUR = amount / rate
	}
}

// spend emits the spend-based row of docs/domain.md §6.4.
func (c *calc) spend(amount float64, cur string, f *cfactor) {
	rate, ok := c.lk.FX.PerEUR(cur)
	if !ok {
		c.fail(StatusMissingFXRate, fmt.Sprintf("no FX rate for %s in %d", strings.ToUpper(strings.TrimSpace(cur)), c.lk.Year))
		return
	}
	amountEUR := amount / rate
	c.setQty(amountEUR, UnitEUR)
	c.out.Details.AmountEUR = amountEUR
	frate, ok := c.lk.FX.PerEUR(f.currency)
	if !ok {
		c.fail(StatusMissingFXRate, fmt.Sprintf("no FX rate for %s in %d", f.currency, c.lk.Year))
		return
	}
	c.meta = RowMeta{
		EF: f.ef, Currency: strings.ToUpper(strings.TrimSpace(cur)), PerEUR: rate,
		FactorCurrency: f.currency, FactorPerEUR: frate, AmountEUR: amountEUR,
	}
	c.emit(c.leaf, amountEUR*(f.ef*frate), amountEUR, UnitEUR, f.id, c.meta)
}

func (c *calc) additional(p *Additional) {
	c.leaf = additionalLeaf(p.Name)
	qkg := p.AnnualConsumption * p.CoefToKg
	c.setQty(qkg, UnitKg)
	f, m := pick(c.lk.Factors.sub(SubAdditional).get1(p.Name))
	if m != matchOne {
		c.noFactor(m, fmt.Sprintf("additional purchase %q", p.Name))
		return
	}
	c.use(f)
	c.leaf = f.node
	c.meta = RowMeta{EF: f.ef}
	c.emit(f.node, qkg*f.ef, qkg, UnitKg, f.id, c.meta)
}

// Research facilities (docs/domain.md §7.6) --------------------------------------

// facilityUse records the facility factor, checks the use unit and returns
// the entry's share of the facility's total use.
func (c *calc) facilityUse(f *cfactor, use float64, useUnit string) (share float64, ok bool) {
	c.use(f)
	c.leaf = f.node
	var buf [64]byte
	if string(appendFold(buf[:0], useUnit)) != f.useUnitFold {
		c.fail(StatusNoFactor, fmt.Sprintf("use unit mismatch: entry %q, factor %q", strings.TrimSpace(useUnit), f.useUnit))
		return 0, false
	}
	c.setQty(use, f.useUnit)
	if f.totalUse > 0 {
		share = use / f.totalUse
	}
	c.out.Details.UseShare = share
	return share, true
}

func (c *calc) facility(p *Facility) {
	c.leaf = facilityLeaf(p.ResearchfacilityName)
	f, m := pick(c.lk.Factors.sub(SubFacility).get1(p.ResearchfacilityID))
	if m != matchOne {
		c.noFactor(m, fmt.Sprintf("research facility %q", p.ResearchfacilityID))
		return
	}
	share, ok := c.facilityUse(f, p.Use, p.UseUnit)
	if !ok {
		return
	}
	if !f.hasKgSum {
		// Decision: a facility factor without kg_co2eq_sum (not yet
		// computed) cannot be applied.
		c.fail(StatusNoFactor, fmt.Sprintf("facility factor %q has no kg_co2eq_sum", p.ResearchfacilityID))
		return
	}
	c.emit(f.node, share*f.kgSum, p.Use, f.useUnit, f.id, c.meta)
}

var animalLeaves = map[string]*Node{
	"mice": mustNode("research_facilities.animal.mice"),
	"fish": mustNode("research_facilities.animal.fish"),
}

func (c *calc) animalFacility(p *AnimalFacility) {
	var buf [32]byte
	c.leaf = animalLeaves[string(appendSlug(buf[:0], p.ResearchfacilityType))]
	f, m := pick(c.lk.Factors.sub(SubAnimalFacility).get2(p.ResearchfacilityID, p.ResearchfacilityType))
	if m != matchOne {
		c.noFactor(m, fmt.Sprintf("animal facility %q type %q", p.ResearchfacilityID, p.ResearchfacilityType))
		return
	}
	if _, ok := c.facilityUse(f, p.Use, p.UseUnit); !ok {
		return
	}
	var kg float64
	if f.totalUse > 0 {
		for i := range animalSources {
			if f.hasShare[i] && f.hasSum[i] {
				kg += p.Use * f.shares[i] / f.totalUse * f.sums[i]
			}
		}
	}
	c.emit(f.node, kg, p.Use, f.useUnit, f.id, c.meta)
}

// External cloud and AI (docs/domain.md §7.7) ------------------------------------

var cloudLeaves = map[string]*Node{
	"virtualisation": mustNode("external_cloud_ai.clouds.virtualisation"),
	"compute":        mustNode("external_cloud_ai.clouds.compute"),
	"storage":        mustNode("external_cloud_ai.clouds.storage"),
}

func (c *calc) cloud(p *Cloud) {
	var buf [32]byte
	c.leaf = cloudLeaves[string(appendFold(buf[:0], p.ServiceType))]
	if c.leaf == nil {
		c.fail(StatusMissingInput, fmt.Sprintf("unknown service_type %q", p.ServiceType))
		return
	}
	cur := p.Currency
	if isBlank(cur) {
		cur = "EUR"
	}
	f, m := c.lk.Factors.sub(SubCloud).resolve2(p.ServiceType, p.Provider)
	if m != matchOne {
		c.noFactor(m, fmt.Sprintf("cloud service %q, provider %q", p.ServiceType, p.Provider))
		c.quietEUR(p.SpentAmount, cur)
		return
	}
	c.use(f)
	c.spend(p.SpentAmount, cur, f)
}

// RequestsMidpoint maps a requests_per_user_per_day bucket to its midpoint.
func RequestsMidpoint(bucket string) (float64, bool) {
	var buf [16]byte
	switch string(appendFold(buf[:0], bucket)) {
	case "1_5":
		return 3, true
	case "5_20":
		return 12.5, true
	case "20_100":
		return 60, true
	case "gt_100":
		return 100, true
	}
	return 0, false
}

func (c *calc) ai(p *AI) {
	c.leaf = aiLeaf(p.Provider)
	c.out.Details.ProviderLeaf = c.leaf.Key
	mid, ok := RequestsMidpoint(p.RequestsPerUserPerDay)
	if !ok {
		c.fail(StatusMissingInput, fmt.Sprintf("unknown requests_per_user_per_day %q", p.RequestsPerUserPerDay))
		return
	}
	requests := mid * 5 * 46 * p.FTECount
	c.out.Details.RequestsPerYear = requests
	c.setQty(requests, UnitRequest)
	f, m := c.lk.Factors.sub(SubAI).resolve2(p.Provider, p.UsageType)
	if m != matchOne {
		c.noFactor(m, fmt.Sprintf("AI provider %q, usage_type %q", p.Provider, p.UsageType))
		return
	}
	c.use(f)
	// R2.1: one row, on the leaf of the entry's provider.
	c.meta = RowMeta{EF: f.ef}
	c.emit(c.leaf, requests*f.ef/1000, requests, UnitRequest, f.id, c.meta)
}

// Process emissions (docs/domain.md §7.8) ----------------------------------------

var processLeaves = map[string]*Node{
	"ch4":          mustNode("process_emissions.ch4"),
	"co2":          mustNode("process_emissions.co2"),
	"n2o":          mustNode("process_emissions.n2o"),
	"refrigerants": mustNode("process_emissions.refrigerants"),
}

func (c *calc) processGas(p *ProcessGas) {
	var buf [32]byte
	cat := appendFold(buf[:0], p.Category)
	if string(cat) == "refrigerant" {
		cat = append(cat[:0], "refrigerants"...)
	}
	n := processLeaves[string(cat)]
	if n == nil {
		c.fail(StatusMissingInput, fmt.Sprintf("unknown process gas category %q", p.Category))
		return
	}
	c.leaf = n
	c.setQty(p.Quantity, UnitKg)
	f, m := c.lk.Factors.sub(SubProcessGas).resolve2(n.Key, p.Subcategory)
	if m != matchOne {
		c.noFactor(m, fmt.Sprintf("process gas %q, subcategory %q", p.Category, p.Subcategory))
		return
	}
	c.use(f)
	c.setQty(p.Quantity, f.unit)
	c.out.Details.Unit = f.unit
	c.meta = RowMeta{EF: f.ef}
	c.emit(f.node, p.Quantity*f.ef, p.Quantity, f.unit, f.id, c.meta)
}
