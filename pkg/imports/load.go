package imports

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/blob"
	"github.com/co2-calculator/co2-calculator/pkg/ingest"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

// Loading an upload (docs/jobs.md §4.1–§4.3). The import jobs are thin
// adapters around Open and Load: Open is their common prologue, Load reads
// the file and writes its rows in one transaction, at the end of which it
// calls the job's Finish (pipeline result, job completion, chained jobs).

// ImportBatch is the number of entries copied (and computed) per COPY.
const ImportBatch = 10_000

// progressEvery is the number of records between two progress reports (the
// reporter itself writes at most every pipeline.ProgressInterval).
const progressEvery = 1000

// Failure codes of whole-file rejections that are not reader errors
// (docs/jobs.md §3).
const (
	ReasonNoValidRows     apperr.Reason = "no_valid_rows"
	ReasonFactorsRequired apperr.Reason = "factors_required"
)

// Outcome is what a successful load did: the pipeline result of the job
// and the jobs to chain in the same transaction.
type Outcome struct {
	Result pipeline.Result
	// Aggregate is the year whose statistics must be refreshed (data
	// imports), nil when none.
	Aggregate *int32
	// Recalc are the module-years whose emissions must be recomputed
	// (factor and reference imports).
	Recalc []ModuleYear
}

// ModuleYear names an emission_recalc target.
type ModuleYear struct {
	Year   int32
	Module string
}

// Finish ends a successful load inside its transaction: the job adapter
// records the pipeline result, completes the job and inserts the chained
// jobs there, so the pipeline turns SUCCESS exactly when the rows commit.
type Finish func(ctx context.Context, tx pgx.Tx, out Outcome) error

// RejectedError is a whole-file rejection: nothing was changed. Err carries the
// failure code (empty_file, no_valid_rows, missing_columns,
// overlapping_bands, …); Counters and RowErrors, when set, are what the
// file showed until the rejection and are kept on the pipeline.
type RejectedError struct {
	Err       *apperr.Error
	Counters  map[string]any
	RowErrors *RowErrors
}

func (r *RejectedError) Error() string { return r.Err.Label() + ": " + r.Err.Message }

func (r *RejectedError) Unwrap() error { return r.Err }

// reject turns err into a RejectedError when it is a file error (a reader or
// parser verdict on the whole file); other errors pass through.
func reject(err error, ctrs map[string]any, errs *RowErrors) error {
	var fe *ingest.FileError
	if !errors.As(err, &fe) {
		return err
	}
	ae := apperr.WithReason(apperr.CodeValidation, apperr.Reason(fe.Code), "%s", fe.Message)
	return &RejectedError{Err: ae, Counters: ctrs, RowErrors: errs}
}

func errEmptyFile() error {
	return &ingest.FileError{Code: ingest.CodeEmptyFile, Message: "the file has no data rows"}
}

func noValidRows(skipped int) error {
	return &ingest.FileError{Code: string(ReasonNoValidRows), Message: fmt.Sprintf("no valid row (%d rejected); nothing was changed", skipped)}
}

// invalidUpload is the permanent failure of an upload row the import
// cannot interpret (unknown group, dataset).
func invalidUpload(err error) error {
	return &apperr.Error{Code: apperr.CodeInvalid, Message: err.Error(), Cause: err}
}

// Open is the prologue of every import job: it reads upload id, checks that
// it is of kind, and re-checks its year with the rule the upload was
// accepted under (YearOp). A missing upload, a wrong kind or a refused year
// are application errors (permanent failures of the job).
func (s *Service) Open(ctx context.Context, id uuid.UUID, kind string) (dbsqlc.Upload, error) {
	q := dbsqlc.New(s.DB)
	up, err := q.UploadGet(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return up, apperr.NotFound("upload %s not found", id)
	}
	if err != nil {
		return up, fmt.Errorf("error reading upload %s: %w", id, err)
	}
	if up.Kind != kind {
		return up, apperr.Invalid("upload %s is a %s upload, not %s", id, up.Kind, kind)
	}
	if _, err := TableOf(up); err != nil {
		return up, invalidUpload(err)
	}
	if _, err := years.Load(ctx, q, up.Year, YearOp(up.Scope)); err != nil {
		return up, err
	}
	return up, nil
}

