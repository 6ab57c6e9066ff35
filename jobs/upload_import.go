package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/blob"
	"github.com/co2-calculator/co2-calculator/pkg/calc"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/imports"
	"github.com/co2-calculator/co2-calculator/pkg/ingest"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/years"
	"github.com/co2-calculator/co2-calculator/pkg/report"
)

// UploadImportArgs imports a data upload (jobs.md §4.1). Everything else is
// read from the uploads row.
type UploadImportArgs struct {
	UploadID uuid.UUID `json:"upload_id"`
}

// Kind implements river.JobArgs.
func (UploadImportArgs) Kind() string { return "upload_import" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (UploadImportArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueImports, MaxAttempts: 3}
}

// ImportBatch is the number of entries copied (and computed) per COPY.
const ImportBatch = 10_000

// progressEvery is the number of records between two progress reports (the
// reporter itself writes at most once per second).
const progressEvery = 1000

// UploadImportWorker works UploadImportArgs.
type UploadImportWorker struct {
	river.WorkerDefaults[UploadImportArgs]

	DB     postgres.DB
	Blob   blob.Store
	Logger *slog.Logger
	Now    func() time.Time
	// BatchSize defaults to ImportBatch.
	BatchSize int
}

// Timeout implements river.Worker.
func (w *UploadImportWorker) Timeout(*river.Job[UploadImportArgs]) time.Duration {
	return 30 * time.Minute
}

// errNoValidRows ends the load transaction when no record survived.
var errNoValidRows = errors.New("no valid rows")

// Work streams the upload's CSV from the blob store twice: the validate
// pass (row errors, units, the record count; nothing is written) and, in
// ONE transaction under the module-year lock, the load pass: replacement
// of the previous entries (jobs.md §4.1 table), missing reports, then per
// batch of valid rows the emissions computed in Go and the entries COPYed
// with their totals followed by their emission rows (no update, no
// delete), fingerprint comparison, status/dirty marks, result, the
// upload.import audit event, JobCompleteTx and the chained aggregate. Any
// failure rolls everything back; a retry redoes the whole import from the
// blob (idempotent).
func (w *UploadImportWorker) Work(ctx context.Context, job *river.Job[UploadImportArgs]) error {
	q := dbsqlc.New(w.DB)
	up, err := q.UploadGet(ctx, job.Args.UploadID)
	if errors.Is(err, pgx.ErrNoRows) {
		return river.JobCancel(fmt.Errorf("upload %s not found", job.Args.UploadID))
	}
	if err != nil {
		return fmt.Errorf("error reading upload %s: %w", job.Args.UploadID, err)
	}
	if up.Kind != imports.KindData || up.Module == nil {
		return river.JobCancel(fmt.Errorf("upload %s is not a data upload", up.ID))
	}
	if err := checkImportYear(ctx, q, up.Year, up.Scope == imports.ScopeUnit); err != nil {
		return err
	}
	imp, err := newDataImport(ctx, w.DB, up)
	if err != nil {
		return err
	}
	rep := pipeline.ReporterFrom(ctx)
	t0 := time.Now()

	rep.Progress(ctx, "validate", 0, 0, "Validating rows")

	// Validate pass: parse every record, no write. Its progress total is
	// estimated from the bytes read; the load pass knows it exactly.
	vr, err := imp.validate(ctx, w.Blob, func(done, estimate int64, valid, rejected int) {
		rep.Progress(ctx, "validate", done, estimate,
			fmt.Sprintf("Validated %d of about %d rows (%d valid, %d rejected)", done, estimate, valid, rejected))
	})
	if err != nil {
		return w.fail(ctx, job.ID, err, nil, nil)
	}
	total := vr.records
	if vr.counts.Total == 0 || vr.counts.Total == vr.counts.Blank {
		return w.fail(ctx, job.ID, errEmptyFile(), nil, nil)
	}
	if vr.valid == 0 {
		return w.fail(ctx, job.ID, noValidRows(vr.errs.Skipped), counters(vr.counts, &vr.errs, 0, loadStats{}), &vr.errs)
	}

	// Load pass: one transaction.
	tValidate := time.Now()
	var tLoad time.Time
	now := nowFunc(w.Now)()
	var res pipeline.Result
	err = postgres.WithTx(ctx, w.DB, func(ctx context.Context, tx pgx.Tx) error {
		ls, errs, counts, err := imp.load(ctx, tx, w.Blob, vr.unitIDs, w.batchSize(), now, func(done int64) {
			rep.Progress(ctx, "load", done, max(total, done), fmt.Sprintf("Loaded %d of %d rows", done, max(total, done)))
		})
		if err != nil {
			if errors.Is(err, errNoValidRows) {
				res = pipeline.Result{Counters: counters(counts, &errs, 0, ls), RowErrors: errs.List(), RowErrorsTotal: errs.Total}
			}
			return err
		}
		res = pipeline.Result{
			Counters:  counters(counts, &errs, ls.loaded, ls),
			RowErrors: errs.List(), RowErrorsTotal: errs.Total,
			Message: fmt.Sprintf("%d rows loaded, %d skipped, %d warnings", ls.loaded, errs.Skipped, errs.Warnings),
		}
		if ignored := imp.ignored; len(ignored) > 0 {
			res.Counters["ignored_columns"] = ignored
		}
		tLoad = time.Now()
		if err := finishImportTx(ctx, tx, job, up, res); err != nil {
			return err
		}
		return insertChildTx(ctx, tx, job.JobRow, AggregateArgs{Year: int(up.Year)})
	})
	if err == nil && w.Logger != nil {
		w.Logger.InfoContext(ctx, "upload imported", slog.String("upload_id", up.ID.String()), slog.Int64("rows", total),
			slog.Duration("validate", tValidate.Sub(t0)),
			slog.Duration("load", tLoad.Sub(tValidate)), slog.Duration("commit", time.Since(tLoad)))
	}
	if errors.Is(err, errNoValidRows) {
		rows, _ := res.RowErrors.([]ingest.RowError)
		errs := imports.RowErrors{Items: rows, Total: res.RowErrorsTotal}
		return w.fail(ctx, job.ID, noValidRows(len(rows)), res.Counters, &errs)
	}
	return err
}

