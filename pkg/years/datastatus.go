package years

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// The data-management matrix of a year (docs/api.md §7, GET
// /years/{year}/data-status): per module and submodule, what data, factors
// and reference data the year has, whether it is incomplete
// (docs/domain.md §4) or needs a recalculation (§11.3), and the latest
// upload or sync of each kind. Everything comes from small or
// pre-aggregated tables (uploads, pipelines, factors, module_year_state,
// the report-module statistics), never from a scan of the entries.

// Incomplete reasons of a submodule.
const (
	MissingFactors   = "missing_factors"
	MissingReference = "missing_reference"
)

// DataStatusModule is one module of the matrix.
type DataStatusModule struct {
	Module             string   `json:"module"`
	Enabled            bool     `json:"enabled"`
	Incomplete         bool     `json:"incomplete"`
	NeedsRecalculation bool     `json:"needs_recalculation"`
	RecalcReasons      []string `json:"recalc_reasons"`
	// ActivePipelineID is the newest unfinished pipeline of the module and
	// year (an import, a recalculation), if any.
	ActivePipelineID *uuid.UUID            `json:"active_pipeline_id"`
	Submodules       []DataStatusSubmodule `json:"submodules"`
}

// DataStatusSubmodule is one submodule of the matrix.
type DataStatusSubmodule struct {
	Submodule         string       `json:"submodule"`
	Enabled           bool         `json:"enabled"`
	IncompleteReasons []string     `json:"incomplete_reasons"`
	Latest            LatestInputs `json:"latest"`
	EntryCount        int64        `json:"entry_count"`
}

// LatestInputs are the latest inputs of a submodule: the year's data file,
// its factor file, its reference dataset's file, and (plane) the Tableau
// sync.
type LatestInputs struct {
	Data      *LatestInput `json:"data"`
	Factors   *LatestInput `json:"factors"`
	Reference *LatestInput `json:"reference"`
	Tableau   *LatestInput `json:"tableau"`
}

// LatestInput is an upload or a sync with the outcome of its pipeline.
type LatestInput struct {
	UploadID    *uuid.UUID `json:"upload_id"`
	PipelineID  *uuid.UUID `json:"pipeline_id"`
	Status      *string    `json:"status"`
	RowsLoaded  int64      `json:"rows_loaded"`
	RowsSkipped int64      `json:"rows_skipped"`
	FinishedAt  *time.Time `json:"finished_at"`
}

