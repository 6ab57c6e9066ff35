package imports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/blob"
	"github.com/co2-calculator/co2-calculator/pkg/calc"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/ingest"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
)

// The data import (docs/jobs.md §4.1): a validate pass and a load pass
// over the uploaded file, both streamed from the blob store.

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
	report  reportFunc
	// replaceTime is how long the replace phase took (log).
	replaceTime time.Duration
}

// Phases of a data import (the phases of upload_import, docs/jobs.md
// §2.4): replace is reported only when the upload replaces entries.
const (
	PhaseValidate = "validate"
	PhaseReplace  = "replace"
	PhaseLoad     = "load"
)

func newDataImport(ctx context.Context, db postgres.DBTX, up dbsqlc.Upload) (*dataImport, error) {
	module, sub := deref(up.Module), deref(up.Submodule)
	group, err := DataGroup(module, sub)
	if err != nil {
		return nil, invalidUpload(err)
	}
	tbl, err := TableOf(up)
	if err != nil {
		return nil, invalidUpload(err)
	}
	imp := &dataImport{up: up, year: up.Year, module: emission.ModuleKey(module), group: group, table: tbl}
	q := dbsqlc.New(db)
	perYear := up.Scope == ScopeYear
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
			return nil, apperr.WithReason(apperr.CodeValidation, ReasonFactorsRequired, "no purchase factors for %d", up.Year)
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
	errs    RowErrors
	valid   int
	unitIDs []int64
}

// validate parses every record without writing anything; it stops at the
// next record once ctx is cancelled.
func (d *dataImport) validate(ctx context.Context, store blob.Store) (validateResult, error) {
	var vr validateResult
	r, c, err := openCSV(ctx, store, d.up.BlobKey, d.table)
	if err != nil {
		return vr, err
	}
	defer c.Close()
	d.ignored = r.IgnoredColumns()
	opts := d.opts
	opts.NoData = true // nothing is written
	p, err := ingest.NewDataParser(d.group, opts)
	if err != nil {
		return vr, invalidUpload(err)
	}
	progress := func(done, estimate int64) {
		d.report(PhaseValidate, done, estimate,
			fmt.Sprintf("Validated %d of about %d rows (%d valid, %d rejected)", done, estimate, vr.valid, vr.errs.Skipped))
	}
	units := map[int64]bool{}
	var done int64
	for {
		if err := ctx.Err(); err != nil {
			return vr, err
		}
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
			estimate := done
			if off := r.Offset(); off > 0 && d.up.SizeBytes > off {
				estimate = done * d.up.SizeBytes / off
			}
			progress(done, estimate)
		}
	}
	progress(done, done)
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
	if d.up.Scope == ScopeYear {
		return SourceCSVYear
	}
	return SourceCSVUnit
}

// target is what every entry of the upload shares.
func (d *dataImport) target() EntryTarget {
	return EntryTarget{Year: d.year, Source: d.source(), UploadID: &d.up.ID, By: d.up.UploadedBy, LocationWarnings: true}
}

// unitOf is the unit of a valid row: the row's (per-year file) or the
// upload's.
func (d *dataImport) unitOf(row ingest.DataRow) int64 {
	if d.up.Scope == ScopeYear {
		return d.units[row.UnitCF].ID
	}
	return *d.up.UnitID
}