func (w *UploadImportWorker) batchSize() int {
	if w.BatchSize > 0 {
		return w.BatchSize
	}
	return ImportBatch
}

func (w *UploadImportWorker) fail(ctx context.Context, jobID int64, err error, ctrs map[string]any, errs *imports.RowErrors) error {
	return failImport(ctx, w.DB, jobID, err, ctrs, errs)
}

func noValidRows(skipped int) error {
	return &ingest.FileError{Code: "no_valid_rows", Message: fmt.Sprintf("no valid row (%d rejected); nothing was changed", skipped)}
}

// failImport turns a whole-file failure into a permanent failure
// (river.JobCancel) after recording the counters and row errors; other
// errors (blob or database I/O) are returned as is: River retries them.
func failImport(ctx context.Context, db postgres.DBTX, jobID int64, err error, ctrs map[string]any, errs *imports.RowErrors) error {
	var fe *ingest.FileError
	if !errors.As(err, &fe) {
		return err
	}
	if ctrs != nil || errs != nil {
		if ctrs == nil {
			ctrs = map[string]any{}
		}
		if errs == nil {
			errs = &imports.RowErrors{}
		}
		res, jerr := json.Marshal(ctrs)
		if jerr != nil {
			return fmt.Errorf("error encoding counters: %w", jerr)
		}
		rows, jerr := json.Marshal(errs.List())
		if jerr != nil {
			return fmt.Errorf("error encoding row errors: %w", jerr)
		}
		if rerr := dbsqlc.New(db).ImportJobRecordRows(ctx, dbsqlc.ImportJobRecordRowsParams{
			Result: res, RowErrors: rows, RowErrorsTotal: int32(errs.Total), JobID: jobID,
		}); rerr != nil {
			return fmt.Errorf("error recording row errors: %w", rerr)
		}
	}
	return river.JobCancel(errors.New(imports.FailureMessage(fe)))
}