// DataStatus builds the matrix of year y (404 when it does not exist).
func (s *Service) DataStatus(ctx context.Context, y int32) ([]DataStatusModule, error) {
	q := dbsqlc.New(s.DB)
	row, err := Get(ctx, q, y)
	if err != nil {
		return nil, err
	}
	cfg, err := decodeObject(row.Config)
	if err != nil {
		cfg = map[string]any{}
	}
	uploads, err := q.DataStatusLatestUploads(ctx, y)
	if err != nil {
		return nil, fmt.Errorf("error reading the latest uploads of %d: %w", y, err)
	}
	factorRows, err := q.DataStatusFactorCounts(ctx, y)
	if err != nil {
		return nil, fmt.Errorf("error counting the factors of %d: %w", y, err)
	}
	refs, err := q.DataStatusReferenceCounts(ctx)
	if err != nil {
		return nil, fmt.Errorf("error counting the reference data: %w", err)
	}
	states, err := q.ModuleYearStatesByYear(ctx, y)
	if err != nil {
		return nil, fmt.Errorf("error reading the recalculation state of %d: %w", y, err)
	}
	active, err := q.DataStatusActivePipelines(ctx, &y)
	if err != nil {
		return nil, fmt.Errorf("error reading the active pipelines of %d: %w", y, err)
	}
	entryRows, err := q.DataStatusEntryCounts(ctx, y)
	if err != nil {
		return nil, fmt.Errorf("error counting the entries of %d: %w", y, err)
	}
	var tableau *LatestInput
	if p, err := q.DataStatusLatestPipeline(ctx, dbsqlc.DataStatusLatestPipelineParams{Year: &y, Kind: "tableau_sync"}); err == nil {
		tableau = latestOf(nil, &p.ID, &p.Status, p.Counters, p.FinishedAt)
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("error reading the Tableau syncs of %d: %w", y, err)
	}

	factors := map[string]int64{}
	for _, f := range factorRows {
		factors[f.Submodule] = f.Factors
	}
	references := map[string]int64{"locations_plane": refs.LocationsPlane, "locations_train": refs.LocationsTrain, "building_rooms": refs.BuildingRooms}
	entries := map[string]int64{}
	for _, e := range entryRows {
		entries[e.Module+"/"+e.Submodule] = e.Entries
	}
	activeBy := map[string]uuid.UUID{}
	for _, a := range active {
		activeBy[a.Module] = a.ID
	}
	stateBy := map[string]dbsqlc.ModuleYearState{}
	for _, st := range states {
		stateBy[st.Module] = st
	}
	latest := map[string]*LatestInput{} // kind/module/submodule/dataset
	for _, u := range uploads {
		latest[uploadKey(u.Kind, deref(u.Module), deref(u.Submodule), deref(u.Dataset))] =
			latestOf(&u.ID, u.PipelineID, u.PipelineStatus, u.PipelineCounters, u.PipelineFinishedAt)
	}

	out := make([]DataStatusModule, 0, len(emission.Modules()))
	enabledMods := EnabledModules(row.Config)
	for _, m := range emission.Modules() {
		mod := string(m.Key)
		dm := DataStatusModule{Module: mod, Enabled: slices.Contains(enabledMods, mod), RecalcReasons: []string{}, Submodules: []DataStatusSubmodule{}}
		if id, ok := activeBy[mod]; ok {
			dm.ActivePipelineID = &id
		}
		if st, ok := stateBy[mod]; ok && st.RecalcRequestedSeq > st.RecalcDoneSeq {
			dm.NeedsRecalculation = true
			dm.RecalcReasons = recalcReasons(st)
		}
		for _, sk := range m.Submodules {
			info, _ := emission.LookupSubmodule(sk)
			sub := string(sk)
			ds := DataStatusSubmodule{Submodule: sub, Enabled: dm.Enabled && submoduleEnabled(cfg, mod, sub), IncompleteReasons: []string{},
				EntryCount: entries[mod+"/"+sub]}
			if ds.Enabled {
				if groupFactors(factors, info.FactorGroup) == 0 {
					ds.IncompleteReasons = append(ds.IncompleteReasons, MissingFactors)
				}
				if info.Reference != "" && references[info.Reference] == 0 {
					ds.IncompleteReasons = append(ds.IncompleteReasons, MissingReference)
				}
			}
			dm.Incomplete = dm.Incomplete || len(ds.IncompleteReasons) > 0
			// A module-level file (equipment, purchases: no submodule)
			// counts for each of its submodules unless one of its own is
			// newer.
			ds.Latest.Data = newest(latest[uploadKey("data", mod, sub, "")], latest[uploadKey("data", mod, "", "")])
			ds.Latest.Factors = newest(latest[uploadKey("factors", mod, sub, "")], latest[uploadKey("factors", mod, "", "")])
			if info.Reference != "" {
				ds.Latest.Reference = latest[uploadKey("reference", "", "", info.Reference)]
			}
			if sk == emission.SubPlane {
				ds.Latest.Tableau = tableau
			}
			dm.Submodules = append(dm.Submodules, ds)
		}
		out = append(out, dm)
	}
	return out, nil
}

func uploadKey(kind, module, sub, dataset string) string {
	return kind + "/" + module + "/" + sub + "/" + dataset
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// groupFactors counts the year's factors of a factor upload group.
func groupFactors(bySubmodule map[string]int64, group string) int64 {
	var n int64
	for _, s := range emission.Submodules() {
		if s.FactorGroup == group {
			n += bySubmodule[string(s.Key)]
		}
	}
	return n
}

// recalcReasons are the causes stamped since the last recalculation
// (factors, reference, fx).
func recalcReasons(st dbsqlc.ModuleYearState) []string {
	out := []string{}
	since := func(t *time.Time) bool { return t != nil && (st.LastRecalcAt == nil || t.After(*st.LastRecalcAt)) }
	if since(st.FactorsChangedAt) {
		out = append(out, "factors")
	}
	if since(st.ReferenceChangedAt) {
		out = append(out, "reference")
	}
	if since(st.FxChangedAt) {
		out = append(out, "fx")
	}
	return out
}

func latestOf(uploadID, pipelineID *uuid.UUID, status *string, counters json.RawMessage, finished *time.Time) *LatestInput {
	li := &LatestInput{UploadID: uploadID, PipelineID: pipelineID, Status: status, FinishedAt: finished}
	var c struct {
		RowsLoaded  float64 `json:"rows_loaded"`
		RowsSkipped float64 `json:"rows_skipped"`
	}
	if len(counters) > 0 && json.Unmarshal(counters, &c) == nil {
		li.RowsLoaded, li.RowsSkipped = int64(c.RowsLoaded), int64(c.RowsSkipped)
	}
	return li
}

// newest is the later of two inputs (by finish time; an unfinished one
// wins), either may be nil.
func newest(a, b *LatestInput) *LatestInput {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case a.FinishedAt == nil:
		return a
	case b.FinishedAt == nil:
		return b
	case b.FinishedAt.After(*a.FinishedAt):
		return b
	}
	return a
}
