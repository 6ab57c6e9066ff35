package report

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// ModuleStats is report_modules.stats (docs/domain.md §12.1), plus two
// pre-aggregated blocks the results need (embodied energy by building and
// the top IT items), so that results never scan emission rows.
type ModuleStats struct {
	TotalKg                float64                       `json:"total_kg"`
	MainKg                 float64                       `json:"main_kg"`
	AdditionalKg           float64                       `json:"additional_kg"`
	ByScope                map[string]float64            `json:"by_scope"`
	ByCategory             map[string]float64            `json:"by_category"`
	ByEmissionType         map[string]float64            `json:"by_emission_type"`
	QuantityByEmissionType map[string]emission.Quantity  `json:"quantity_by_emission_type"`
	EntriesBySubmodule     map[string]int64              `json:"entries_by_submodule"`
	CalcIssues             int64                         `json:"calc_issues"`
	FTE                    *FTE                          `json:"fte,omitempty"`
	ITKg                   float64                       `json:"it_kg"`
	EmbodiedByBuilding     map[string]map[string]float64 `json:"embodied_by_building,omitempty"` // building → leaf → kg
	ITTopItems             map[string][]Item             `json:"it_top_items,omitempty"`         // IT leaf → top 3
	ComputedAt             time.Time                     `json:"computed_at"`
}

// FTE is the headcount block of module stats.
type FTE struct {
	Total      float64            `json:"total"` // members + student line
	BySiusCode map[string]float64 `json:"by_sius_code"`
	Student    float64            `json:"student"`
}

// Item is a labelled kg value (top IT items).
type Item struct {
	Label string  `json:"label"`
	Kg    float64 `json:"kg"`
}

// Entries is the number of entries of the module.
func (s *ModuleStats) Entries() int64 {
	var n int64
	for _, c := range s.EntriesBySubmodule {
		n += c
	}
	return n
}

// itLeaves are the IT leaves outside external_cloud_ai (docs/domain.md
// §12.1); AggITTopItems and data_entries_it_idx (migration 000018) list
// them too.
var itLeaves = []string{"equipment.it", "purchases.it_equipment", "research_facilities.it_facilities"}

func isIT(et string) bool {
	return slices.Contains(itLeaves, et) || strings.HasPrefix(et, "external_cloud_ai.")
}

func newModuleStats(now time.Time) *ModuleStats {
	return &ModuleStats{
		ByScope:                map[string]float64{"1": 0, "2": 0, "3": 0},
		ByCategory:             map[string]float64{},
		ByEmissionType:         map[string]float64{},
		QuantityByEmissionType: map[string]emission.Quantity{},
		EntriesBySubmodule:     map[string]int64{},
		ComputedAt:             now.UTC(),
	}
}

// ModuleRef names a report module to compute.
type ModuleRef struct {
	ID     int64
	Module string
}