// finishImportTx ends a successful import in its transaction: the
// pipeline result, the `upload.import` audit event (counters, pipeline)
// and the job's completion.
func finishImportTx[T river.JobArgs](ctx context.Context, tx pgx.Tx, job *river.Job[T], up dbsqlc.Upload, res pipeline.Result) error {
	if err := pipeline.FinishTx(ctx, tx, job.ID, res); err != nil {
		return err
	}
	snapshot := map[string]any{"counters": res.Counters, "row_errors_total": res.RowErrorsTotal, "job_id": job.ID}
	if up.PipelineID != nil {
		snapshot["pipeline_id"] = up.PipelineID.String()
	}
	if err := audit.NewHooks(nil).UploadImported(ctx, tx, audit.Upload{ID: up.ID.String(), UploadedBy: up.UploadedBy, Snapshot: snapshot}); err != nil {
		return fmt.Errorf("error auditing the import: %w", err)
	}
	if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job); err != nil {
		return fmt.Errorf("error completing job: %w", err)
	}
	return nil
}

// checkImportYear re-checks the year (jobs.md §4.1 step 1) with the rule the
// upload was accepted with; a refusal is a permanent failure.
func checkImportYear(ctx context.Context, q *dbsqlc.Queries, year int32, openOnly bool) error {
	op := years.OpImport
	if openOnly {
		op = years.OpDataEntry
	}
	_, err := years.Load(ctx, q, year, op)
	return failure(err)
}

// openCSV opens a blob for one pass. A missing blob is permanent.
func openCSV(ctx context.Context, store blob.Store, key string, tbl *ingest.Table) (*ingest.Reader, io.Closer, error) {
	if store == nil {
		return nil, nil, errors.New("no blob store configured")
	}
	rc, _, err := store.Get(ctx, key)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, nil, river.JobCancel(fmt.Errorf("the uploaded file %s is missing from the blob store", key))
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
	loaded   int
	deleted  int64
	computed int
	issues   int
	changed  int
}

func counters(c ingest.Counts, errs *imports.RowErrors, loaded int, ls loadStats) map[string]any {
	m := fileCounters(c, errs, loaded)
	m["entries_deleted"], m["entries_computed"], m["calc_issues"] = ls.deleted, ls.computed, ls.issues
	return m
}

// fileCounters are the record counters every import reports (jobs.md §3).
func fileCounters(c ingest.Counts, errs *imports.RowErrors, loaded int) map[string]any {
	return map[string]any{
		"rows_total": c.Total, "rows_loaded": loaded, "rows_skipped": errs.Skipped, "rows_blank": c.Blank,
		"row_warnings": errs.Warnings, "row_errors_total": errs.Total,
	}
}

// errEmptyFile is the job failure of a file without data records.
func errEmptyFile() error {
	return &ingest.FileError{Code: ingest.CodeEmptyFile, Message: "the file has no data rows"}
}

// dataImport is the state shared by the passes of one data upload.
type dataImport struct {
	up      dbsqlc.Upload
	year    int32
	module  emission.ModuleKey
	group   string
	table   *ingest.Table
	opts    ingest.DataOptions
	units   map[string]dbsqlc.ImportUnitsRow // by cf
	ignored []string
}

func newDataImport(ctx context.Context, db postgres.DBTX, up dbsqlc.Upload) (*dataImport, error) {
	module, sub := deref(up.Module), deref(up.Submodule)
	group, err := imports.DataGroup(module, sub)
	if err != nil {
		return nil, river.JobCancel(err)
	}
	tbl, err := imports.TableOf(up)
	if err != nil {
		return nil, river.JobCancel(err)
	}
	imp := &dataImport{up: up, year: up.Year, module: emission.ModuleKey(module), group: group, table: tbl}
	q := dbsqlc.New(db)
	perYear := up.Scope == imports.ScopeYear
	imp.opts = ingest.DataOptions{PerYear: perYear, Year: int(up.Year)}
	if perYear {
		rows, err := q.ImportUnits(ctx)
		if err != nil {
			return nil, fmt.Errorf("error loading units: %w", err)
		}
		imp.units = make(map[string]dbsqlc.ImportUnitsRow, len(rows))
		for _, u := range rows {
			imp.units[ingest.NormalizeUnitCF(u.Cf)] = u
		}
		imp.opts.Unit = func(cf string) ingest.UnitStatus {
			u, ok := imp.units[cf]
			switch {
			case !ok:
				return ingest.UnitUnknown
			case !u.IsActive:
				return ingest.UnitInactive
			}
			return ingest.UnitActive
		}
	}
	if imp.module == emission.ModulePurchases {
		cats, n, err := purchaseRoutes(ctx, q, up.Year)
		if err != nil {
			return nil, err
		}
		if n == 0 && group == ingest.GroupPurchases {
			return nil, river.JobCancel(fmt.Errorf("factors_required: no purchase factors for %d", up.Year))
		}
		imp.opts.PurchaseCategories = func(code, add string) []emission.SubmoduleKey {
			if k := emission.Fold(code) + "\x00" + emission.Fold(add); emission.Fold(add) != "" {
				return cats[k]
			}
			return cats[emission.Fold(code)]
		}
	}
	return imp, nil
}

