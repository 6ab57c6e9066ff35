package tableau

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/calc"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/imports"
	"github.com/co2-calculator/co2-calculator/pkg/ingest"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

// The sync of one year (docs/jobs.md §4.6). Phase fetch: sign in, check the
// metadata's captions, then one query per month of the year (a page: a
// MATCH filter on the departure date), each object mapped as it is decoded
// and the valid trips spooled to a temporary file; a page that fails is
// retried, and nothing is written before every page arrived. Phase load,
// one transaction under the module-year lock: the missing reports of the
// units are created, the trips are staged and their fingerprints compared
// with each report module's current Tableau entries; only the modules
// whose set changed have their Tableau entries replaced (deleted in
// batches, the new ones computed and COPYed by the imports' entry writer)
// and become in_progress. Running it twice changes nothing (R2.9).

// Phases of the job (docs/jobs.md §2.4).
const (
	PhaseFetch = "fetch"
	PhaseLoad  = "load"
)

// Source is data_entries.source of the synced trips (read-only, D7).
const Source = "tableau"

// integrationName is the integration_state row of the sync.
const integrationName = "tableau"

// Failure codes of a sync (docs/jobs.md §3).
const (
	ReasonNotConfigured       apperr.Reason = "integration_not_configured"
	ReasonUpstreamAuth        apperr.Reason = "upstream_auth_failed"
	ReasonUpstreamSchema      apperr.Reason = "upstream_schema_changed"
	ReasonUpstreamUnavailable apperr.Reason = "upstream_unavailable"
)

// ErrUnavailable marks a transient failure of Tableau (no answer, 429,
// 5xx, an answer cut short, after the client's own retries): River
// retries the job ("upstream_unavailable: …").
var ErrUnavailable = errors.New(string(ReasonUpstreamUnavailable))

// EventSync is the audit event of a successful sync (entity
// integration/tableau:<year>).
const EventSync = "tableau.sync"

// Counters of a sync's result (docs/jobs.md §3).
const (
	CounterRowsTotal     = "rows_total"
	CounterRowsOtherYear = "rows_other_year"
	CounterRowsLoaded    = "rows_loaded"
	CounterRowsSkipped   = "rows_skipped"
)

// Service runs the syncs and answers the API's trigger. The worker sets
// DB and Client; the API sets DB, Enabled and Enqueue.
type Service struct {
	DB postgres.DB
	// Client calls Tableau (the worker); nil: Tableau is not configured.
	Client *Client
	// Enabled tells the API, which holds no client, that Tableau is
	// configured (TABLEAU_*).
	Enabled bool
	// Enqueue inserts tableau_travel_sync{year} linked to a pipeline (the
	// API's trigger); nil: the trigger answers 503.
	Enqueue Enqueuer
	Logger  *slog.Logger
	// Now stamps computed_at of the trips; nil is time.Now.
	Now func() time.Time
	// BatchSize is the number of entries per COPY; 0 means
	// imports.ImportBatch.
	BatchSize int
	// SpoolDir holds the temporary file of a sync's trips ("" is the
	// system's temporary directory).
	SpoolDir string
	// Progress, when set, receives the progress reports instead of the
	// job's pipeline reporter (tests).
	Progress func(ctx context.Context, phase string, done, total int64, message string)
}

// Enqueuer inserts a sync of year in tx, linked to pipeline pipelineID as a
// root job.
type Enqueuer func(ctx context.Context, tx pgx.Tx, pipelineID uuid.UUID, year int32) error

// Configured tells whether Tableau is configured.
func (s *Service) Configured() bool { return s.Enabled || s.Client != nil }

func errNotConfigured() error {
	return apperr.WithReason(apperr.CodeConflict, ReasonNotConfigured,
		"Tableau is not configured (TABLEAU_SERVER_URL, TABLEAU_DATASOURCE_LUID, TABLEAU_CLIENT_ID, TABLEAU_SECRET_ID, TABLEAU_SECRET_VALUE, TABLEAU_USERNAME)")
}

// Run names one sync: the year and the job (integration_state's pipeline).
type Run struct {
	Year  int32
	JobID int64
}

// Months is the number of pages of a sync: one query per month.
const Months = 12

// fetched is what the fetch phase read.
type fetched struct {
	total     int // objects returned by every page
	otherYear int
	valid     int
	errs      imports.RowErrors
	units     map[int64]bool
	signIns   int
}

func (f *fetched) counters() map[string]any {
	return map[string]any{
		CounterRowsTotal: f.total, CounterRowsOtherYear: f.otherYear, CounterRowsLoaded: f.valid,
		CounterRowsSkipped: f.errs.Skipped, "row_warnings": f.errs.Warnings, "row_errors_total": f.errs.Total,
	}
}