// ComputeModuleStats computes the stats of report modules with grouped
// aggregate queries over emissions and data_entries (a handful of queries
// for the whole batch, never row by row).
func ComputeModuleStats(ctx context.Context, db postgres.DBTX, mods []ModuleRef, now time.Time) (map[int64]*ModuleStats, error) {
	out := make(map[int64]*ModuleStats, len(mods))
	ids := make([]int64, len(mods))
	for i, m := range mods {
		ids[i] = m.ID
		s := newModuleStats(now)
		if m.Module == string(emission.ModuleHeadcount) {
			s.FTE = &FTE{BySiusCode: map[string]float64{}}
		}
		out[m.ID] = s
	}
	if len(ids) == 0 {
		return out, nil
	}
	q := dbsqlc.New(db)

	groups, err := q.AggEmissions(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("error aggregating emissions: %w", err)
	}
	// A leaf's quantity is kept when all its rows with a quantity share
	// one unit (over all the leaf's groups).
	type qty struct {
		value float64
		unit  string
		mixed bool
	}
	quantities := map[int64]map[string]*qty{}
	for _, r := range groups {
		s := out[r.ReportModuleID]
		s.ByCategory[r.Category] += r.KgCo2eq
		if emission.Category(r.Category).IsAdditional() {
			s.AdditionalKg += r.KgCo2eq
		} else {
			s.MainKg += r.KgCo2eq
		}
		s.ByScope[strconv.Itoa(int(r.Scope))] += r.KgCo2eq
		s.ByEmissionType[r.EmissionType] += r.KgCo2eq
		if isIT(r.EmissionType) {
			s.ITKg += r.KgCo2eq
		}
		if r.QuantityUnits == 0 {
			continue
		}
		if quantities[r.ReportModuleID] == nil {
			quantities[r.ReportModuleID] = map[string]*qty{}
		}
		q := quantities[r.ReportModuleID][r.EmissionType]
		if q == nil {
			q = &qty{unit: r.QuantityUnit}
			quantities[r.ReportModuleID][r.EmissionType] = q
		}
		q.value += r.Quantity
		q.mixed = q.mixed || r.QuantityUnits > 1 || q.unit != r.QuantityUnit
	}
	for id, byType := range quantities {
		for t, q := range byType {
			if !q.mixed {
				out[id].QuantityByEmissionType[t] = emission.Quantity{Value: q.value, Unit: q.unit}
			}
		}
	}
	entries, err := q.AggEntriesBySubmodule(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("error aggregating entries: %w", err)
	}
	for _, r := range entries {
		s := out[r.ReportModuleID]
		s.EntriesBySubmodule[r.Submodule] += r.Entries
		s.CalcIssues += r.CalcIssues
	}
	ftes, err := q.AggHeadcountFTE(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("error aggregating FTE: %w", err)
	}
	for _, r := range ftes {
		s := out[r.ReportModuleID]
		if s.FTE == nil {
			continue
		}
		s.FTE.Total += r.Fte
		if r.Submodule == string(emission.SubStudent) {
			s.FTE.Student += r.Fte
		} else {
			s.FTE.BySiusCode[r.SiusCode] += r.Fte
		}
	}
	embodied, err := q.AggEmbodiedByBuilding(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("error aggregating embodied energy: %w", err)
	}
	for _, r := range embodied {
		s := out[r.ReportModuleID]
		if s.EmbodiedByBuilding == nil {
			s.EmbodiedByBuilding = map[string]map[string]float64{}
		}
		if s.EmbodiedByBuilding[r.BuildingName] == nil {
			s.EmbodiedByBuilding[r.BuildingName] = map[string]float64{}
		}
		s.EmbodiedByBuilding[r.BuildingName][r.EmissionType] += r.KgCo2eq
	}
	top, err := q.AggITTopItems(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("error aggregating IT items: %w", err)
	}
	for _, r := range top {
		s := out[r.ReportModuleID]
		if s.ITTopItems == nil {
			s.ITTopItems = map[string][]Item{}
		}
		s.ITTopItems[r.EmissionType] = append(s.ITTopItems[r.EmissionType], Item{Label: r.Label, Kg: r.KgCo2eq})
	}
	for _, s := range out {
		s.TotalKg = s.MainKg + s.AdditionalKg
	}
	return out, nil
}

// DecodeModuleStats decodes report_modules.stats; {} (never computed) gives
// zero stats.
func DecodeModuleStats(raw []byte) (*ModuleStats, error) {
	s := newModuleStats(time.Time{})
	if len(raw) == 0 {
		return s, nil
	}
	if err := json.Unmarshal(raw, s); err != nil {
		return nil, fmt.Errorf("error decoding module stats: %w", err)
	}
	return s, nil
}

// RefreshModules recomputes and stores the stats of dirty report modules.
// The dirty flag of each module is cleared only if it still holds the value
// read (compare-and-clear, docs/jobs.md §2.3). A module whose stats are
// current for that value (StatsCurrent: a data import stored them with
// StoreCurrentStats) is not computed again, only cleared. It returns the
// ids of the parent reports.
func RefreshModules(ctx context.Context, db postgres.DBTX, dirty []dbsqlc.ReportModulesDirtyRow, now time.Time) ([]int64, error) {
	var refs []ModuleRef
	for _, d := range dirty {
		if !d.StatsCurrent {
			refs = append(refs, ModuleRef{ID: d.ID, Module: d.Module})
		}
	}
	stats, err := ComputeModuleStats(ctx, db, refs, now)
	if err != nil {
		return nil, err
	}
	q := dbsqlc.New(db)
	var reports []int64
	for _, d := range dirty {
		reports = append(reports, d.ReportID)
		if d.StatsCurrent {
			if _, err := q.ReportModuleClearDirty(ctx, dbsqlc.ReportModuleClearDirtyParams{ID: d.ID, ReadDirtyAt: d.StatsDirtyAt}); err != nil {
				return nil, fmt.Errorf("error clearing the dirty flag of report module %d: %w", d.ID, err)
			}
			continue
		}
		b, err := json.Marshal(stats[d.ID])
		if err != nil {
			return nil, fmt.Errorf("error encoding module stats: %w", err)
		}
		if _, err := q.ReportModuleSetStats(ctx, dbsqlc.ReportModuleSetStatsParams{ID: d.ID, Stats: b, ReadDirtyAt: d.StatsDirtyAt}); err != nil {
			return nil, fmt.Errorf("error storing stats of report module %d: %w", d.ID, err)
		}
	}
	slices.Sort(reports)
	return slices.Compact(reports), nil
}

