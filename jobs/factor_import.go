package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/factors"
	"github.com/co2-calculator/co2-calculator/pkg/imports"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
)

// FactorImportArgs imports factors (docs/jobs.md §4.2) in one of two ways:
// the CSV path, {upload_id}, imports a factor upload; the computed path,
// {year, submodule, method: "computed"}, refreshes the computed
// research-facility factors of a year (docs/domain.md §7.6, POST
// /factors/compute).
type FactorImportArgs struct {
	UploadID  uuid.UUID `json:"upload_id,omitzero"`
	Year      int       `json:"year,omitempty"`
	Submodule string    `json:"submodule,omitempty"`
	// Method is MethodComputed for the computed path; empty (or "csv")
	// for the CSV path.
	Method string `json:"method,omitempty"`
}

// MethodComputed selects the computed path of factor_import.
const MethodComputed = "computed"

// Kind implements river.JobArgs.
func (FactorImportArgs) Kind() string { return "factor_import" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (FactorImportArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueImports, MaxAttempts: 3}
}

// FactorImportWorker works FactorImportArgs: imports.Service upserts the
// factors of an upload, factors.Service refreshes the computed ones, each
// in one transaction that finishes with emission_recalc{year, module}
// chained.
type FactorImportWorker struct {
	river.WorkerDefaults[FactorImportArgs]

	Imports *imports.Service
	Factors *factors.Service
}

// Timeout implements river.Worker.
func (w *FactorImportWorker) Timeout(*river.Job[FactorImportArgs]) time.Duration {
	return 15 * time.Minute
}

// Work implements river.Worker.
func (w *FactorImportWorker) Work(ctx context.Context, job *river.Job[FactorImportArgs]) error {
	if job.Args.Method != MethodComputed {
		return runImport(ctx, w.Imports, job, job.Args.UploadID, imports.KindFactors)
	}
	if w.Factors == nil {
		return river.JobCancel(errors.New("no factor service configured for computed factors"))
	}
	err := w.Factors.Compute(ctx, int32(job.Args.Year), emission.SubmoduleKey(job.Args.Submodule),
		func(ctx context.Context, tx pgx.Tx, out factors.ComputeOutcome) error {
			if err := pipeline.FinishTx(ctx, tx, job.ID, out.Result); err != nil {
				return err
			}
			if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job); err != nil {
				return fmt.Errorf("error completing job: %w", err)
			}
			return insertChildTx(ctx, tx, job.JobRow, EmissionRecalcArgs{Year: int(out.Year), Module: string(out.Module)})
		})
	return failure(err)
}

// EnqueueFactorCompute is the factors.ComputeEnqueuer of the API: the
// computed factor_import of (year, submodule), linked to its pipeline.
func EnqueueFactorCompute(client pipeline.Inserter) factors.ComputeEnqueuer {
	return func(ctx context.Context, tx pgx.Tx, pipelineID uuid.UUID, year int32, sub emission.SubmoduleKey) error {
		_, err := pipeline.InsertTx(ctx, client, tx, pipelineID,
			FactorImportArgs{Year: int(year), Submodule: string(sub), Method: MethodComputed}, nil)
		return err
	}
}