// Sync runs the sync of run.Year and calls finish in its load transaction
// (the job's result, completion and aggregate). Errors: application errors
// end the job for good (a refused year, upstream_auth_failed,
// upstream_schema_changed, *imports.RejectedError for no_valid_rows with
// its counters and row errors); upstream_unavailable and every other error
// are transient (River retries; nothing was changed).
func (s *Service) Sync(ctx context.Context, run Run, finish imports.Finish) error {
	err := s.sync(ctx, run, finish)
	if err != nil && ctx.Err() == nil {
		s.recordFailure(context.WithoutCancel(ctx), run, err)
	}
	return err
}

func (s *Service) sync(ctx context.Context, run Run, finish imports.Finish) error {
	if s.Client == nil {
		return errNotConfigured()
	}
	q := dbsqlc.New(s.DB)
	if _, err := years.Load(ctx, q, run.Year, years.OpImport); err != nil {
		return err
	}
	rep := s.reporter(ctx)
	t0 := time.Now()
	rep(PhaseFetch, 0, Months, "Signing in to Tableau")
	m, err := s.mapper(ctx, run.Year)
	if err != nil {
		return err
	}
	sp, err := newSpool(s.SpoolDir)
	if err != nil {
		return err
	}
	defer sp.remove()
	f, err := s.fetch(ctx, run.Year, m, sp, rep)
	if err != nil {
		return classify(err)
	}
	if f.valid == 0 {
		msg := fmt.Sprintf("no valid trip for %d (%d rows, %d rejected); nothing was changed", run.Year, f.total, f.errs.Skipped)
		return &imports.RejectedError{Err: apperr.WithReason(apperr.CodeValidation, imports.ReasonNoValidRows, "%s", msg),
			Counters: f.counters(), RowErrors: &f.errs}
	}
	tFetch := time.Now()
	var ld loaded
	err = postgres.WithTx(ctx, s.DB, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if ld, err = s.load(ctx, tx, run, f, sp, rep); err != nil {
			return err
		}
		return s.finishTx(ctx, tx, run, f, ld, finish)
	})
	if err == nil {
		s.logger().InfoContext(ctx, "tableau sync done", slog.Int("year", int(run.Year)), slog.Int("rows", f.total),
			slog.Int("valid", f.valid), slog.Int("modules_changed", len(ld.changed)), slog.Int("inserted", ld.written.Loaded),
			slog.Int64("deleted", ld.deleted), slog.Duration("fetch", tFetch.Sub(t0)), slog.Duration("load", time.Since(tFetch)),
			slog.Duration("lock", ld.tLock), slog.Duration("stage", ld.tStage), slog.Duration("compare", ld.tCompare),
			slog.Duration("delete", ld.tDelete), slog.Duration("insert", ld.tInsert))
	}
	return err
}

// mapper loads what the mapping needs: the active units by cf and the
// known airports.
func (s *Service) mapper(ctx context.Context, year int32) (*Mapper, error) {
	rows, err := dbsqlc.New(s.DB).ImportUnits(ctx)
	if err != nil {
		return nil, fmt.Errorf("error loading units: %w", err)
	}
	active := make(map[string]int64, len(rows))
	for _, u := range rows {
		if u.IsActive {
			active[ingest.NormalizeUnitCF(u.Cf)] = u.ID
		}
	}
	lk, err := calc.LoadLookup(ctx, s.DB, int(year), emission.ModuleProfessionalTravel)
	if lk == nil {
		return nil, err
	}
	return &Mapper{
		Year: int(year),
		Unit: func(cf string) (int64, bool) { id, ok := active[cf]; return id, ok },
		Airport: func(iata string) bool {
			_, ok := lk.Locations.Airport(iata)
			return ok
		},
	}, nil
}