// purchaseRoutes maps folded institutional codes (and code + additional
// code) to the purchase categories having a factor for them.
func purchaseRoutes(ctx context.Context, q *dbsqlc.Queries, year int32) (map[string][]emission.SubmoduleKey, int, error) {
	rows, err := q.FactorsByYearModule(ctx, dbsqlc.FactorsByYearModuleParams{Year: year, Module: string(emission.ModulePurchases)})
	if err != nil {
		return nil, 0, fmt.Errorf("error loading purchase factors: %w", err)
	}
	out := map[string][]emission.SubmoduleKey{}
	for _, r := range rows {
		sub := emission.SubmoduleKey(r.Submodule)
		if !emission.IsPurchaseCategory(sub) {
			continue
		}
		var cls map[string]string
		if err := json.Unmarshal(r.Classification, &cls); err != nil {
			continue
		}
		code, add := emission.Fold(cls["purchase_institutional_code"]), emission.Fold(cls["purchase_additional_code"])
		keys := []string{code}
		if add != "" {
			keys = append(keys, code+"\x00"+add)
		}
		for _, k := range keys {
			if !slices.Contains(out[k], sub) {
				out[k] = append(out[k], sub)
			}
		}
	}
	return out, len(rows), nil
}

type validateResult struct {
	records int64 // data records (blank ones excluded)
	counts  ingest.Counts
	errs    imports.RowErrors
	valid   int
	unitIDs []int64
}

// validate parses every record without writing anything.
func (d *dataImport) validate(ctx context.Context, store blob.Store, progress func(done, estimate int64, valid, rejected int)) (validateResult, error) {
	var vr validateResult
	r, c, err := openCSV(ctx, store, d.up.BlobKey, d.table)
	if err != nil {
		return vr, err
	}
	defer c.Close()
	d.ignored = r.IgnoredColumns()
	p, err := ingest.NewDataParser(d.group, d.opts)
	if err != nil {
		return vr, river.JobCancel(err)
	}
	units := map[int64]bool{}
	var done int64
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return vr, err
		}
		done++
		row, errs := p.Parse(rec)
		errs = append(rec.Errors(), errs...)
		if !vr.errs.Add(errs) {
			vr.valid++
			if d.units != nil {
				units[d.units[row.UnitCF].ID] = true
			}
		}
		if done%progressEvery == 0 {
			if ctx.Err() != nil {
				return vr, ctx.Err()
			}
			estimate := done
			if off := r.Offset(); off > 0 && d.up.SizeBytes > off {
				estimate = done * d.up.SizeBytes / off
			}
			progress(done, estimate, vr.valid, vr.errs.Skipped)
		}
	}
	progress(done, done, vr.valid, vr.errs.Skipped)
	vr.records = done
	vr.counts = r.Counts()
	vr.unitIDs = slices.Sorted(maps.Keys(units))
	return vr, nil
}

// submodules are the submodules the upload writes (and replaces).
func (d *dataImport) submodules() []string {
	if d.group != ingest.GroupEquipment && d.group != ingest.GroupPurchases {
		return []string{d.group}
	}
	info, _ := emission.LookupModule(d.module)
	var out []string
	for _, s := range info.Submodules {
		if emission.IsEquipmentSubmodule(s) || emission.IsPurchaseCategory(s) {
			out = append(out, string(s))
		}
	}
	return out
}

func (d *dataImport) source() string {
	if d.up.Scope == imports.ScopeYear {
		return imports.SourceCSVYear
	}
	return imports.SourceCSVUnit
}