// StoreCurrentStats computes the stats of report modules in the
// transaction that marked them dirty and stores them as current for that
// dirty stamp (migration 000020): a data import, whose entries are still
// its own rows in cache, saves the aggregate job from reading them again
// once committed. The modules stay dirty: the aggregate job clears them and
// refreshes their reports.
func StoreCurrentStats(ctx context.Context, db postgres.DBTX, mods []ModuleRef, now time.Time) error {
	stats, err := ComputeModuleStats(ctx, db, mods, now)
	if err != nil {
		return err
	}
	q := dbsqlc.New(db)
	for _, m := range mods {
		b, err := json.Marshal(stats[m.ID])
		if err != nil {
			return fmt.Errorf("error encoding module stats: %w", err)
		}
		if _, err := q.ReportModuleStoreCurrentStats(ctx, dbsqlc.ReportModuleStoreCurrentStatsParams{ID: m.ID, Stats: b}); err != nil {
			return fmt.Errorf("error storing stats of report module %d: %w", m.ID, err)
		}
	}
	return nil
}

// RefreshModuleIDs recomputes the stats of the given report modules now,
// whatever their dirty flag (interactive writes, in the write's
// transaction), then their reports' stats and derived status fields.
func RefreshModuleIDs(ctx context.Context, db postgres.DBTX, ids []int64, now time.Time) error {
	rows, err := dbsqlc.New(db).ReportModulesByIDs(ctx, ids)
	if err != nil {
		return fmt.Errorf("error reading report modules: %w", err)
	}
	dirty := make([]dbsqlc.ReportModulesDirtyRow, len(rows))
	for i, r := range rows {
		dirty[i] = dbsqlc.ReportModulesDirtyRow{ID: r.ID, ReportID: r.ReportID, Module: r.Module, StatsDirtyAt: r.StatsDirtyAt}
	}
	reports, err := RefreshModules(ctx, db, dirty, now)
	if err != nil {
		return err
	}
	return RefreshReports(ctx, db, reports, now)
}

// Block is one block of report stats (docs/domain.md §12.2).
type Block struct {
	TotalKg      float64            `json:"total_kg"`
	MainKg       float64            `json:"main_kg"`
	AdditionalKg float64            `json:"additional_kg"`
	ByScope      map[string]float64 `json:"by_scope"`
	ByCategory   map[string]float64 `json:"by_category"`
	ByModule     map[string]float64 `json:"by_module"`
	ITKg         float64            `json:"it_kg"`
	// ITByCategory splits it_kg by IT focus category (equipment_it,
	// purchases_it, external_cloud_ai, research_facilities_it): the
	// back-office IT focus sums it over reports (docs/domain.md §12.4).
	ITByCategory map[string]float64 `json:"it_by_category"`
	FTE          *float64           `json:"fte"`
}

func newBlock() Block {
	return Block{ByScope: map[string]float64{"1": 0, "2": 0, "3": 0}, ByCategory: map[string]float64{}, ByModule: map[string]float64{},
		ITByCategory: map[string]float64{}}
}

func (b *Block) add(module string, s *ModuleStats) {
	b.TotalKg += s.TotalKg
	b.MainKg += s.MainKg
	b.AdditionalKg += s.AdditionalKg
	for k, v := range s.ByScope {
		b.ByScope[k] += v
	}
	for k, v := range s.ByCategory {
		b.ByCategory[k] += v
	}
	b.ByModule[module] += s.TotalKg
	b.ITKg += s.ITKg
	if key := itCategoryOf(module); key != "" {
		// Each IT category is the IT rows of one module, so the module's
		// it_kg is the category's share.
		b.ITByCategory[key] += s.ITKg
	}
	if s.FTE != nil {
		fte := s.FTE.Total
		b.FTE = &fte
	}
}

