package jobs_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/imports"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
)

func factorWorker(db postgres.DB, e *importEnv) river.Worker[jobs.FactorImportArgs] {
	return &jobs.FactorImportWorker{Imports: &imports.Service{DB: db, Blob: e.store}}
}

func TestFactorImport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	gas := uploadSpec{kind: "factors", module: "process_emissions", submodule: "process_gas"}
	const header = "category,subcategory,ef_kg_co2eq_per_unit,unit\n"
	run := func(t *testing.T, e *importEnv, id uuid.UUID, check func(tx pgx.Tx)) (uuid.UUID, int64, *rivertest.WorkResult, error) {
		t.Helper()
		pid, job := e.enqueue(ctx, t, pipeline.KindFactorUpload, jobs.FactorImportArgs{UploadID: id})
		res, err := workImport(ctx, t, e, job, func(db postgres.DB) river.Worker[jobs.FactorImportArgs] { return factorWorker(db, e) }, nil, check)
		return pid, job.ID, res, err
	}
	counters := func(t *testing.T, e *importEnv, pid uuid.UUID, jobID int64) (upserted, unchanged, deleted float64) {
		t.Helper()
		r := e.jobResult(ctx, t, pid, jobID)
		require.Equal(t, "succeeded", r.State)
		return r.Result["factors_upserted"].(float64), r.Result["factors_unchanged"].(float64), r.Result["factors_deleted"].(float64) //nolint:forcetypeassert // test
	}

	t.Run("UpsertedUnchangedStaleKeptThenDeleted", func(t *testing.T) {
		t.Parallel()
		e := newImportEnv(ctx, t)
		first := e.upload(ctx, t, gas, header+"co2,,1,kg\nch4,,27.9,kg\nn2o,,273,kg\n")
		var recalc *river.Job[*jobs.EmissionRecalcArgs]
		pid, jobID, res, err := run(t, e, first, func(tx pgx.Tx) {
			recalc = rivertest.RequireInsertedTx[*riverpgxv5.Driver](ctx, t, tx, &jobs.EmissionRecalcArgs{}, nil)
		})
		require.NoError(t, err)
		require.Equal(t, river.EventKindJobCompleted, res.EventKind)
		require.Equal(t, &jobs.EmissionRecalcArgs{Year: int(e.year), Module: "process_emissions"}, recalc.Args)
		up, same, del := counters(t, e, pid, jobID)
		require.InDelta(t, 3, up, 0)
		require.InDelta(t, 0, same, 0)
		require.InDelta(t, 0, del, 0)
		// The chained recalculation is a child of the pipeline, and the
		// module-year asks for a recalculation.
		require.Equal(t, 1, e.count(ctx, t, `SELECT count(*) FROM pipeline_jobs WHERE pipeline_id = $1 AND kind = 'emission_recalc' AND role = 'child'`, pid))
		require.Equal(t, 1, e.count(ctx, t, `SELECT recalc_requested_seq FROM module_year_state WHERE year = $1 AND module = 'process_emissions'`, e.year))

		// Same file again: nothing changes.
		second := e.upload(ctx, t, gas, header+"co2,,1,kg\nch4,,27.9,kg\nn2o,,273,kg\n")
		pid, jobID, _, err = run(t, e, second, nil)
		require.NoError(t, err)
		up, same, _ = counters(t, e, pid, jobID)
		require.InDelta(t, 0, up, 0)
		require.InDelta(t, 3, same, 0)

		// One value changed, one factor absent: the absent one is kept (stale).
		third := e.upload(ctx, t, gas, header+"co2,,1,kg\nch4,,28.5,kg\n")
		pid, jobID, _, err = run(t, e, third, nil)
		require.NoError(t, err)
		up, same, del = counters(t, e, pid, jobID)
		require.InDelta(t, 1, up, 0)
		require.InDelta(t, 1, same, 0)
		require.InDelta(t, 0, del, 0)
		require.Equal(t, 3, e.count(ctx, t, `SELECT count(*) FROM factors WHERE year = $1 AND submodule = 'process_gas'`, e.year))
		require.Equal(t, 1, e.count(ctx, t, `SELECT count(*) FROM factors WHERE year = $1 AND submodule = 'process_gas' AND last_upload_id = $2`, e.year, second),
			"n2o still points at the upload that last asserted it")
		require.Equal(t, 2, e.count(ctx, t, `SELECT count(*) FROM factors WHERE year = $1 AND submodule = 'process_gas' AND source = 'csv' AND last_upload_id = $2`, e.year, third))

		// delete_stale removes it.
		fourth := e.upload(ctx, t, uploadSpec{kind: "factors", module: "process_emissions", submodule: "process_gas", options: `{"delete_stale":true}`},
			header+"co2,,1,kg\nch4,,28.5,kg\n")
		pid, jobID, _, err = run(t, e, fourth, nil)
		require.NoError(t, err)
		_, _, del = counters(t, e, pid, jobID)
		require.InDelta(t, 1, del, 0)
		require.Equal(t, 2, e.count(ctx, t, `SELECT count(*) FROM factors WHERE year = $1 AND submodule = 'process_gas'`, e.year))
	})

	t.Run("RowErrorsReported", func(t *testing.T) {
		t.Parallel()
		e := newImportEnv(ctx, t)
		id := e.upload(ctx, t, gas, header+"co2,,1,kg\nco2,,2,kg\nch4,,abc,kg\n")
		pid, jobID, res, err := run(t, e, id, nil)
		require.NoError(t, err)
		require.Equal(t, river.EventKindJobCompleted, res.EventKind)
		r := e.jobResult(ctx, t, pid, jobID)
		require.Equal(t, int32(2), r.RowErrorsTotal)
		codes := []any{r.RowErrors[0]["code"], r.RowErrors[1]["code"]}
		require.ElementsMatch(t, []any{"duplicate_in_file", "invalid_number"}, codes)
		p, err := pipelineStatus(ctx, e, pid)
		require.NoError(t, err)
		require.Equal(t, "RUNNING", p, "the chained recalculation is still queued")
	})

	t.Run("OverlappingBandsCancelled", func(t *testing.T) {
		t.Parallel()
		e := newImportEnv(ctx, t)
		id := e.upload(ctx, t, uploadSpec{kind: "factors", module: "professional_travel", submodule: "plane"},
			"category,cabin_class,ef_kg_co2eq_per_km,rfi_adjustment,min_distance,max_distance\n"+
				"very_short_haul,economy,0.258,2.0,0,500\nshort_haul,economy,0.156,2.0,400,1500\n")
		_, _, res, err := run(t, e, id, func(tx pgx.Tx) {
			rivertest.RequireNotInsertedTx[*riverpgxv5.Driver](ctx, t, tx, &jobs.EmissionRecalcArgs{}, nil)
		})
		requireJobCancelled(t, res, err, "overlapping_bands")
		require.Equal(t, 0, e.count(ctx, t, `SELECT count(*) FROM factors WHERE year = $1 AND submodule = 'plane'`, e.year))
	})

	t.Run("ClosedYearCancelled", func(t *testing.T) {
		t.Parallel()
		e := newImportEnv(ctx, t)
		id := e.upload(ctx, t, gas, header+"co2,,1,kg\n")
		_, err := e.schema.Pool.Exec(ctx, `UPDATE years SET status = 'closed' WHERE year = $1`, e.year)
		require.NoError(t, err)
		_, _, res, err := run(t, e, id, nil)
		requireJobCancelled(t, res, err, "year_closed")
		require.Equal(t, 0, e.count(ctx, t, `SELECT count(*) FROM factors WHERE year = $1`, e.year))
	})
}

func pipelineStatus(ctx context.Context, e *importEnv, id uuid.UUID) (string, error) {
	var s string
	err := e.schema.Pool.QueryRow(ctx, `SELECT status FROM pipelines WHERE id = $1`, id).Scan(&s)
	return s, err
}