// load runs inside the import transaction; see Work.
func (d *dataImport) load(ctx context.Context, tx pgx.Tx, store blob.Store, unitIDs []int64, batchSize int, now time.Time,
	progress func(done int64),
) (loadStats, imports.RowErrors, ingest.Counts, error) {
	var ls loadStats
	var errs imports.RowErrors
	q := dbsqlc.New(tx)
	if err := q.LockModuleYear(ctx, report.ModuleYearLockKey(string(d.module), d.year)); err != nil {
		return ls, errs, ingest.Counts{}, fmt.Errorf("error locking %s/%d: %w", d.module, d.year, err)
	}
	// Target report modules: by unit (per-year) or the upload's.
	rmByUnit := map[int64]int64{}
	if d.up.Scope == imports.ScopeYear {
		var err error
		if rmByUnit, err = ensureReportModules(ctx, q, d.year, d.module, unitIDs); err != nil {
			return ls, errs, ingest.Counts{}, err
		}
	} else if d.up.ReportModuleID == nil || d.up.UnitID == nil {
		return ls, errs, ingest.Counts{}, river.JobCancel(errors.New("unit upload without report module"))
	}
	subs := d.submodules()
	student := d.group == string(emission.SubStudent)

	// Fingerprints before, then the replacement (jobs.md §4.1 table).
	touched := map[int64]bool{}
	var fpSource *string
	if !student {
		fpSource = new(d.source())
	}
	if d.up.Scope == imports.ScopeYear {
		ids, err := q.ImportReportModulesWithSource(ctx, dbsqlc.ImportReportModulesWithSourceParams{Year: d.year, Module: string(d.module), Submodules: subs, Source: imports.SourceCSVYear})
		if err != nil {
			return ls, errs, ingest.Counts{}, fmt.Errorf("error listing replaced modules: %w", err)
		}
		for _, id := range ids {
			touched[id] = true
		}
		for _, id := range rmByUnit {
			touched[id] = true
		}
	} else {
		touched[*d.up.ReportModuleID] = true
	}
	before, err := fingerprints(ctx, q, touched, subs, fpSource)
	if err != nil {
		return ls, errs, ingest.Counts{}, err
	}
	replace := d.up.Scope == imports.ScopeYear || imports.OptionsOf(d.up).ReplaceExisting || student
	if replace {
		if ls.deleted, err = d.replace(ctx, q, subs, rmByUnit, student); err != nil {
			return ls, errs, ingest.Counts{}, err
		}
	}
	// Members surviving the replacement (duplicate SCIPERs).
	taken := map[string]bool{}
	if d.group == string(emission.SubMember) {
		params := dbsqlc.ImportMemberScipersParams{Year: d.year}
		if d.up.Scope == imports.ScopeUnit {
			params.ReportModuleID = d.up.ReportModuleID
		}
		rows, err := q.ImportMemberScipers(ctx, params)
		if err != nil {
			return ls, errs, ingest.Counts{}, fmt.Errorf("error reading members: %w", err)
		}
		for _, m := range rows {
			taken[fmt.Sprint(m.ReportModuleID, "\x00", m.Sciper)] = true
		}
	}

	lk, lkErr := calc.LoadLookup(ctx, tx, int(d.year), d.module)
	if lk == nil {
		return ls, errs, ingest.Counts{}, lkErr
	}

	r, c, err := openCSV(ctx, store, d.up.BlobKey, d.table)
	if err != nil {
		return ls, errs, ingest.Counts{}, err
	}
	defer c.Close()
	p, err := ingest.NewDataParser(d.group, d.opts)
	if err != nil {
		return ls, errs, ingest.Counts{}, river.JobCancel(err)
	}
	shared := &batchShared{d: d, q: q, tx: tx, lk: lk, now: now, errs: &errs, ls: &ls}
	done, err := d.copyRecords(ctx, r, p, shared, rmByUnit, taken, batchSize, progress)
	if err != nil {
		return ls, errs, r.Counts(), err
	}
	progress(done)
	counts := r.Counts()
	if ls.loaded == 0 {
		return ls, errs, counts, errNoValidRows
	}
	// Fingerprints after: modules whose entry set changed become
	// in_progress and dirty; the others only get their stats refreshed.
	after, err := fingerprints(ctx, q, touched, subs, fpSource)
	if err != nil {
		return ls, errs, counts, err
	}
	var changed, same []int64
	for _, id := range slices.Sorted(maps.Keys(touched)) {
		if before[id] != after[id] {
			changed = append(changed, id)
		} else {
			same = append(same, id)
		}
	}
	if len(changed) > 0 {
		if _, err := q.ReportModulesMarkDataChanged(ctx, dbsqlc.ReportModulesMarkDataChangedParams{Ids: changed, ChangedBy: d.up.UploadedBy}); err != nil {
			return ls, errs, counts, fmt.Errorf("error marking modules changed: %w", err)
		}
	}
	if len(same) > 0 {
		if _, err := q.ReportModulesMarkStatsDirty(ctx, same); err != nil {
			return ls, errs, counts, fmt.Errorf("error marking modules dirty: %w", err)
		}
	}
	ls.changed = len(changed)
	return ls, errs, counts, nil
}