// ReportStats is carbon_reports.stats (docs/domain.md §12.2).
type ReportStats struct {
	All                   Block   `json:"all"`
	Validated             Block   `json:"validated"`
	HighestCategoryModule *string `json:"highest_category_module"`
	// EntriesByModule is the entry count of every module, enabled or not
	// (the back-office filter "module has data", docs/api.md §11).
	EntriesByModule map[string]int64 `json:"entries_by_module"`
	// ModuleStatuses is the status of every enabled module (the back-office
	// module status counts, docs/domain.md §12.4), as fresh as
	// overall_status.
	ModuleStatuses map[string]string `json:"module_statuses"`
	ComputedAt     time.Time         `json:"computed_at"`
}

// ModuleState is what report stats need of one report module.
type ModuleState struct {
	Module string
	Status string
	Stats  *ModuleStats
}

// BuildReportStats folds module stats into report stats: all = every
// enabled module, validated = validated enabled modules.
func BuildReportStats(cfg YearConfig, mods []ModuleState, now time.Time) ReportStats {
	rs := ReportStats{All: newBlock(), Validated: newBlock(), EntriesByModule: map[string]int64{}, ModuleStatuses: map[string]string{},
		ComputedAt: now.UTC()}
	best := -1.0
	for _, m := range mods {
		rs.EntriesByModule[m.Module] = m.Stats.Entries()
		if !cfg.ModuleEnabled(m.Module) {
			continue
		}
		rs.ModuleStatuses[m.Module] = m.Status
		rs.All.add(m.Module, m.Stats)
		if m.Status != StatusValidated {
			continue
		}
		rs.Validated.add(m.Module, m.Stats)
		if m.Stats.TotalKg > best {
			best = m.Stats.TotalKg
			rs.HighestCategoryModule = new(m.Module)
		}
	}
	return rs
}

// RefreshReports recomputes the stats of reports from their modules' stored
// stats and their derived status fields (docs/domain.md §10).
func RefreshReports(ctx context.Context, db postgres.DBTX, reportIDs []int64, now time.Time) error {
	if len(reportIDs) == 0 {
		return nil
	}
	q := dbsqlc.New(db)
	rows, err := q.ReportModulesByReports(ctx, reportIDs)
	if err != nil {
		return fmt.Errorf("error reading report modules: %w", err)
	}
	byReport := map[int64][]ModuleState{}
	years := map[int64]int32{}
	for _, r := range rows {
		s, err := DecodeModuleStats(r.Stats)
		if err != nil {
			return fmt.Errorf("report module %d: %w", r.ID, err)
		}
		byReport[r.ReportID] = append(byReport[r.ReportID], ModuleState{Module: r.Module, Status: r.Status, Stats: s})
		years[r.ReportID] = r.Year
	}
	configs := map[int32]YearConfig{}
	ids := slices.SortedFunc(func(yield func(int64) bool) {
		for id := range byReport {
			if !yield(id) {
				return
			}
		}
	}, cmp.Compare[int64])
	for _, id := range ids {
		year := years[id]
		cfg, ok := configs[year]
		if !ok {
			y, err := q.YearGet(ctx, year)
			if err != nil {
				return fmt.Errorf("error reading year %d: %w", year, err)
			}
			if cfg, err = ParseYearConfig(y.Config); err != nil {
				return err
			}
			configs[year] = cfg
		}
		b, err := json.Marshal(BuildReportStats(cfg, byReport[id], now))
		if err != nil {
			return fmt.Errorf("error encoding report stats: %w", err)
		}
		if err := q.ReportSetStats(ctx, dbsqlc.ReportSetStatsParams{ID: id, Stats: b}); err != nil {
			return fmt.Errorf("error storing stats of report %d: %w", id, err)
		}
		if _, err := q.ReportRefreshStatus(ctx, dbsqlc.ReportRefreshStatusParams{ID: id, EnabledModules: cfg.EnabledModules()}); err != nil {
			return fmt.Errorf("error refreshing status of report %d: %w", id, err)
		}
	}
	return nil
}
