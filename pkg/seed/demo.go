package seed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/auth"
	"github.com/co2-calculator/co2-calculator/pkg/calc"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/ingest"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
)

// Demo constants: the demo lab and its year (docs/domain.md §2.1).
const (
	DemoYear = 2025
	DemoCF   = "7918"
	// DemoSource is the source of the demo entries (a per-year upload).
	DemoSource = "csv_year"
	fxSource   = "ecb_annual"
)

// DevUnit is one dev unit fixture (docs/domain.md §2.1).
type DevUnit struct {
	InstitutionalCode string
	CF                string
	Name              string
	Level             int16
	ParentCode        string // "" for the root
	PrincipalSciper   string
}

// DevUnits returns the dev unit fixtures, parents first.
func DevUnits() []DevUnit {
	return []DevUnit{
		{InstitutionalCode: "10000", CF: "10000", Name: "EPFL-TEST", Level: 1},
		{InstitutionalCode: "13030", CF: "13030", Name: "ENAC-TEST", Level: 2, ParentCode: "10000"},
		{InstitutionalCode: "13031", CF: "13031", Name: "ENAC-SG-TEST", Level: 3, ParentCode: "13030"},
		{InstitutionalCode: "13032", CF: DemoCF, Name: "LAB-DEMO", Level: 4, ParentCode: "13031", PrincipalSciper: "DEV-000002"},
		{InstitutionalCode: "13033", CF: "13033", Name: "ENAC-OTHER-TEST", Level: 4, ParentCode: "13031", PrincipalSciper: "DEV-000005"},
		{InstitutionalCode: "14000", CF: "14000", Name: "SB-TEST", Level: 2, ParentCode: "10000"},
		{InstitutionalCode: "14001", CF: "14001", Name: "SB-LAB-TEST", Level: 4, ParentCode: "14000"},
	}
}

var unitTypeByLevel = map[int16]string{1: "École", 2: "Faculté", 3: "Institut", 4: "Laboratoire"}

// UpsertDevUnits upserts the dev unit fixtures with their path arrays and
// returns them by cf.
func UpsertDevUnits(ctx context.Context, db postgres.DBTX) (map[string]dbsqlc.Unit, error) {
	q := dbsqlc.New(db)
	byCode := map[string]dbsqlc.Unit{}
	byCF := map[string]dbsqlc.Unit{}
	for _, du := range DevUnits() {
		// A fixture the Accred unit sync took over (make run with the Accred
		// fake) is that Accred unit now: keep it (docs/jobs.md §4.8).
		if held, ok, err := auth.DevUnitTakenOver(ctx, q, du.InstitutionalCode, du.CF); err != nil {
			return nil, err
		} else if ok {
			byCode[du.InstitutionalCode], byCF[du.CF] = held, held
			continue
		}
		codes, cfs, names := []string{du.InstitutionalCode}, []string{du.CF}, []string{du.Name}
		var parentID *int64
		if du.ParentCode != "" {
			p, ok := byCode[du.ParentCode]
			if !ok {
				return nil, fmt.Errorf("dev unit %s: parent %s not seeded first", du.Name, du.ParentCode)
			}
			parentID = &p.ID
			codes = append(slices.Clone(p.PathCodes), codes...)
			cfs = append(slices.Clone(p.PathCfs), cfs...)
			names = append(slices.Clone(p.PathNames), names...)
		}
		u, err := q.UnitUpsert(ctx, dbsqlc.UnitUpsertParams{
			InstitutionalCode: du.InstitutionalCode, Cf: &du.CF, Name: du.Name,
			LabelEn: nullable(du.Name), LabelFr: nullable(du.Name), Level: du.Level, ParentID: parentID,
			PathCodes: codes, PathCfs: cfs, PathNames: names, UnitTypeLabel: nullable(unitTypeByLevel[du.Level]),
			PrincipalSciper: nullable(du.PrincipalSciper), IsActive: true, Source: "dev",
		})
		if err != nil {
			return nil, fmt.Errorf("error upserting dev unit %s: %w", du.Name, err)
		}
		byCode[du.InstitutionalCode], byCF[du.CF] = u, u
	}
	return byCF, nil
}