func (d *dataImport) replace(ctx context.Context, q *dbsqlc.Queries, subs []string, rmByUnit map[int64]int64, student bool) (int64, error) {
	var n int64
	switch {
	case d.up.Scope == imports.ScopeYear && student:
		rows, err := q.ImportDeleteStudents(ctx, dbsqlc.ImportDeleteStudentsParams{Year: d.year, ReportModuleIds: slices.Collect(maps.Values(rmByUnit))})
		if err != nil {
			return 0, fmt.Errorf("error replacing student entries: %w", err)
		}
		for _, r := range rows {
			n += r.Deleted
		}
	case d.up.Scope == imports.ScopeYear:
		rows, err := q.EntriesDeleteByYearSource(ctx, dbsqlc.EntriesDeleteByYearSourceParams{Year: d.year, Module: string(d.module), Submodules: subs, Source: imports.SourceCSVYear})
		if err != nil {
			return 0, fmt.Errorf("error replacing entries: %w", err)
		}
		for _, r := range rows {
			n += r.Deleted
		}
	case student: // unit upload: the report module's single student entry, whatever its source
		for _, src := range []string{"manual", imports.SourceCSVYear, imports.SourceCSVUnit} {
			m, err := q.EntriesDeleteByReportModuleSource(ctx, dbsqlc.EntriesDeleteByReportModuleSourceParams{
				ReportModuleID: *d.up.ReportModuleID, Submodules: subs, Source: src})
			if err != nil {
				return 0, fmt.Errorf("error replacing the student entry: %w", err)
			}
			n += m
		}
	default:
		m, err := q.EntriesDeleteByReportModuleSource(ctx, dbsqlc.EntriesDeleteByReportModuleSourceParams{
			ReportModuleID: *d.up.ReportModuleID, Submodules: subs, Source: imports.SourceCSVUnit})
		if err != nil {
			return 0, fmt.Errorf("error replacing entries: %w", err)
		}
		n = m
	}
	return n, nil
}

func fingerprints(ctx context.Context, q *dbsqlc.Queries, ids map[int64]bool, subs []string, source *string) (map[int64]string, error) {
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := q.ImportFingerprints(ctx, dbsqlc.ImportFingerprintsParams{
		ReportModuleIds: slices.Collect(maps.Keys(ids)), Submodules: subs, Source: source})
	if err != nil {
		return nil, fmt.Errorf("error computing fingerprints: %w", err)
	}
	for _, r := range rows {
		out[r.ReportModuleID] = r.Fingerprint
	}
	return out, nil
}

// ensureReportModules creates the missing reports of the units and returns
// the report module of module by unit.
func ensureReportModules(ctx context.Context, q *dbsqlc.Queries, year int32, module emission.ModuleKey, unitIDs []int64) (map[int64]int64, error) {
	out := make(map[int64]int64, len(unitIDs))
	if len(unitIDs) == 0 {
		return out, nil
	}
	rows, err := q.ImportReportModulesEnsure(ctx, dbsqlc.ImportReportModulesEnsureParams{
		Year: year, EnabledModules: int16(len(emission.Modules())), UnitIds: unitIDs, Module: string(module)})
	if err != nil {
		return nil, fmt.Errorf("error creating reports: %w", err)
	}
	for _, r := range rows {
		out[r.UnitID] = r.ID
	}
	return out, nil
}