// YearOp is the year rule an upload of scope obeys: module-page (unit)
// uploads are data entry, the others imports (docs/domain.md §11.1).
func YearOp(scope string) years.Op {
	if scope == ScopeUnit {
		return years.OpDataEntry
	}
	return years.OpImport
}

// Load imports an opened upload according to its kind and calls finish in
// the load transaction. Errors: *RejectedError for a rejected file, other
// application errors for uploads that cannot be imported, anything else
// for I/O failures worth a retry.
func (s *Service) Load(ctx context.Context, up dbsqlc.Upload, finish Finish) error {
	var err error
	switch up.Kind {
	case KindData:
		err = s.loadData(ctx, up, finish)
	case KindFactors:
		err = s.loadFactors(ctx, up, finish)
	case KindReference:
		err = s.loadReference(ctx, up, finish)
	default:
		return apperr.Invalid("upload %s has an unknown kind %q", up.ID, up.Kind)
	}
	return reject(err, nil, nil)
}

// finishTx writes the upload.import audit event and hands the outcome to
// the job's finish, in the load transaction.
func finishTx(ctx context.Context, tx pgx.Tx, up dbsqlc.Upload, out Outcome, finish Finish) error {
	snapshot := map[string]any{"counters": out.Result.Counters, "row_errors_total": out.Result.RowErrorsTotal}
	if up.PipelineID != nil {
		snapshot["pipeline_id"] = up.PipelineID.String()
	}
	if err := auditImported(ctx, tx, up, snapshot); err != nil {
		return err
	}
	return finish(ctx, tx, out)
}

// openCSV opens a blob for one pass. A missing blob is permanent.
func openCSV(ctx context.Context, store blob.Store, key string, tbl *ingest.Table) (*ingest.Reader, io.Closer, error) {
	if store == nil {
		return nil, nil, errors.New("no blob store configured")
	}
	rc, _, err := store.Get(ctx, key)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, nil, apperr.WithReason(apperr.CodeNotFound, "file_missing", "the uploaded file %s is missing from the blob store", key)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("error opening %s: %w", key, err)
	}
	r, err := ingest.NewReader(rc, tbl, nil)
	if err != nil {
		_ = rc.Close()
		return nil, nil, err
	}
	return r, rc, nil
}

type loadStats struct {
	loaded int
	// loadedTo counts the entries loaded per report module.
	loadedTo   map[int64]int
	deleted    int64
	computed   int
	issues     int
	changed    int
	duplicates int64
}

func counters(c ingest.Counts, errs *RowErrors, loaded int, ls loadStats) map[string]any {
	m := fileCounters(c, errs, loaded)
	m["entries_deleted"], m["entries_computed"], m["calc_issues"] = ls.deleted, ls.computed, ls.issues
	m["rows_duplicate"] = ls.duplicates
	return m
}

// fileCounters are the record counters every import reports (docs/jobs.md
// §3).
func fileCounters(c ingest.Counts, errs *RowErrors, loaded int) map[string]any {
	return map[string]any{
		"rows_total": c.Total, "rows_loaded": loaded, "rows_skipped": errs.Skipped, "rows_blank": c.Blank,
		"row_warnings": errs.Warnings, "row_errors_total": errs.Total,
	}
}

// errNoValidRows ends the load transaction when no record survived.
var errNoValidRows = errors.New("no valid rows")