// DemoStats are the counters of Demo.
type DemoStats struct {
	Units          int
	Factors        int // rows upserted
	FXRates        int
	EntriesDeleted int64
	Entries        int
	EmissionRows   int
	CalcIssues     int // entries whose calc_status is not ok
	KgByModule     map[emission.ModuleKey]float64
}

// Demo seeds the dev units, year 2025 (open), every factor file of
// dir/factors for 2025, the 2025 ECB annual FX rates of
// dir/external/ecb/exr_A_2025.csv, and the sample files of dir/samples as
// csv_year entries of LAB-DEMO (replacing the previous ones), then computes
// every emission. One transaction; reference data must be loaded
// (ReferenceData) for travel and room emissions.
func Demo(ctx context.Context, db postgres.TxBeginner, dir string) (DemoStats, error) {
	return postgres.WithTxV(ctx, db, func(ctx context.Context, tx pgx.Tx) (DemoStats, error) {
		st := DemoStats{KgByModule: map[emission.ModuleKey]float64{}}
		q := dbsqlc.New(tx)
		units, err := UpsertDevUnits(ctx, tx)
		if err != nil {
			return st, err
		}
		st.Units = len(units)
		if err := ensureYear(ctx, q); err != nil {
			return st, err
		}
		purchaseCats, n, err := loadFactors(ctx, q, filepath.Join(dir, "factors"))
		if err != nil {
			return st, err
		}
		st.Factors = n
		if st.FXRates, err = loadFX(ctx, q, filepath.Join(dir, "external", "ecb", fmt.Sprintf("exr_A_%d.csv", DemoYear))); err != nil {
			return st, err
		}
		lab := units[DemoCF]
		rep, err := q.ReportGetOrCreate(ctx, dbsqlc.ReportGetOrCreateParams{UnitID: lab.ID, Year: DemoYear, EnabledModules: int16(len(emission.Modules()))})
		if err != nil {
			return st, fmt.Errorf("error creating the LAB-DEMO report: %w", err)
		}
		rms, err := q.ReportModulesByReport(ctx, rep.ID)
		if err != nil {
			return st, fmt.Errorf("error loading the LAB-DEMO report modules: %w", err)
		}
		rmByModule := map[emission.ModuleKey]dbsqlc.ReportModule{}
		for _, rm := range rms {
			rmByModule[emission.ModuleKey(rm.Module)] = rm
			info, _ := emission.LookupModule(emission.ModuleKey(rm.Module))
			subs := make([]string, len(info.Submodules))
			for i, s := range info.Submodules {
				subs[i] = string(s)
			}
			n, err := q.EntriesDeleteByReportModuleSource(ctx, dbsqlc.EntriesDeleteByReportModuleSourceParams{
				ReportModuleID: rm.ID, Submodules: subs, Source: DemoSource})
			if err != nil {
				return st, fmt.Errorf("error deleting previous demo entries: %w", err)
			}
			st.EntriesDeleted += n
		}

		rows, err := readSamples(filepath.Join(dir, "samples"), units, purchaseCats)
		if err != nil {
			return st, err
		}
		ids, err := q.EntryIDsReserve(ctx, int32(len(rows)))
		if err != nil {
			return st, fmt.Errorf("error reserving entry ids: %w", err)
		}
		params := make([]dbsqlc.EntriesCopyFromParams, len(rows))
		byModule := map[emission.ModuleKey][]dbsqlc.DataEntry{}
		for i, r := range rows {
			rm := rmByModule[r.Module]
			params[i] = dbsqlc.EntriesCopyFromParams{
				ID: ids[i], ReportModuleID: rm.ID, UnitID: lab.ID, Year: DemoYear,
				Module: string(r.Module), Submodule: string(r.Submodule), Data: r.Data, KgOverride: r.KgOverride,
				Source: DemoSource, OwnerSciper: nullable(r.OwnerSciper), CalcStatus: string(emission.StatusPending),
			}
			byModule[r.Module] = append(byModule[r.Module], dbsqlc.DataEntry{
				ID: ids[i], ReportModuleID: rm.ID, UnitID: lab.ID, Year: DemoYear, Module: string(r.Module),
				Submodule: string(r.Submodule), Data: r.Data, KgOverride: r.KgOverride, Source: DemoSource,
			})
		}
		if _, err := q.EntriesCopyFrom(ctx, params); err != nil {
			return st, fmt.Errorf("error copying the demo entries: %w", err)
		}
		st.Entries = len(rows)

		now := time.Now()
		var changed []int64
		for _, m := range emission.Modules() {
			entries := byModule[m.Key]
			if len(entries) == 0 {
				continue
			}
			lk, err := calc.LoadLookup(ctx, tx, DemoYear, m.Key)
			if err != nil {
				return st, err
			}
			out, err := calc.ComputeAndStore(ctx, tx, lk, entries, now)
			if err != nil {
				return st, err
			}
			for _, c := range out {
				st.EmissionRows += len(c.Rows)
				st.KgByModule[m.Key] += float64(c.Outcome.Kg)
				if c.Outcome.Status != emission.StatusOK {
					st.CalcIssues++
				}
			}
			changed = append(changed, rmByModule[m.Key].ID)
		}
		if _, err := q.ReportModulesMarkDataChanged(ctx, dbsqlc.ReportModulesMarkDataChangedParams{Ids: changed}); err != nil {
			return st, fmt.Errorf("error marking the demo report modules changed: %w", err)
		}
		// Fresh stats for every LAB-DEMO module and the report, so that a
		// local run shows results without waiting for an aggregate job.
		all := make([]int64, 0, len(rms))
		for _, rm := range rms {
			all = append(all, rm.ID)
		}
		if err := report.RefreshModuleIDs(ctx, tx, all, now); err != nil {
			return st, fmt.Errorf("error computing the LAB-DEMO stats: %w", err)
		}
		return st, nil
	})
}