// copyRecords is the load pass's loop: it parses the records, checks the
// duplicates, and hands batches of valid rows to a batchWriter, which
// writes them on the import transaction while the next batch is parsed.
// It returns the number of records read; ls and the row errors are
// complete when it returns (the writer has ended).
func (d *dataImport) copyRecords(ctx context.Context, r *ingest.Reader, p *ingest.DataParser, shared *batchShared,
	rmByUnit map[int64]int64, taken map[string]bool, batchSize int, progress func(done int64),
) (int64, error) {
	w := startBatchWriter(ctx)
	cur := &entryBatch{batchShared: shared}
	var done int64
	fail := func(err error) (int64, error) {
		_ = w.close() // the writer's own error, if any, is secondary
		return done, err
	}
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(err)
		}
		done++
		row, rowErrs := p.Parse(rec)
		rowErrs = append(rec.Errors(), rowErrs...)
		idx := -1
		if !ingest.HasErrors(rowErrs) {
			rm, ok := rmByUnit[d.units[row.UnitCF].ID], d.up.Scope == imports.ScopeYear
			if !ok {
				rm = *d.up.ReportModuleID
			} else if rm == 0 {
				return fail(fmt.Errorf("no report module for unit %s (concurrent report creation): retrying", row.UnitCF))
			}
			if m, isMember := row.Payload.(*emission.Member); isMember {
				key := fmt.Sprint(rm, "\x00", m.UserInstitutionalID)
				if taken[key] {
					col := "user_institutional_id"
					rowErrs = append(rowErrs, ingest.RowError{Row: rec.Row, Line: rec.Line, Column: &col,
						Code: ingest.CodeDuplicateInstitutionalID, Severity: ingest.SeverityError, Value: m.UserInstitutionalID,
						Message: "SCIPER " + m.UserInstitutionalID + " already has an entry in this module"})
				}
				taken[key] = true
			}
			if !ingest.HasErrors(rowErrs) {
				idx = len(cur.rows)
				cur.add(row, rm)
			}
		}
		// Errors are recorded in record order by the writer, once the
		// batch is computed (a loaded row may get an unknown_location
		// warning then).
		cur.recs = append(cur.recs, recordErrs{errs: rowErrs, row: idx})
		if len(cur.rows) >= batchSize || len(cur.recs) >= 2*batchSize {
			if err := w.send(cur); err != nil {
				return fail(err)
			}
			cur = &entryBatch{batchShared: shared}
		}
		if done%progressEvery == 0 {
			if ctx.Err() != nil {
				return fail(ctx.Err())
			}
			progress(done)
		}
	}
	if len(cur.recs) > 0 {
		if err := w.send(cur); err != nil {
			return fail(err)
		}
	}
	return done, w.close()
}

// batchWriter writes batches in order, in a goroutine of its own that is
// the only user of the import transaction while it runs: parsing the next
// batch overlaps the database work of the previous one. At most one batch
// waits while one is written.
type batchWriter struct {
	in   chan *entryBatch
	done chan error
	err  error
	over bool
}

func startBatchWriter(ctx context.Context) *batchWriter {
	w := &batchWriter{in: make(chan *entryBatch), done: make(chan error, 1)}
	go func() {
		for b := range w.in {
			if err := b.write(ctx); err != nil {
				w.done <- err
				return
			}
		}
		w.done <- nil
	}()
	return w
}

// send hands a batch to the writer; it fails with the writer's error when
// the writer stopped on one.
func (w *batchWriter) send(b *entryBatch) error {
	select {
	case w.in <- b:
		return nil
	case err := <-w.done:
		w.err, w.over = err, true
		return err
	}
}

// close waits for the writer to finish the batches sent and returns its
// error. The transaction is free again when it returns.
func (w *batchWriter) close() error {
	if !w.over {
		close(w.in)
		w.err, w.over = <-w.done, true
	}
	return w.err
}

// batchShared is what every batch of one load writes with and into.
type batchShared struct {
	d    *dataImport
	q    *dbsqlc.Queries
	tx   pgx.Tx
	lk   *emission.Lookup
	now  time.Time
	errs *imports.RowErrors // written by the batch writer only
	ls   *loadStats         // written by the batch writer only
}

// recordErrs are the errors of one record of a batch; row is the record's
// index in the batch's rows when it is loaded, -1 when it is skipped.
type recordErrs struct {
	errs []ingest.RowError
	row  int
}