// loadData streams the upload's CSV from the blob store twice: the
// validate pass (row errors, units, the record count; nothing is written)
// and, in ONE transaction under the module-year lock, the replace phase
// (the previous entries the upload replaces, docs/jobs.md §4.1 table,
// deleted in batches) and the load pass: missing reports, then per batch
// of valid rows the emissions computed in Go and the entries COPYed with
// their totals followed by their emission rows (no update, no delete),
// rows_duplicate, fingerprint comparison, status/dirty marks, the
// upload.import audit event and the job's finish (result, completion,
// aggregate). Any failure rolls everything back; a retry redoes the whole
// import from the blob (idempotent). Every pass stops at the next record
// or batch once ctx is cancelled (a cancelled pipeline).
func (s *Service) loadData(ctx context.Context, up dbsqlc.Upload, finish Finish) error {
	if up.Module == nil {
		return apperr.Invalid("data upload %s has no module", up.ID)
	}
	imp, err := newDataImport(ctx, s.DB, up)
	if err != nil {
		return err
	}
	imp.report = s.reporter(ctx)
	t0 := time.Now()

	imp.report(PhaseValidate, 0, 0, "Validating rows")

	// Validate pass: parse every record, no write. Its progress total is
	// estimated from the bytes read; the load pass knows it exactly.
	vr, err := imp.validate(ctx, s.Blob)
	if err != nil {
		return err
	}
	if vr.counts.Total == 0 || vr.counts.Total == vr.counts.Blank {
		return reject(errEmptyFile(), nil, nil)
	}
	if vr.valid == 0 {
		return reject(noValidRows(vr.errs.Skipped), counters(vr.counts, &vr.errs, 0, loadStats{}), &vr.errs)
	}

	// Replace and load: one transaction.
	tValidate := time.Now()
	var tLoad time.Time
	var rejected error
	var ls loadStats
	err = postgres.WithTx(ctx, s.DB, func(ctx context.Context, tx pgx.Tx) error {
		var (
			errs   RowErrors
			counts ingest.Counts
			err    error
		)
		ls, errs, counts, err = imp.load(ctx, tx, s.Blob, vr, s.batchSize(), s.now())
		if errors.Is(err, errNoValidRows) {
			rejected = reject(noValidRows(errs.Skipped), counters(counts, &errs, 0, ls), &errs)
			return err
		}
		if err != nil {
			return err
		}
		msg := fmt.Sprintf("%d rows loaded, %d skipped, %d warnings", ls.loaded, errs.Skipped, errs.Warnings)
		if ls.duplicates > 0 {
			msg += fmt.Sprintf(", %d identical to rows already there", ls.duplicates)
		}
		res := pipeline.Result{
			Counters:  counters(counts, &errs, ls.loaded, ls),
			RowErrors: errs.List(), RowErrorsTotal: errs.Total, Message: msg,
		}
		if ignored := imp.ignored; len(ignored) > 0 {
			res.Counters["ignored_columns"] = ignored
		}
		tLoad = time.Now()
		return finishTx(ctx, tx, up, Outcome{Result: res, Aggregate: &up.Year}, finish)
	})
	if rejected != nil {
		return rejected
	}
	if err == nil {
		s.logger().InfoContext(ctx, "upload imported", slog.String("upload_id", up.ID.String()), slog.Int64("rows", vr.records),
			slog.Int64("replaced", ls.deleted), slog.Duration("validate", tValidate.Sub(t0)),
			slog.Duration("replace", imp.replaceTime), slog.Duration("load", tLoad.Sub(tValidate)-imp.replaceTime),
			slog.Duration("commit", time.Since(tLoad)))
	}
	if err == nil && ls.loaded+int(ls.deleted) >= s.batchSize() {
		s.analyze(ctx)
	}
	return err
}

// analyze refreshes the planner statistics of the entry tables after an
// import that wrote or deleted at least a batch of entries, once it
// committed: the next replacement of the module, the lists and the
// recalculation plan with the module's real size rather than with what
// autovacuum last saw (issue 17: a replacement planned on stale statistics
// took minutes). A failure is only logged: the import is done.
func (s *Service) analyze(ctx context.Context) {
	t0 := time.Now()
	if err := dbsqlc.New(s.DB).ImportAnalyze(ctx); err != nil {
		s.logger().WarnContext(ctx, "error analyzing the entry tables", slog.Any("error", err))
		return
	}
	s.logger().DebugContext(ctx, "entry tables analyzed", slog.Duration("took", time.Since(t0)))
}