// fetch is the fetch phase: sign in, check the captions, one query per
// month. A page's objects are mapped as they are decoded and kept until
// the page is complete (a retried page starts again), then its valid
// trips go to the spool and its row errors to f.errs.
func (s *Service) fetch(ctx context.Context, year int32, m *Mapper, sp *spool, rep reportFunc) (*fetched, error) {
	sess, err := s.Client.SignIn(ctx)
	if err != nil {
		return nil, err
	}
	defer sess.SignOut(ctx)
	fields, err := sess.ReadMetadata(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkCaptions(fields); err != nil {
		return nil, err
	}
	f := &fetched{units: map[int64]bool{}}
	var page []Mapped
	var pageTotal, pageOther int
	for month := 1; month <= Months; month++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		prefix := fmt.Sprintf("%04d%02d", year, month)
		start := func() { page, pageTotal, pageOther = page[:0], 0, 0 }
		err := sess.Query(ctx, Query{Captions: Captions(), FilterCaption: CaptionDeparture, StartsWith: prefix}, start, func(obj Row) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			pageTotal++
			mp := m.Map(f.total+pageTotal, obj)
			if mp.OtherYear {
				pageOther++
				return nil
			}
			page = append(page, mp)
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, mp := range page {
			if mp.Valid() {
				if err := sp.add(mp); err != nil {
					return nil, err
				}
				f.valid++
				f.units[mp.UnitID] = true
			}
			f.errs.Add(mp.Errs)
		}
		f.total += pageTotal
		f.otherYear += pageOther
		rep(PhaseFetch, int64(month), Months, fmt.Sprintf("Fetched %d of %d months: %d rows (%d valid, %d rejected)",
			month, Months, f.total, f.valid, f.errs.Skipped))
	}
	f.signIns = sess.SignIns()
	return f, nil
}

// checkCaptions refuses a datasource that lacks a required caption.
func checkCaptions(fields []Field) error {
	have := make(map[string]bool, len(fields))
	for _, f := range fields {
		have[f.FieldCaption] = true
	}
	var missing []string
	for _, c := range Captions() {
		if !have[c] {
			missing = append(missing, strconv.Quote(c))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return apperr.WithReason(apperr.CodeConflict, ReasonUpstreamSchema,
		"the Tableau datasource has no field captioned %s (renamed or removed); the sync reads %d fields by caption",
		strings.Join(missing, ", "), len(Captions()))
}

// classify turns a Tableau failure into the job's outcome: 401/403 and
// unexpected answers are permanent application errors, the rest a
// transient ErrUnavailable.
func classify(err error) error {
	e, ok := errors.AsType[*Error](err)
	if !ok {
		return err
	}
	switch e.Kind {
	case Refused:
		return &apperr.Error{Code: apperr.CodeConflict, Reason: ReasonUpstreamAuth, Message: e.Error(), Cause: err}
	case Unexpected:
		return &apperr.Error{Code: apperr.CodeConflict, Reason: ReasonUpstreamSchema, Message: e.Error(), Cause: err}
	default:
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
}

// loaded is what the load phase changed, and how long its steps took
// (log).
type loaded struct {
	changed   []int64 // report modules whose trips were replaced
	unchanged int
	deleted   int64
	written   imports.Written

	tLock, tStage, tCompare, tDelete, tInsert time.Duration
}

// stageBatch is the number of trips per COPY into tableau_staging.
const stageBatch = 10_000

// load is the load phase, in the sync's transaction.
func (s *Service) load(ctx context.Context, tx pgx.Tx, run Run, f *fetched, sp *spool, rep reportFunc) (loaded, error) {
	var ld loaded
	q := dbsqlc.New(tx)
	module := emission.ModuleProfessionalTravel
	rep(PhaseLoad, 0, int64(f.valid), "Waiting for the professional travel data of the year")
	t0 := time.Now()
	if err := q.LockModuleYear(ctx, report.ModuleYearLockKey(string(module), run.Year)); err != nil {
		return ld, fmt.Errorf("error locking %s/%d: %w", module, run.Year, err)
	}
	ld.tLock = time.Since(t0)
	if _, err := years.Load(ctx, q, run.Year, years.OpImport); err != nil {
		return ld, err
	}
	rmByUnit, err := imports.EnsureReportModules(ctx, q, run.Year, module, slices.Sorted(maps.Keys(f.units)))
	if err != nil {
		return ld, err
	}
	for u := range f.units {
		if rmByUnit[u] == 0 {
			return ld, fmt.Errorf("no report module for unit %d (concurrent report creation): retrying", u)
		}
	}

	// Stage the trips of the modules that hold Tableau entries, then
	// compare each one's set with its entries. A module without entries
	// that gets trips is changed: its trips need no staging (a first sync
	// stages nothing).
	holding, err := q.TableauReportModules(ctx, run.Year)
	if err != nil {
		return ld, fmt.Errorf("error listing the modules holding trips: %w", err)
	}
	has := make(map[int64]bool, len(holding))
	for _, rm := range holding {
		has[rm] = true
	}
	loadID := uuid.New()
	rep(PhaseLoad, 0, int64(f.valid), fmt.Sprintf("Comparing %d trips with the current ones", f.valid))
	count := map[int64]int64{} // new trips by report module
	batch := make([]dbsqlc.TableauStageCopyFromParams, 0, stageBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if _, err := q.TableauStageCopyFrom(ctx, batch); err != nil {
			return fmt.Errorf("error staging trips: %w", err)
		}
		batch = batch[:0]
		return nil
	}
	err = sp.each(func(row ingest.DataRow, unit int64) error {
		rm := rmByUnit[unit]
		count[rm]++
		if !has[rm] {
			return nil
		}
		batch = append(batch, dbsqlc.TableauStageCopyFromParams{LoadID: loadID, ReportModuleID: rm,
			Submodule: string(row.Submodule), Data: row.Data, KgOverride: row.KgOverride})
		if len(batch) == stageBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return ld, err
	}
	ld.tStage = time.Since(t0) - ld.tLock
	changed := map[int64]bool{}
	for rm := range count {
		changed[rm] = !has[rm] // compared below otherwise
	}
	if len(has) > 0 {
		fps, err := q.TableauFingerprints(ctx, dbsqlc.TableauFingerprintsParams{Year: run.Year, LoadID: loadID})
		if err != nil {
			return ld, fmt.Errorf("error computing fingerprints: %w", err)
		}
		if _, err := q.TableauStagingClear(ctx, loadID); err != nil {
			return ld, fmt.Errorf("error clearing staged trips: %w", err)
		}
		current, staged := map[int64]string{}, map[int64]string{}
		for _, r := range fps {
			if r.Staged {
				staged[r.ReportModuleID] = r.Fingerprint
			} else {
				current[r.ReportModuleID] = r.Fingerprint
			}
		}
		// A module that had trips and gets none has the staged
		// fingerprint "": changed (emptied).
		for rm := range has {
			changed[rm] = current[rm] != staged[rm]
		}
	}
	var toInsert int64
	for rm, c := range changed {
		if c {
			ld.changed = append(ld.changed, rm)
			toInsert += count[rm]
		} else {
			ld.unchanged++
		}
	}
	slices.Sort(ld.changed)
	ld.tCompare = time.Since(t0) - ld.tLock - ld.tStage
	if len(ld.changed) == 0 {
		rep(PhaseLoad, int64(f.valid), int64(f.valid), fmt.Sprintf("%d trips, none changed", f.valid))
		return ld, nil
	}

	// Replace the trips of the changed modules.
	ids, err := q.TableauEntryIDs(ctx, dbsqlc.TableauEntryIDsParams{Year: run.Year, ReportModuleIds: ld.changed})
	if err != nil {
		return ld, fmt.Errorf("error listing the replaced trips: %w", err)
	}
	if len(ids) > 0 {
		total := int64(len(ids))
		rep(PhaseLoad, 0, total, fmt.Sprintf("Removing %d previous trips", total))
		if ld.deleted, err = imports.DeleteEntries(ctx, q, ids, s.batchSize(), func(done int) {
			rep(PhaseLoad, int64(done), total, fmt.Sprintf("Removed %d of %d previous trips", done, total))
		}); err != nil {
			return ld, err
		}
	}
	ld.tDelete = time.Since(t0) - ld.tLock - ld.tStage - ld.tCompare
	lk, err := calc.LoadLookup(ctx, tx, int(run.Year), module)
	if lk == nil {
		return ld, err
	}
	w := imports.NewEntryWriter(ctx, tx, lk, imports.EntryTarget{Year: run.Year, Source: Source}, s.now(), s.batchSize())
	var done int64
	rep(PhaseLoad, 0, toInsert, fmt.Sprintf("Loading %d trips", toInsert))
	err = sp.each(func(row ingest.DataRow, unit int64) error {
		rm := rmByUnit[unit]
		if !changed[rm] {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		done++
		if done%1000 == 0 {
			rep(PhaseLoad, done, toInsert, fmt.Sprintf("Loaded %d of %d trips", done, toInsert))
		}
		return w.Add(row, rm, unit)
	})
	written, werr := w.Close()
	if err == nil {
		err = werr
	}
	if err != nil {
		return ld, err
	}
	ld.written = written
	ld.tInsert = time.Since(t0) - ld.tLock - ld.tStage - ld.tCompare - ld.tDelete
	rep(PhaseLoad, done, done, fmt.Sprintf("Loaded %d trips", done))
	if _, err := q.ReportModulesMarkDataChanged(ctx, dbsqlc.ReportModulesMarkDataChangedParams{Ids: ld.changed}); err != nil {
		return ld, fmt.Errorf("error marking modules changed: %w", err)
	}
	return ld, nil
}

// finishTx records the sync (integration_state, audit) and hands its
// outcome to the job's finish, in the load transaction.
func (s *Service) finishTx(ctx context.Context, tx pgx.Tx, run Run, f *fetched, ld loaded, finish imports.Finish) error {
	ctrs := f.counters()
	ctrs["entries_deleted"], ctrs["entries_computed"], ctrs["calc_issues"] = ld.deleted, ld.written.Computed, ld.written.Issues
	ctrs["modules_changed"], ctrs["modules_unchanged"] = len(ld.changed), ld.unchanged
	msg := fmt.Sprintf("%d: %d trips synced (%d report modules changed, %d unchanged), %d skipped, %d warnings",
		run.Year, f.valid, len(ld.changed), ld.unchanged, f.errs.Skipped, f.errs.Warnings)
	q := dbsqlc.New(tx)
	pid := firstPipeline(ctx, q, run.JobID)
	details := map[string]any{fieldYear: run.Year, "rows_fetched": f.total, "rows_loaded": f.valid, "rows_skipped": f.errs.Skipped,
		"rows_other_year": f.otherYear, "row_warnings": f.errs.Warnings, "modules_changed": len(ld.changed),
		"modules_unchanged": ld.unchanged, "entries_deleted": ld.deleted, "entries_inserted": ld.written.Loaded, "sign_ins": f.signIns}
	b, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("error encoding integration details: %w", err)
	}
	if err := q.IntegrationStateRecord(ctx, dbsqlc.IntegrationStateRecordParams{Name: integrationName, Success: true,
		LastStatus: new(statusOf(f)), LastMessage: &msg, LastPipelineID: pid, Details: b}); err != nil {
		return fmt.Errorf("error recording integration state: %w", err)
	}
	snapshot := map[string]any{fieldYear: run.Year, "counters": ctrs, "changed_report_modules": ld.changed, "job_id": run.JobID}
	if pid != nil {
		snapshot["pipeline_id"] = pid.String()
	}
	if err := audit.Record(ctx, tx, nil, audit.Event{Action: audit.ActionUpdate, Event: EventSync, EntityType: "integration",
		EntityID: integrationName + ":" + strconv.Itoa(int(run.Year)), Snapshot: snapshot}); err != nil {
		return fmt.Errorf("error auditing %s: %w", EventSync, err)
	}
	out := imports.Outcome{Result: pipeline.Result{Counters: ctrs, RowErrors: f.errs.List(), RowErrorsTotal: f.errs.Total, Message: msg}}
	if len(ld.changed) > 0 {
		out.Aggregate = &run.Year
	}
	return finish(ctx, tx, out)
}

// statusOf is the pipeline status a successful sync ends with.
func statusOf(f *fetched) string {
	if f.errs.Skipped > 0 {
		return string(pipeline.StatusPartial)
	}
	return string(pipeline.StatusSuccess)
}

// recordFailure records a failed sync in integration_state('tableau'); a
// failure to record it is only logged.
func (s *Service) recordFailure(ctx context.Context, run Run, cause error) {
	q := dbsqlc.New(s.DB)
	msg := fmt.Sprintf("%d: %s", run.Year, failureMessage(cause))
	if err := q.IntegrationStateRecord(ctx, dbsqlc.IntegrationStateRecordParams{Name: integrationName, Success: false,
		LastStatus: new(string(pipeline.StatusFailed)), LastMessage: &msg, LastPipelineID: firstPipeline(ctx, q, run.JobID),
		Details: []byte(`{}`)}); err != nil {
		s.logger().WarnContext(ctx, "could not record the Tableau sync failure", slog.String("error", err.Error()))
	}
}

// failureMessage is "<code>: <message>" for an application error.
func failureMessage(err error) string {
	if ae, ok := errors.AsType[*apperr.Error](err); ok {
		return ae.Label() + ": " + ae.Message
	}
	return err.Error()
}

// firstPipeline is one pipeline of the job, if any.
func firstPipeline(ctx context.Context, q *dbsqlc.Queries, jobID int64) *uuid.UUID {
	if ids, err := q.PipelineIDsByJob(ctx, jobID); err == nil && len(ids) > 0 {
		return &ids[0]
	}
	return nil
}

// reportFunc reports the sync's phase, done/total and a message.
type reportFunc func(phase string, done, total int64, message string)

func (s *Service) reporter(ctx context.Context) reportFunc {
	if s.Progress != nil {
		return func(phase string, done, total int64, message string) { s.Progress(ctx, phase, done, total, message) }
	}
	rep := pipeline.ReporterFrom(ctx)
	return func(phase string, done, total int64, message string) { rep.Progress(ctx, phase, done, total, message) }
}

func (s *Service) batchSize() int {
	if s.BatchSize > 0 {
		return s.BatchSize
	}
	return imports.ImportBatch
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}
