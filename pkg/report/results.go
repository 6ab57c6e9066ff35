package report

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// DefaultCarKgPerKm is the default CAR_KG_PER_KM.
const DefaultCarKgPerKm = 0.2996

// Scope of a breakdown (D9).
const (
	ScopeValidated = "validated"
	ScopeAll       = "all"
)

// Options are the query options of the results endpoints.
type Options struct {
	// Scope is validated (default) or all; the summary and the yearly
	// series are always validated-only (D9).
	Scope string
	// ExcludeModules are removed from every figure.
	ExcludeModules []string
	// CarKgPerKm defaults to DefaultCarKgPerKm.
	CarKgPerKm float64
	// Cache, when not nil, serves the summary's reads (never set it for a
	// read inside a transaction that writes them).
	Cache *Cache
}

// ParseScope validates a scope query value ("" is validated).
func ParseScope(s string) (string, error) {
	switch s {
	case "", ScopeValidated:
		return ScopeValidated, nil
	case ScopeAll:
		return ScopeAll, nil
	}
	return "", apperr.Validation("invalid query parameter", apperr.FieldError{
		Field: "scope", Code: detailInvalidEnum, Message: "must be validated or all",
	})
}

// ParseExcludeModules validates exclude_modules values (repeated or comma
// separated).
func ParseExcludeModules(values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		for m := range strings.SplitSeq(v, ",") {
			m = strings.TrimSpace(m)
			if m == "" {
				continue
			}
			if !IsModule(m) {
				return nil, apperr.Validation("invalid query parameter", apperr.FieldError{
					Field: "exclude_modules", Code: detailInvalidEnum, Message: fmt.Sprintf("unknown module %q", m),
				})
			}
			out = append(out, m)
		}
	}
	return out, nil
}

// yearData is the pre-aggregated state of one report: its modules' stats.
type yearData struct {
	year    int32
	cfg     YearConfig
	modules []moduleData // display order
}

type moduleData struct {
	module    string
	status    string
	enabled   bool
	recomp    bool
	stats     *ModuleStats
	validated bool // enabled and validated
}

// included reports whether a module counts for a scope after exclusions.
func (m *moduleData) included(scope string, exclude []string) bool {
	if !m.enabled || slices.Contains(exclude, m.module) {
		return false
	}
	return scope == ScopeAll || m.validated
}

// statsCache keeps decoded report_modules.stats by their JSON text: the
// results endpoints read the same few modules over and over (a results
// page polls), and decoding is most of their cost. A decoded value is
// shared by every reader: it must never be modified (copy a slice or a map
// before changing it). Bounded: emptied when full.
type statsCache struct {
	mu sync.Mutex
	m  map[string]*ModuleStats
}

// maxCachedStats bounds statsCache (a module's decoded stats are a few KiB
// to a few tens of KiB).
const maxCachedStats = 1024

var decodedStats = &statsCache{m: map[string]*ModuleStats{}}

func (c *statsCache) get(raw string) (*ModuleStats, error) {
	c.mu.Lock()
	s, ok := c.m[raw]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	s, err := DecodeModuleStats([]byte(raw))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.m) >= maxCachedStats {
		clear(c.m)
	}
	c.m[raw] = s
	c.mu.Unlock()
	return s, nil
}

// loadYearsCached is loadYears through c (nil: no cache).
func loadYearsCached(ctx context.Context, db postgres.DBTX, c *Cache, unitID int64, years []int32) (map[int32]*yearData, error) {
	out, seq, ok := c.get(unitID, years)
	if ok {
		return out, nil
	}
	out, err := loadYears(ctx, db, unitID, years)
	if err != nil {
		return nil, err
	}
	c.put(unitID, years, out, seq)
	return out, nil
}

// loadYears reads the stats of a unit's report modules for some years (all
// when years is empty, never nil): one indexed read.
func loadYears(ctx context.Context, db postgres.DBTX, unitID int64, years []int32) (map[int32]*yearData, error) {
	rows, err := dbsqlc.New(db).ResultsModules(ctx, dbsqlc.ResultsModulesParams{UnitID: unitID, Years: years})
	if err != nil {
		return nil, fmt.Errorf("error reading results: %w", err)
	}
	out := map[int32]*yearData{}
	for _, r := range rows {
		yd := out[r.Year]
		if yd == nil {
			cfg, err := ParseYearConfig([]byte(r.YearConfig))
			if err != nil {
				return nil, err
			}
			yd = &yearData{year: r.Year, cfg: cfg}
			out[r.Year] = yd
		}
		s, err := decodedStats.get(r.Stats)
		if err != nil {
			return nil, err
		}
		enabled := yd.cfg.ModuleEnabled(r.Module)
		yd.modules = append(yd.modules, moduleData{
			module: r.Module, status: r.Status, enabled: enabled, recomp: r.RecomputedAfterValidation, stats: s,
			validated: enabled && r.Status == StatusValidated,
		})
	}
	return out, nil
}