// entryBatch is a batch of valid rows with the errors of every record
// read while it filled: reserved ids, emissions computed in Go, entries
// COPYed with their totals, then their emission rows.
type entryBatch struct {
	*batchShared
	rows []ingest.DataRow
	rms  []int64
	recs []recordErrs
}

func (b *entryBatch) add(row ingest.DataRow, rm int64) {
	row.Data = slices.Clone(row.Data)
	b.rows = append(b.rows, row)
	b.rms = append(b.rms, rm)
}

// write stores the batch, then records the errors of its records in order.
func (b *entryBatch) write(ctx context.Context) error {
	var out []calc.Computed
	if len(b.rows) > 0 {
		var err error
		if out, err = b.store(ctx); err != nil {
			return err
		}
	}
	for _, rec := range b.recs {
		errs := rec.errs
		if rec.row >= 0 {
			r, c := &b.rows[rec.row], &out[rec.row]
			if c.Outcome.Status == emission.StatusUnknownLocation {
				errs = append(errs, ingest.RowError{Row: r.Row, Line: r.Line, Code: ingest.CodeUnknownLocation,
					Severity: ingest.SeverityWarning, Message: c.Outcome.Message, Value: truncate(c.Outcome.Message)})
			}
			if c.Outcome.Status.IsIssue() {
				b.ls.issues++
			}
		}
		b.errs.Add(errs)
	}
	b.ls.loaded += len(b.rows)
	b.ls.computed += len(out)
	return nil
}

// store writes the batch's entries and emission rows.
func (b *entryBatch) store(ctx context.Context) ([]calc.Computed, error) {
	d := b.d
	ids, err := b.q.EntryIDsReserve(ctx, int32(len(b.rows)))
	if err != nil {
		return nil, fmt.Errorf("error reserving entry ids: %w", err)
	}
	unitID := func(i int) int64 {
		if d.up.Scope == imports.ScopeYear {
			return d.units[b.rows[i].UnitCF].ID
		}
		return *d.up.UnitID
	}
	// Compute first: the entries are COPYed with their totals, then their
	// emission rows (no update, no delete: the entries are new).
	src := d.source()
	entries := make([]dbsqlc.DataEntry, len(b.rows))
	for i, r := range b.rows {
		entries[i] = dbsqlc.DataEntry{ID: ids[i], ReportModuleID: b.rms[i], UnitID: unitID(i), Year: d.year,
			Module: string(r.Module), Submodule: string(r.Submodule), Data: r.Data, KgOverride: r.KgOverride, Source: src}
	}
	cb, err := calc.Compute(b.lk, entries, b.now)
	if err != nil {
		return nil, err
	}
	params := make([]dbsqlc.EntriesCopyFromParams, len(b.rows))
	for i, r := range b.rows {
		var owner, msg *string
		if r.OwnerSciper != "" {
			owner = new(r.OwnerSciper)
		}
		o := &cb.Out[i].Outcome
		if o.Message != "" {
			msg = new(o.Message)
		}
		var factor *int64
		if o.PrimaryFactorID != 0 {
			factor = new(int64(o.PrimaryFactorID))
		}
		e := &entries[i]
		params[i] = dbsqlc.EntriesCopyFromParams{
			ID: e.ID, ReportModuleID: e.ReportModuleID, UnitID: e.UnitID, Year: d.year, Module: e.Module,
			Submodule: e.Submodule, Data: r.Data, KgOverride: r.KgOverride, Source: src, UploadID: &d.up.ID,
			OwnerSciper: owner, CalcStatus: string(o.Status), CalcMessage: msg, PrimaryFactorID: factor,
			KgCo2eq: float64(o.Kg), KgCo2eqAdditional: float64(o.KgAdditional), ComputedAt: &b.now,
			CreatedBy: d.up.UploadedBy, UpdatedBy: d.up.UploadedBy,
		}
	}
	if _, err := b.q.EntriesCopyFrom(ctx, params); err != nil {
		return nil, fmt.Errorf("error copying entries: %w", err)
	}
	if err := calc.StoreNewRows(ctx, b.tx, cb); err != nil {
		return nil, err
	}
	return cb.Out, nil
}

func truncate(s string) string {
	if len(s) <= 100 {
		return s
	}
	return strings.ToValidUTF8(s[:100], "")
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