// load runs inside the import transaction; see Service.loadData.
func (d *dataImport) load(ctx context.Context, tx pgx.Tx, store blob.Store, vr validateResult, batchSize int, now time.Time,
) (loadStats, RowErrors, ingest.Counts, error) {
	var ls loadStats
	var errs RowErrors
	subs := d.submodules()
	student := d.group == string(emission.SubStudent)
	replace := d.up.Scope == ScopeYear || OptionsOf(d.up).ReplaceExisting || student
	total := vr.records
	loadProgress := func(done int64) {
		d.report(PhaseLoad, done, max(total, done), fmt.Sprintf("Loaded %d of %d rows", done, max(total, done)))
	}
	// The first phase of the transaction is shown while it waits for the
	// module-year lock.
	if replace {
		d.report(PhaseReplace, 0, 0, "Removing previous rows")
	} else {
		loadProgress(0)
	}
	q := dbsqlc.New(tx)
	if err := q.LockModuleYear(ctx, report.ModuleYearLockKey(string(d.module), d.year)); err != nil {
		return ls, errs, ingest.Counts{}, fmt.Errorf("error locking %s/%d: %w", d.module, d.year, err)
	}
	// Target report modules: by unit (per-year) or the upload's.
	rmByUnit := map[int64]int64{}
	var targets []int64
	switch {
	case d.up.Scope == ScopeYear:
		var err error
		if rmByUnit, err = EnsureReportModules(ctx, q, d.year, d.module, vr.unitIDs); err != nil {
			return ls, errs, ingest.Counts{}, err
		}
		targets = slices.Sorted(maps.Values(rmByUnit))
	case d.up.ReportModuleID == nil || d.up.UnitID == nil:
		return ls, errs, ingest.Counts{}, apperr.New(apperr.CodeInvalid, "unit upload %s has no report module", d.up.ID)
	default:
		targets = []int64{*d.up.ReportModuleID}
	}

	// Fingerprints before, then the replacement (docs/jobs.md §4.1 table).
	rp, err := d.replaced(ctx, q, subs, targets, student, replace)
	if err != nil {
		return ls, errs, ingest.Counts{}, err
	}
	var fpSource *string
	if !student {
		fpSource = new(d.source())
	}
	before, err := fingerprints(ctx, q, rp.touched, subs, fpSource)
	if err != nil {
		return ls, errs, ingest.Counts{}, err
	}
	if replace {
		t0 := time.Now()
		if ls.deleted, err = d.replace(ctx, q, rp, subs, targets, student, batchSize); err != nil {
			return ls, errs, ingest.Counts{}, err
		}
		d.replaceTime = time.Since(t0)
		loadProgress(0)
	}
	// Entries that survive the replacement: only then can loaded rows
	// duplicate existing ones (rows_duplicate).
	survivors, err := q.ImportEntriesExist(ctx, dbsqlc.ImportEntriesExistParams{ReportModuleIds: targets, Submodules: subs})
	if err != nil {
		return ls, errs, ingest.Counts{}, fmt.Errorf("error reading existing entries: %w", err)
	}
	// Members surviving the replacement (duplicate SCIPERs).
	taken := map[string]bool{}
	if d.group == string(emission.SubMember) {
		params := dbsqlc.ImportMemberScipersParams{Year: d.year}
		if d.up.Scope == ScopeUnit {
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
		return ls, errs, ingest.Counts{}, invalidUpload(err)
	}
	// The ids of every valid row, reserved at once: the batches are then
	// computed by the loop that reads them while the previous one is
	// COPYed (batchWriter.send).
	ids, err := q.EntryIDsReserve(ctx, int32(min(vr.valid, math.MaxInt32)))
	if err != nil {
		return ls, errs, ingest.Counts{}, fmt.Errorf("error reserving entry ids: %w", err)
	}
	shared := &batchShared{target: d.target(), q: q, tx: tx, ids: ids, lk: lk, now: now, errs: &errs, ls: &ls}
	done, err := d.copyRecords(ctx, r, p, shared, rmByUnit, taken, batchSize, loadProgress)
	if err != nil {
		return ls, errs, r.Counts(), err
	}
	loadProgress(done)
	counts := r.Counts()
	if ls.loaded == 0 {
		return ls, errs, counts, errNoValidRows
	}
	if survivors {
		if ls.duplicates, err = q.ImportDuplicateRows(ctx, dbsqlc.ImportDuplicateRowsParams{
			UploadID: d.up.ID, ReportModuleIds: targets, Submodules: subs}); err != nil {
			return ls, errs, counts, fmt.Errorf("error counting duplicate rows: %w", err)
		}
	}
	// Fingerprints after: modules whose entry set changed become
	// in_progress and dirty; the others only get their stats refreshed.
	// Only modules whose entry count may be unchanged are fingerprinted
	// again (a scan of everything loaded there): one that had no such
	// entries before changed exactly when rows were loaded into it, and
	// after a replacement by id the count is unchanged only when as many
	// rows were loaded there as ids were deleted (the student rules delete
	// by statement: always fingerprinted).
	again := map[int64]bool{}
	for id := range before {
		if student || rp.idsIn[id] == ls.loadedTo[id] {
			again[id] = true
		}
	}
	after, err := fingerprints(ctx, q, again, subs, fpSource)
	if err != nil {
		return ls, errs, counts, err
	}
	var changed, same []int64
	for _, id := range slices.Sorted(maps.Keys(rp.touched)) {
		fp, had := before[id]
		switch {
		case !had && ls.loadedTo[id] > 0, had && !again[id], had && fp != after[id]:
			changed = append(changed, id)
		default:
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
	// Their stats, computed here while the loaded entries are this
	// transaction's own rows in cache: the aggregate job then only
	// refreshes their reports (migration 000020).
	refs := make([]report.ModuleRef, 0, len(changed)+len(same))
	for _, id := range slices.Concat(changed, same) {
		refs = append(refs, report.ModuleRef{ID: id, Module: string(d.module)})
	}
	if err := report.StoreCurrentStats(ctx, tx, refs, now); err != nil {
		return ls, errs, counts, err
	}
	return ls, errs, counts, nil
}

// replacement is what an upload replaces (docs/jobs.md §4.1 table): the
// report modules whose entry set it may change (fingerprinted before and
// after the load) and the entries deleted by id, in batches (the student
// rules delete at most one entry per report module, by statement).
type replacement struct {
	touched map[int64]bool
	ids     []int64
	// idsIn counts ids by report module.
	idsIn map[int64]int
}

// replaced lists what the upload replaces; targets are the report modules
// it loads into.
func (d *dataImport) replaced(ctx context.Context, q *dbsqlc.Queries, subs []string, targets []int64, student, replace bool) (replacement, error) {
	rp := replacement{touched: map[int64]bool{}, idsIn: map[int64]int{}}
	for _, id := range targets {
		rp.touched[id] = true
	}
	switch {
	case d.up.Scope == ScopeYear:
		rows, err := q.ImportReplacedByYear(ctx, dbsqlc.ImportReplacedByYearParams{Year: d.year, Module: string(d.module), Submodules: subs, Source: SourceCSVYear})
		if err != nil {
			return rp, fmt.Errorf("error listing replaced entries: %w", err)
		}
		for _, r := range rows {
			rp.touched[r.ReportModuleID] = true
			if !student {
				rp.ids = append(rp.ids, r.ID)
				rp.idsIn[r.ReportModuleID]++
			}
		}
	case replace && !student:
		ids, err := q.ImportReplacedByReportModule(ctx, dbsqlc.ImportReplacedByReportModuleParams{
			ReportModuleID: *d.up.ReportModuleID, Submodules: subs, Source: SourceCSVUnit})
		if err != nil {
			return rp, fmt.Errorf("error listing replaced entries: %w", err)
		}
		rp.ids = ids
		rp.idsIn[*d.up.ReportModuleID] = len(ids)
	}
	return rp, nil
}

// replace deletes what rp lists (the replace phase). The entries go by
// batches of batchSize ids, each with its emission rows (the delete
// trigger of migration 000017), reporting progress and stopping at the
// next batch once ctx is cancelled. Returns the number of entries deleted.
func (d *dataImport) replace(ctx context.Context, q *dbsqlc.Queries, rp replacement, subs []string, targets []int64, student bool, batchSize int) (int64, error) {
	var n int64
	switch {
	case d.up.Scope == ScopeYear && student:
		rows, err := q.ImportDeleteStudents(ctx, dbsqlc.ImportDeleteStudentsParams{Year: d.year, ReportModuleIds: targets})
		if err != nil {
			return 0, fmt.Errorf("error replacing student entries: %w", err)
		}
		for _, r := range rows {
			n += r.Deleted
		}
	case student: // unit upload: the report module's single student entry, whatever its source
		for _, src := range []string{"manual", SourceCSVYear, SourceCSVUnit} {
			m, err := q.EntriesDeleteByReportModuleSource(ctx, dbsqlc.EntriesDeleteByReportModuleSourceParams{
				ReportModuleID: *d.up.ReportModuleID, Submodules: subs, Source: src})
			if err != nil {
				return 0, fmt.Errorf("error replacing the student entry: %w", err)
			}
			n += m
		}
	default:
		total := int64(len(rp.ids))
		d.report(PhaseReplace, 0, total, fmt.Sprintf("Removing %d previous rows", total))
		return DeleteEntries(ctx, q, rp.ids, batchSize, func(done int) {
			d.report(PhaseReplace, int64(done), total, fmt.Sprintf("Removed %d of %d previous rows", done, total))
		})
	}
	return n, nil
}

// DeleteEntries deletes entries by id in batches of batchSize, each with
// its emission rows (the delete trigger of migration 000017), calling
// progress with the number deleted so far after each batch; it stops at the
// next batch once ctx is cancelled. Returns the number of entries deleted.
func DeleteEntries(ctx context.Context, q *dbsqlc.Queries, ids []int64, batchSize int, progress func(done int)) (int64, error) {
	var n int64
	for i := 0; i < len(ids); i += batchSize {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		batch := ids[i:min(i+batchSize, len(ids))]
		m, err := q.ImportDeleteEntries(ctx, batch)
		if err != nil {
			return n, fmt.Errorf("error replacing entries: %w", err)
		}
		n += m
		if progress != nil {
			progress(i + len(batch))
		}
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

// EnsureReportModules creates the missing reports (with their eight
// modules) of the units for year and returns the report module of module
// by unit. Under a race with a concurrent creator a unit can be missing
// from the answer: the caller retries.
func EnsureReportModules(ctx context.Context, q *dbsqlc.Queries, year int32, module emission.ModuleKey, unitIDs []int64) (map[int64]int64, error) {
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
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
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
			rm, ok := rmByUnit[d.units[row.UnitCF].ID], d.up.Scope == ScopeYear
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
				cur.add(row, rm, d.unitOf(row))
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
// the writer stopped on one. A batch that can take its ids from the
// reserved ones (batchShared.ids) is computed here first, by the goroutine
// that filled it, while the writer still COPYs the previous one.
func (w *batchWriter) send(b *entryBatch) error {
	if n := len(b.rows); n > 0 && n <= len(b.ids) {
		ids := b.ids[:n:n]
		b.ids = b.ids[n:]
		if err := b.prepare(ids); err != nil {
			_ = w.close()
			return err
		}
	}
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
	target EntryTarget
	q      *dbsqlc.Queries
	tx     pgx.Tx
	// ids are entry ids reserved ahead, taken by batchWriter.send (the
	// filling goroutine only); a batch they cannot cover reserves its own
	// on the transaction when it is written.
	ids  []int64
	lk   *emission.Lookup
	now  time.Time
	errs *RowErrors // written by the batch writer only
	ls   *loadStats // written by the batch writer only
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
	rows  []ingest.DataRow
	rms   []int64
	units []int64
	recs  []recordErrs
	// Set by prepare: the entries' COPY parameters and what the engine
	// computed.
	params []dbsqlc.EntriesCopyFromParams
	cb     *calc.Batch
}

func (b *entryBatch) add(row ingest.DataRow, rm, unit int64) {
	row.Data = slices.Clone(row.Data)
	b.rows = append(b.rows, row)
	b.rms = append(b.rms, rm)
	b.units = append(b.units, unit)
}

// write stores the batch (prepared on the transaction first when send did
// not), then records the errors of its records in order.
func (b *entryBatch) write(ctx context.Context) error {
	var out []calc.Computed
	if len(b.rows) > 0 {
		if b.cb == nil {
			ids, err := b.q.EntryIDsReserve(ctx, int32(len(b.rows)))
			if err != nil {
				return fmt.Errorf("error reserving entry ids: %w", err)
			}
			if err := b.prepare(ids); err != nil {
				return err
			}
		}
		if err := b.store(ctx); err != nil {
			return err
		}
		out = b.cb.Out
	}
	for _, rec := range b.recs {
		errs := rec.errs
		if rec.row >= 0 {
			r, c := &b.rows[rec.row], &out[rec.row]
			if c.Outcome.Status == emission.StatusUnknownLocation && b.target.LocationWarnings {
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
	if b.ls.loadedTo == nil {
		b.ls.loadedTo = map[int64]int{}
	}
	for _, rm := range b.rms {
		b.ls.loadedTo[rm]++
	}
	b.ls.computed += len(out)
	return nil
}

// prepare computes the entries of the batch, with ids (one per row), with
// the engine and builds their COPY parameters; nothing is written.
func (b *entryBatch) prepare(ids []int64) error {
	t := &b.target
	// Compute first: the entries are COPYed with their totals and single
	// emission rows, then the rows of the other outcomes (no update, no
	// delete: the entries are new).
	entries := make([]dbsqlc.DataEntry, len(b.rows))
	decoded := make([]emission.Entry, len(b.rows))
	for i, r := range b.rows {
		entries[i] = dbsqlc.DataEntry{ID: ids[i], ReportModuleID: b.rms[i], UnitID: b.units[i], Year: t.Year,
			Module: string(r.Module), Submodule: string(r.Submodule), Data: r.Data, KgOverride: r.KgOverride, Source: t.Source}
		// A parsed payload is what its data decodes to (the parsers'
		// round-trip tests); rows built from data alone (the Tableau
		// sync's) are decoded.
		if r.Payload != nil {
			decoded[i] = calc.EntryOf(r.Submodule, r.Payload, r.KgOverride)
		} else {
			decoded[i] = calc.ToEntry(entries[i])
		}
	}
	cb, err := calc.ComputeDecoded(b.lk, entries, decoded, b.now)
	if err != nil {
		return err
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
		distanceKm, surfaceM2 := calc.SortValues(o)
		params[i] = dbsqlc.EntriesCopyFromParams{
			ID: e.ID, ReportModuleID: e.ReportModuleID, UnitID: e.UnitID, Year: t.Year, Module: e.Module,
			Submodule: e.Submodule, Data: r.Data, KgOverride: r.KgOverride, Source: t.Source, UploadID: t.UploadID,
			OwnerSciper: owner, CalcStatus: string(o.Status), CalcMessage: msg, PrimaryFactorID: factor,
			KgCo2eq: float64(o.Kg), KgCo2eqAdditional: float64(o.KgAdditional), ComputedAt: &b.now,
			CreatedBy: t.By, UpdatedBy: t.By, DistanceKm: distanceKm, SurfaceM2: surfaceM2,
		}
		cb.SetEntryRow(i, &params[i])
	}
	b.params, b.cb = params, cb
	return nil
}

// store writes the prepared batch's entries and emission rows.
func (b *entryBatch) store(ctx context.Context) error {
	if _, err := b.q.EntriesCopyFrom(ctx, b.params); err != nil {
		return fmt.Errorf("error copying entries: %w", err)
	}
	return calc.StoreNewRows(ctx, b.tx, b.cb)
}

func truncate(s string) string {
	if len(s) <= 100 {
		return s
	}
	return strings.ToValidUTF8(s[:100], "")
}