func (yd *yearData) module(key string) *moduleData {
	for i := range yd.modules {
		if yd.modules[i].module == key {
			return &yd.modules[i]
		}
	}
	return nil
}

// totals sums the included modules.
func (yd *yearData) totals(scope string, exclude []string) Block {
	b := newBlock()
	for i := range yd.modules {
		m := &yd.modules[i]
		if m.included(scope, exclude) {
			b.add(m.module, m.stats)
		}
	}
	return b
}

// fte is the headcount FTE counted for a scope (validated: only when
// headcount is validated); nil when headcount is not counted.
func (yd *yearData) fte(scope string, exclude []string) *float64 {
	m := yd.module(string(emission.ModuleHeadcount))
	if m == nil || !m.included(scope, exclude) || m.stats.FTE == nil {
		return nil
	}
	return new(m.stats.FTE.Total)
}

func (yd *yearData) validatedTotal(exclude []string) float64 {
	return yd.totals(ScopeValidated, exclude).TotalKg
}

// Summary is the response of GET .../results/summary.
type Summary struct {
	UnitID           int64              `json:"unit_id"`
	Year             int32              `json:"year"`
	Totals           SummaryTotals      `json:"totals"`
	ByScopeTCO2eq    map[string]float64 `json:"by_scope_t_co2eq"`
	Modules          []SummaryModule    `json:"modules"`
	ValidatedModules []string           `json:"validated_modules"`
	CarKgPerKm       float64            `json:"car_kg_per_km"`
	ReductionGoals   []json.RawMessage  `json:"reduction_goals"`
}

// SummaryTotals are the headline figures (validated-only, D9).
type SummaryTotals struct {
	KgCO2eq            float64  `json:"kg_co2eq"`
	TCO2eq             float64  `json:"t_co2eq"`
	FTE                *float64 `json:"fte"`
	TCO2eqPerFTE       *float64 `json:"t_co2eq_per_fte"`
	EquivalentCarKm    int64    `json:"equivalent_car_km"`
	PreviousYearTCO2eq *float64 `json:"previous_year_t_co2eq"`
	YoYPercent         *float64 `json:"yoy_percent"`
}

// SummaryModule is one enabled module of the summary.
type SummaryModule struct {
	Module                    string   `json:"module"`
	Status                    string   `json:"status"`
	Validated                 bool     `json:"validated"`
	RecomputedAfterValidation bool     `json:"recomputed_after_validation"`
	TCO2eq                    float64  `json:"t_co2eq"`
	FTE                       *float64 `json:"fte"`
	TCO2eqPerFTE              *float64 `json:"t_co2eq_per_fte"`
	PreviousYearTCO2eq        *float64 `json:"previous_year_t_co2eq"`
	YoYPercent                *float64 `json:"yoy_percent"`
}

func notFoundReport(unitID int64, year int32) error {
	return apperr.NotFound("no report for unit %d and year %d", unitID, year)
}

