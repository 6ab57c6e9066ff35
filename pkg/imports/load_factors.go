package imports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/ingest"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
)

// loadFactors imports a factor file (docs/jobs.md §4.2, CSV path): it
// parses the file (row errors, duplicate identities, plane band overlaps),
// then in one transaction under the module-year lock upserts the valid
// factors (source csv, last_upload_id), deletes the stale ones when
// delete_stale was asked, bumps the recalculation sequence, and finishes
// with emission_recalc{year, module} to chain. Factor files are small
// (hundreds of rows): they are held in memory and upserted row by row (the
// upsert reports inserted/changed per row).
func (s *Service) loadFactors(ctx context.Context, up dbsqlc.Upload, finish Finish) error {
	group, pinned, err := FactorGroup(deref(up.Module), deref(up.Submodule))
	if err != nil {
		return invalidUpload(err)
	}
	module := FactorModule(group)
	tbl, err := ingest.FactorTable(group)
	if err != nil {
		return invalidUpload(err)
	}
	rep := s.reporter(ctx)

	r, c, err := openCSV(ctx, s.Blob, up.BlobKey, tbl)
	if err != nil {
		return err
	}
	defer c.Close()
	p, err := ingest.NewFactorParser(group, pinned)
	if err != nil {
		return invalidUpload(err)
	}
	var rows []ingest.FactorRow
	var errs RowErrors
	var done int64
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		done++
		row, rowErrs := p.Parse(rec)
		if !errs.Add(append(rec.Errors(), rowErrs...)) {
			rows = append(rows, row)
		}
		if done%progressEvery == 0 {
			rep("import", done, 0, fmt.Sprintf("Read %d rows", done))
		}
	}
	counts := r.Counts()
	ctrs := fileCounters(counts, &errs, len(rows))
	if err := p.Finish(); err != nil {
		return reject(err, ctrs, &errs)
	}
	if counts.Total == counts.Blank {
		return reject(errEmptyFile(), ctrs, &errs)
	}
	if len(rows) == 0 {
		return reject(noValidRows(errs.Skipped), ctrs, &errs)
	}
	total := int64(len(rows))
	rep("import", 0, total, fmt.Sprintf("Importing %d factors", total))

	return postgres.WithTx(ctx, s.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := dbsqlc.New(tx)
		if err := q.LockModuleYear(ctx, report.ModuleYearLockKey(string(module), up.Year)); err != nil {
			return fmt.Errorf("error locking %s/%d: %w", module, up.Year, err)
		}
		var inserted, changed, unchanged, deleted int
		for i, row := range rows {
			cls, err := json.Marshal(row.Classification)
			if err != nil {
				return fmt.Errorf("error encoding a classification: %w", err)
			}
			vals, err := json.Marshal(row.Values)
			if err != nil {
				return fmt.Errorf("error encoding factor values: %w", err)
			}
			res, err := q.FactorUpsert(ctx, dbsqlc.FactorUpsertParams{
				Year: up.Year, Module: string(row.Module), Submodule: string(row.Submodule), EmissionType: string(row.EmissionType),
				Classification: cls, ClassKey: row.ClassKey, Values: vals, Source: "csv", LastUploadID: &up.ID, UpdatedBy: up.UploadedBy,
			})
			if err != nil {
				return fmt.Errorf("error upserting factor %s %s: %w", row.Submodule, row.ClassKey, err)
			}
			switch {
			case res.Inserted:
				inserted++
			case res.Changed:
				changed++
			default:
				unchanged++
			}
			if (i+1)%progressEvery == 0 {
				rep("import", int64(i+1), total, fmt.Sprintf("Imported %d of %d factors", i+1, total))
			}
		}
		if OptionsOf(up).DeleteStale {
			subs := ingest.FactorGroupSubmodules(group)
			if pinned != "" {
				subs = []emission.SubmoduleKey{pinned}
			}
			names := make([]string, len(subs))
			for i, s := range subs {
				names[i] = string(s)
			}
			gone, err := q.FactorsDeleteNotAsserted(ctx, dbsqlc.FactorsDeleteNotAssertedParams{Year: up.Year, Submodules: names, UploadID: up.ID})
			if err != nil {
				return fmt.Errorf("error deleting stale factors: %w", err)
			}
			deleted = len(gone)
		}
		if _, err := q.ModuleYearStateBump(ctx, dbsqlc.ModuleYearStateBumpParams{Year: up.Year, Module: string(module), Reason: "factors"}); err != nil {
			return fmt.Errorf("error requesting recalculation: %w", err)
		}
		ctrs["factors_upserted"] = inserted + changed
		ctrs["factors_unchanged"] = unchanged
		ctrs["factors_deleted"] = deleted
		return finishTx(ctx, tx, up, Outcome{
			Result: pipeline.Result{
				Counters: ctrs, RowErrors: errs.List(), RowErrorsTotal: errs.Total,
				Message: fmt.Sprintf("%d factors imported (%d new or changed, %d unchanged), %d rows skipped", len(rows), inserted+changed, unchanged, errs.Skipped),
			},
			Recalc: []ModuleYear{{Year: up.Year, Module: string(module)}},
		}, finish)
	})
}