func ensureYear(ctx context.Context, q *dbsqlc.Queries) error {
	y, err := q.YearGet(ctx, DemoYear)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		cfg, err := json.Marshal(report.DefaultYearConfig())
		if err != nil {
			return fmt.Errorf("error encoding the year config: %w", err)
		}
		if _, err := q.YearCreate(ctx, dbsqlc.YearCreateParams{Year: DemoYear, Status: nullable("open"), Config: cfg}); err != nil {
			return fmt.Errorf("error creating year %d: %w", DemoYear, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("error reading year %d: %w", DemoYear, err)
	case y.Status == "ready":
		if _, err := q.YearUpdateStatus(ctx, dbsqlc.YearUpdateStatusParams{Status: "open", Year: DemoYear, FromStatuses: []string{"ready"}}); err != nil {
			return fmt.Errorf("error opening year %d: %w", DemoYear, err)
		}
	}
	return nil
}

// loadFactors upserts every factor file of dir (<group>_factors_2025.csv)
// and returns the purchase categories by folded institutional code and
// additional code (for routing purchase rows without a category).
func loadFactors(ctx context.Context, q *dbsqlc.Queries, dir string) (map[string][]emission.SubmoduleKey, int, error) {
	cats := map[string][]emission.SubmoduleKey{}
	n := 0
	for _, group := range ingest.FactorGroups() {
		tbl, err := ingest.FactorTable(group)
		if err != nil {
			return nil, 0, err
		}
		p, err := ingest.NewFactorParser(group, "")
		if err != nil {
			return nil, 0, err
		}
		var rows []ingest.FactorRow
		path := filepath.Join(dir, fmt.Sprintf("%s_factors_%d.csv", group, DemoYear))
		err = eachRecord(path, tbl, func(rec *ingest.Record) []ingest.RowError {
			row, errs := p.Parse(rec)
			if !ingest.HasErrors(errs) {
				rows = append(rows, row)
			}
			return errs
		})
		if err != nil {
			return nil, 0, err
		}
		if err := p.Finish(); err != nil {
			return nil, 0, fmt.Errorf("%s: %w", path, err)
		}
		for _, r := range rows {
			cls, err := json.Marshal(r.Classification)
			if err != nil {
				return nil, 0, fmt.Errorf("error encoding a classification: %w", err)
			}
			vals, err := json.Marshal(r.Values)
			if err != nil {
				return nil, 0, fmt.Errorf("error encoding factor values: %w", err)
			}
			if _, err := q.FactorUpsert(ctx, dbsqlc.FactorUpsertParams{
				Year: DemoYear, Module: string(r.Module), Submodule: string(r.Submodule), EmissionType: string(r.EmissionType),
				Classification: cls, ClassKey: r.ClassKey, Values: vals, Source: "csv",
			}); err != nil {
				return nil, 0, fmt.Errorf("error upserting factor %s %s: %w", r.Submodule, r.ClassKey, err)
			}
			n++
			if emission.IsPurchaseCategory(r.Submodule) {
				for _, k := range purchaseKeys(r.Classification["purchase_institutional_code"], r.Classification["purchase_additional_code"]) {
					if !slices.Contains(cats[k], r.Submodule) {
						cats[k] = append(cats[k], r.Submodule)
					}
				}
			}
		}
	}
	return cats, n, nil
}

// purchaseKeys are the routing keys a purchase factor answers to: its code
// alone and, with an additional code, the pair.
func purchaseKeys(code, add string) []string {
	keys := []string{emission.Fold(code)}
	if emission.Fold(add) != "" {
		keys = append(keys, emission.Fold(code)+"\x00"+emission.Fold(add))
	}
	return keys
}

// loadFX stores the annual rates of the demo year from an ECB SDMX-CSV
// answer.
func loadFX(ctx context.Context, q *dbsqlc.Queries, path string) (int, error) {
	n := 0
	var upsertErr error
	err := eachRecord(path, ingest.ECBTable(), func(rec *ingest.Record) []ingest.RowError {
		if upsertErr != nil || rec.Get("time_period") != strconv.Itoa(DemoYear) {
			return nil
		}
		v, err := ingest.ParseNumber(rec.Get("obs_value"), false)
		cur := strings.ToUpper(rec.Get("currency"))
		if err != nil || v <= 0 || len(cur) != 3 {
			return nil // malformed rows are skipped (docs/jobs.md §10)
		}
		if _, err := q.FXRateUpsert(ctx, dbsqlc.FXRateUpsertParams{Year: DemoYear, Currency: cur, PerEur: v, Source: fxSource}); err != nil {
			upsertErr = fmt.Errorf("error storing the %s rate: %w", cur, err)
			return nil
		}
		n++
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, upsertErr
}

// readSamples parses every sample file of dir (<group>_2025.csv) as a
// per-year upload; every row must belong to LAB-DEMO.
func readSamples(dir string, units map[string]dbsqlc.Unit, purchaseCats map[string][]emission.SubmoduleKey) ([]ingest.DataRow, error) {
	opts := ingest.DataOptions{
		PerYear: true,
		Year:    DemoYear,
		Unit: func(cf string) ingest.UnitStatus {
			u, ok := units[cf]
			switch {
			case !ok:
				return ingest.UnitUnknown
			case !u.IsActive:
				return ingest.UnitInactive
			}
			return ingest.UnitActive
		},
		PurchaseCategories: func(code, add string) []emission.SubmoduleKey {
			keys := purchaseKeys(code, add)
			return purchaseCats[keys[len(keys)-1]]
		},
	}
	var out []ingest.DataRow
	for _, group := range ingest.DataGroups() {
		tbl, err := ingest.DataTable(group, true)
		if err != nil {
			return nil, err
		}
		p, err := ingest.NewDataParser(group, opts)
		if err != nil {
			return nil, err
		}
		path := filepath.Join(dir, fmt.Sprintf("%s_%d.csv", group, DemoYear))
		err = eachRecord(path, tbl, func(rec *ingest.Record) []ingest.RowError {
			row, errs := p.Parse(rec)
			if ingest.HasErrors(errs) {
				return errs
			}
			if row.UnitCF != DemoCF {
				col := "unit_institutional_id"
				return []ingest.RowError{{Row: rec.Row, Line: rec.Line, Column: &col, Code: ingest.CodeUnknownUnit,
					Message: "demo samples must belong to LAB-DEMO (" + DemoCF + ")", Value: row.UnitCF, Severity: ingest.SeverityError}}
			}
			row.Data = slices.Clone(row.Data)
			out = append(out, row)
			return errs
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