// GetSummary computes the summary of a unit's report for a year from the
// stored stats of that year and the previous one. The loaded years are
// shared with the cache: nothing here may modify them.
func GetSummary(ctx context.Context, db postgres.DBTX, unitID int64, year int32, opt Options) (Summary, error) {
	years, err := loadYearsCached(ctx, db, opt.Cache, unitID, []int32{year, year - 1})
	if err != nil {
		return Summary{}, err
	}
	cur := years[year]
	if cur == nil {
		return Summary{}, notFoundReport(unitID, year)
	}
	prev := years[year-1]
	car := opt.CarKgPerKm
	if car <= 0 {
		car = DefaultCarKgPerKm
	}
	ex := opt.ExcludeModules
	val := cur.totals(ScopeValidated, ex)
	fte := cur.fte(ScopeValidated, ex)
	var prevKg *float64
	if prev != nil {
		prevKg = new(prev.validatedTotal(ex))
	}
	out := Summary{
		UnitID: unitID, Year: year,
		Totals: SummaryTotals{
			KgCO2eq: RoundKg(val.TotalKg), TCO2eq: KgToT(val.TotalKg), FTE: optFTE(fte),
			TCO2eqPerFTE: optT(perFTE(val.TotalKg, fte)), EquivalentCarKm: RoundKm(val.TotalKg / car),
			PreviousYearTCO2eq: optT(prevKg), YoYPercent: optPercent(yoy(val.TotalKg, prevKg)),
		},
		ByScopeTCO2eq:    map[string]float64{},
		Modules:          []SummaryModule{},
		ValidatedModules: []string{},
		CarKgPerKm:       car,
		ReductionGoals:   cur.cfg.ReductionObjectives.Goals,
	}
	if out.ReductionGoals == nil {
		out.ReductionGoals = []json.RawMessage{}
	}
	for k, v := range val.ByScope {
		out.ByScopeTCO2eq[k] = KgToT(v)
	}
	for i := range cur.modules {
		m := &cur.modules[i]
		if !m.enabled || slices.Contains(ex, m.module) {
			continue
		}
		sm := SummaryModule{
			Module: m.module, Status: m.status, Validated: m.validated, RecomputedAfterValidation: m.recomp,
			TCO2eq: KgToT(m.stats.TotalKg), FTE: optFTE(fte), TCO2eqPerFTE: optT(perFTE(m.stats.TotalKg, fte)),
		}
		if prev != nil {
			if pm := prev.module(m.module); pm != nil && pm.validated {
				sm.PreviousYearTCO2eq = new(KgToT(pm.stats.TotalKg))
				sm.YoYPercent = optPercent(yoy(m.stats.TotalKg, new(pm.stats.TotalKg)))
			}
		}
		out.Modules = append(out.Modules, sm)
		if m.validated {
			out.ValidatedModules = append(out.ValidatedModules, m.module)
		}
	}
	return out, nil
}

// Breakdown is the response of GET .../results/breakdown.
type Breakdown struct {
	Scope              string              `json:"scope"`
	TotalTCO2eq        float64             `json:"total_t_co2eq"`
	TotalFTE           *float64            `json:"total_fte"`
	Categories         []BreakdownCategory `json:"categories"`
	EmbodiedByBuilding []BuildingT         `json:"embodied_by_building"`
	EmbodiedByCategory []CategoryT         `json:"embodied_by_category"`
}

// BreakdownCategory is one chart category.
type BreakdownCategory struct {
	Category      string          `json:"category"`
	Group         string          `json:"group"`
	Validated     bool            `json:"validated"`
	TCO2eq        float64         `json:"t_co2eq"`
	TCO2eqPerFTE  *float64        `json:"t_co2eq_per_fte"`
	EmissionTypes []EmissionTypeT `json:"emission_types"`
}

// EmissionTypeT is one leaf of a category.
type EmissionTypeT struct {
	EmissionType string   `json:"emission_type"`
	Key          string   `json:"key"`
	ParentKey    string   `json:"parent_key"`
	TCO2eq       float64  `json:"t_co2eq"`
	Quantity     *float64 `json:"quantity"`
	QuantityUnit *string  `json:"quantity_unit"`
}

// BuildingT is embodied energy of one building.
type BuildingT struct {
	BuildingName string  `json:"building_name"`
	TCO2eq       float64 `json:"t_co2eq"`
}

// CategoryT is embodied energy of one embodied leaf (new_tech …).
type CategoryT struct {
	Category string  `json:"category"`
	TCO2eq   float64 `json:"t_co2eq"`
}

// categoryModule maps a chart category to the module owning its leaves.
var categoryModule = func() map[emission.Category]string {
	out := map[emission.Category]string{}
	for _, m := range emission.Modules() {
		for _, root := range m.Roots {
			for _, n := range emission.Subtree(root) {
				if n.Leaf {
					out[n.Category] = string(m.Key)
				}
			}
		}
	}
	return out
}()

func lastSegment(p emission.EmissionType) string {
	s := string(p)
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// GetBreakdown computes the per-category breakdown for a scope.
func GetBreakdown(ctx context.Context, db postgres.DBTX, unitID int64, year int32, opt Options) (Breakdown, error) {
	scope, err := ParseScope(opt.Scope)
	if err != nil {
		return Breakdown{}, err
	}
	years, err := loadYears(ctx, db, unitID, []int32{year})
	if err != nil {
		return Breakdown{}, err
	}
	cur := years[year]
	if cur == nil {
		return Breakdown{}, notFoundReport(unitID, year)
	}
	ex := opt.ExcludeModules
	tot := cur.totals(scope, ex)
	fte := cur.fte(scope, ex)
	byType := map[string]float64{}
	qty := map[string]emission.Quantity{}
	for i := range cur.modules {
		m := &cur.modules[i]
		if !m.included(scope, ex) {
			continue
		}
		for k, v := range m.stats.ByEmissionType {
			byType[k] += v
		}
		for k, v := range m.stats.QuantityByEmissionType {
			q, ok := qty[k]
			if !ok || q.Unit == v.Unit {
				qty[k] = emission.Quantity{Value: q.Value + v.Value, Unit: v.Unit}
			}
		}
	}
	out := Breakdown{
		Scope: scope, TotalTCO2eq: KgToT(tot.TotalKg), TotalFTE: optFTE(fte),
		Categories: []BreakdownCategory{}, EmbodiedByBuilding: []BuildingT{}, EmbodiedByCategory: []CategoryT{},
	}
	leaves := emission.Leaves()
	for _, ci := range emission.Categories() {
		kg := tot.ByCategory[string(ci.Key)]
		owner := cur.module(categoryModule[ci.Key])
		c := BreakdownCategory{
			Category: string(ci.Key), Group: string(ci.Group), Validated: owner != nil && owner.validated,
			TCO2eq: KgToT(kg), TCO2eqPerFTE: optT(perFTE(kg, fte)), EmissionTypes: []EmissionTypeT{},
		}
		for _, n := range leaves {
			v, ok := byType[string(n.Path)]
			if n.Category != ci.Key || !ok {
				continue
			}
			et := EmissionTypeT{EmissionType: string(n.Path), Key: n.Key, ParentKey: lastSegment(n.Parent), TCO2eq: KgToT(v)}
			if q, ok := qty[string(n.Path)]; ok {
				et.Quantity, et.QuantityUnit = new(q.Value), new(q.Unit)
			}
			c.EmissionTypes = append(c.EmissionTypes, et)
		}
		out.Categories = append(out.Categories, c)
	}
	if b := cur.module(string(emission.ModuleBuildings)); b != nil && b.included(scope, ex) {
		byLeaf := map[string]float64{}
		for name, leaves := range b.stats.EmbodiedByBuilding {
			var sum float64
			for leaf, v := range leaves {
				sum += v
				byLeaf[leaf] += v
			}
			out.EmbodiedByBuilding = append(out.EmbodiedByBuilding, BuildingT{BuildingName: name, TCO2eq: KgToT(sum)})
		}
		slices.SortFunc(out.EmbodiedByBuilding, func(a, b BuildingT) int {
			return cmp.Or(cmp.Compare(b.TCO2eq, a.TCO2eq), cmp.Compare(a.BuildingName, b.BuildingName))
		})
		for _, n := range emission.Subtree("buildings.construction_and_renovation") {
			if v, ok := byLeaf[string(n.Path)]; ok && n.Leaf {
				out.EmbodiedByCategory = append(out.EmbodiedByCategory, CategoryT{Category: n.Key, TCO2eq: KgToT(v)})
			}
		}
	}
	return out, nil
}

// IT is the response of GET .../results/it.
type IT struct {
	Scope          string             `json:"scope"`
	TotalTCO2eq    float64            `json:"total_t_co2eq"`
	TCO2eqPerFTE   *float64           `json:"t_co2eq_per_fte"`
	PercentOfTotal *float64           `json:"percent_of_total"`
	ByScopeTCO2eq  map[string]float64 `json:"by_scope_t_co2eq"`
	Categories     []ITCategory       `json:"categories"`
}

// ITCategory is one IT focus category.
type ITCategory struct {
	Key       string   `json:"key"`
	TCO2eq    float64  `json:"t_co2eq"`
	Percent   *float64 `json:"percent"`
	Validated bool     `json:"validated"`
	TopItems  []ItemT  `json:"top_items"`
}

// ItemT is a labelled tonnage.
type ItemT struct {
	Label  string  `json:"label"`
	TCO2eq float64 `json:"t_co2eq"`
}

// itCloudAI is the IT focus category of all cloud and AI leaves.
const itCloudAI = "external_cloud_ai"

// detailInvalidEnum is the 422 detail code of a bad enumerated value.
const detailInvalidEnum = "invalid_enum"

var itCategories = []struct {
	key, module string
	prefix      emission.EmissionType
}{
	{"equipment_it", "equipment", "equipment.it"},
	{"purchases_it", "purchases", "purchases.it_equipment"},
	{itCloudAI, string(emission.ModuleExternalCloudAI), emission.EmissionType(emission.ModuleExternalCloudAI)},
	{"research_facilities_it", "research_facilities", "research_facilities.it_facilities"},
}

// ITCategoryKeys are the IT focus categories in display order.
func ITCategoryKeys() []string {
	out := make([]string, len(itCategories))
	for i, c := range itCategories {
		out[i] = c.key
	}
	return out
}

// itCategoryOf is the IT focus category of a module's IT rows ("" for a
// module without IT rows).
func itCategoryOf(module string) string {
	for _, c := range itCategories {
		if c.module == module {
			return c.key
		}
	}
	return ""
}

// GetIT computes the IT focus (docs/domain.md §12.3).
func GetIT(ctx context.Context, db postgres.DBTX, unitID int64, year int32, opt Options) (IT, error) {
	scope, err := ParseScope(opt.Scope)
	if err != nil {
		return IT{}, err
	}
	years, err := loadYears(ctx, db, unitID, []int32{year})
	if err != nil {
		return IT{}, err
	}
	cur := years[year]
	if cur == nil {
		return IT{}, notFoundReport(unitID, year)
	}
	ex := opt.ExcludeModules
	unitTotal := cur.totals(scope, ex).TotalKg
	fte := cur.fte(scope, ex)
	out := IT{Scope: scope, ByScopeTCO2eq: map[string]float64{"2": 0, "3": 0}, Categories: []ITCategory{}}
	var total float64
	byScope := map[emission.Scope]float64{}
	kgs := make([]float64, len(itCategories))
	for i, c := range itCategories {
		m := cur.module(c.module)
		cat := ITCategory{Key: c.key, Validated: m != nil && m.validated, TopItems: []ItemT{}}
		if m != nil && m.included(scope, ex) {
			var items []Item
			for _, n := range emission.Subtree(c.prefix) {
				v, ok := m.stats.ByEmissionType[string(n.Path)]
				if !n.Leaf || !ok {
					continue
				}
				kgs[i] += v
				byScope[n.Scope] += v
				if c.key == itCloudAI {
					label := n.Key
					if emission.IsUnder(n.Path, "external_cloud_ai.ai") {
						label = "ai"
					}
					if j := slices.IndexFunc(items, func(it Item) bool { return it.Label == label }); j >= 0 {
						items[j].Kg += v
					} else {
						items = append(items, Item{Label: label, Kg: v})
					}
				}
			}
			if c.key != itCloudAI {
				items = slices.Clone(m.stats.ITTopItems[string(c.prefix)]) // the stats are shared (statsCache)
			}
			slices.SortStableFunc(items, func(a, b Item) int { return cmp.Compare(b.Kg, a.Kg) })
			for _, it := range items[:min(3, len(items))] {
				cat.TopItems = append(cat.TopItems, ItemT{Label: it.Label, TCO2eq: KgToT(it.Kg)})
			}
		}
		cat.TCO2eq = KgToT(kgs[i])
		total += kgs[i]
		out.Categories = append(out.Categories, cat)
	}
	for i := range out.Categories {
		out.Categories[i].Percent = optPercent(percent(kgs[i], total))
	}
	out.TotalTCO2eq = KgToT(total)
	out.TCO2eqPerFTE = optT(perFTE(total, fte))
	out.PercentOfTotal = optPercent(percent(total, unitTotal))
	out.ByScopeTCO2eq["2"] = KgToT(byScope[emission.Scope2])
	out.ByScopeTCO2eq["3"] = KgToT(byScope[emission.Scope3])
	return out, nil
}

func percent(part, whole float64) *float64 {
	if whole == 0 {
		return nil
	}
	return new(part / whole * 100)
}

// YearPoint is one point of the yearly series.
type YearPoint struct {
	Year             int32   `json:"year"`
	TCO2eq           float64 `json:"t_co2eq"`
	ValidatedModules int     `json:"validated_modules"`
	EnabledModules   int     `json:"enabled_modules"`
}

// GetYearly returns the validated total of every year with a report for
// the unit, ascending (404 for an unknown unit).
func GetYearly(ctx context.Context, db postgres.DBTX, unitID int64, opt Options) ([]YearPoint, error) {
	if _, err := GetUnit(ctx, db, unitID); err != nil {
		return nil, err
	}
	years, err := loadYears(ctx, db, unitID, []int32{})
	if err != nil {
		return nil, err
	}
	out := make([]YearPoint, 0, len(years))
	for _, yd := range years {
		p := YearPoint{Year: yd.year, TCO2eq: KgToT(yd.validatedTotal(opt.ExcludeModules))}
		for i := range yd.modules {
			m := &yd.modules[i]
			if m.enabled {
				p.EnabledModules++
				if m.validated {
					p.ValidatedModules++
				}
			}
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b YearPoint) int { return cmp.Compare(a.Year, b.Year) })
	return out, nil
}
