package entry

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/calc"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

const (
	sourceTableau   = "tableau"
	statusValidated = "validated"
)

// Create validates data (the request's "data" object) and creates an entry
// of the scope's submodule with its emissions (docs/api.md §5 POST).
func (s *Service) Create(ctx context.Context, actor Actor, sc Scope, data json.RawMessage) (*Entry, error) {
	body, err := decodeObject(data, "data")
	if err != nil {
		if e := CheckSubmodule(sc.Module, sc.Submodule); e != nil {
			return nil, e
		}
		return nil, err
	}
	return postgres.WithTxV(ctx, s.DB, func(ctx context.Context, tx pgx.Tx) (*Entry, error) {
		q := dbsqlc.New(tx)
		r, err := resolve(ctx, q, sc, true)
		if err != nil {
			return nil, err
		}
		sent := make(map[string]bool, len(body))
		for k := range body {
			sent[k] = true
		}
		p, err := s.prepare(ctx, q, r, actor, body, sent, nil)
		if err != nil {
			return nil, err
		}
		if err := checkUniqueness(ctx, q, r, p, nil); err != nil {
			return nil, err
		}
		raw, err := p.json()
		if err != nil {
			return nil, err
		}
		row, err := q.EntryInsert(ctx, dbsqlc.EntryInsertParams{
			ReportModuleID: r.rm.ID, UnitID: r.UnitID, Year: r.Year,
			Module: string(r.Module), Submodule: string(r.Submodule),
			Data: raw, Source: "manual", OwnerSciper: p.owner, CreatedBy: actor.UserID,
		})
		if err != nil {
			return nil, uniqueErr(err, r)
		}
		e, err := s.afterWrite(ctx, tx, r, actor, row)
		if err != nil {
			return nil, err
		}
		after, _ := json.Marshal(e.Row)
		if err := recordAudit(ctx, tx, auditEvent{Action: ActionCreate, Actor: actor, Scope: sc, EntryID: row.ID, After: after}); err != nil {
			return nil, err
		}
		return e, nil
	})
}

// Update applies a JSON merge patch to the data of an entry, revalidates
// the merged payload and recomputes its emissions (docs/api.md §5 PATCH).
// expectedVersion is the If-Match version (nil: last write wins).
func (s *Service) Update(ctx context.Context, actor Actor, sc Scope, id int64, patch json.RawMessage, expectedVersion *int32) (*Entry, error) {
	body, err := decodeObject(patch, "data")
	if err != nil {
		if e := CheckSubmodule(sc.Module, sc.Submodule); e != nil {
			return nil, e
		}
		return nil, err
	}
	return postgres.WithTxV(ctx, s.DB, func(ctx context.Context, tx pgx.Tx) (*Entry, error) {
		q := dbsqlc.New(tx)
		r, old, err := s.lockEntry(ctx, q, actor, sc, id, expectedVersion)
		if err != nil {
			return nil, err
		}
		merged := map[string]json.RawMessage{}
		if err := json.Unmarshal(old.Data, &merged); err != nil {
			return nil, fmt.Errorf("error decoding stored entry %d: %w", id, err)
		}
		sent := make(map[string]bool, len(body))
		for k, v := range body {
			sent[k] = true
			if string(v) == jsonNull {
				delete(merged, k)
				continue
			}
			merged[k] = v
		}
		var stored map[string]any
		_ = json.Unmarshal(old.Data, &stored)
		p, err := s.prepare(ctx, q, r, actor, merged, sent, stored)
		if err != nil {
			return nil, err
		}
		if err := checkUniqueness(ctx, q, r, p, &id); err != nil {
			return nil, err
		}
		raw, err := p.json()
		if err != nil {
			return nil, err
		}
		row, err := q.EntryUpdate(ctx, dbsqlc.EntryUpdateParams{
			Data: raw, KgOverride: old.KgOverride, OwnerSciper: p.owner, UpdatedBy: actor.UserID,
			ID: id, ReportModuleID: r.rm.ID, Submodule: string(r.Submodule),
		})
		if err != nil {
			return nil, uniqueErr(err, r)
		}
		e, err := s.afterWrite(ctx, tx, r, actor, row)
		if err != nil {
			return nil, err
		}
		before, _ := json.Marshal(old)
		after, _ := json.Marshal(e.Row)
		if err := recordAudit(ctx, tx, auditEvent{Action: ActionUpdate, Actor: actor, Scope: sc, EntryID: id, Before: before, After: after}); err != nil {
			return nil, err
		}
		return e, nil
	})
}

// Delete removes an entry and its emissions (docs/api.md §5 DELETE).
func (s *Service) Delete(ctx context.Context, actor Actor, sc Scope, id int64, expectedVersion *int32) error {
	return postgres.WithTx(ctx, s.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := dbsqlc.New(tx)
		r, old, err := s.lockEntry(ctx, q, actor, sc, id, expectedVersion)
		if err != nil {
			return err
		}
		if _, err := q.EntryDelete(ctx, dbsqlc.EntryDeleteParams{ID: id, ReportModuleID: r.rm.ID, Submodule: string(r.Submodule)}); err != nil {
			return fmt.Errorf("error deleting entry %d: %w", id, err)
		}
		if _, err := markChanged(ctx, q, r, actor); err != nil {
			return err
		}
		if err := s.enqueueAggregate(ctx, tx, r.Year); err != nil {
			return err
		}
		before, _ := json.Marshal(old)
		return recordAudit(ctx, tx, auditEvent{Action: ActionDelete, Actor: actor, Scope: sc, EntryID: id, Before: before})
	})
}

// lockEntry resolves a write scope and locks the entry it names, applying
// the item rules: scope (R2.7) and own scope (D7) → 404, If-Match → 412,
// Tableau entries → 409 entry_read_only.
func (s *Service) lockEntry(ctx context.Context, q *dbsqlc.Queries, actor Actor, sc Scope, id int64, expectedVersion *int32) (*resolved, dbsqlc.DataEntry, error) {
	r, err := resolve(ctx, q, sc, true)
	if err != nil {
		return nil, dbsqlc.DataEntry{}, err
	}
	old, err := q.EntryGetForUpdate(ctx, dbsqlc.EntryGetForUpdateParams{ID: id, ReportModuleID: r.rm.ID, Submodule: string(r.Submodule)})
	if err != nil {
		if isNoRows(err) {
			return nil, old, errEntryNotFound()
		}
		return nil, old, fmt.Errorf("error loading entry %d: %w", id, err)
	}
	if !visible(actor, r.Submodule, old) {
		return nil, old, errEntryNotFound()
	}
	if expectedVersion != nil && *expectedVersion != old.Version {
		return nil, old, apperr.New(apperr.CodePrecondition, "entry %d changed: version is %d", id, old.Version)
	}
	if old.Source == sourceTableau {
		return nil, old, apperr.WithReason(apperr.CodeConflict, "entry_read_only", "entries synced from Tableau are read-only")
	}
	return r, old, nil
}

// fillStationNames shows the stored station names of a train trip whose
// stations the engine could not resolve (computed origin_name and
// destination_name are then the names of the CSV row, docs/domain.md §7.2).
func fillStationNames(e *Entry) {
	if emission.SubmoduleKey(e.Row.Submodule) != emission.SubTrain {
		return
	}
	if name, ok := e.Data["origin_name"].(string); ok && e.Details.OriginName == "" {
		e.Details.OriginName = name
	}
	if name, ok := e.Data["destination_name"].(string); ok && e.Details.DestinationName == "" {
		e.Details.DestinationName = name
	}
}

// visible applies the own-scope rule (D7) to an entry.
func visible(actor Actor, sub emission.SubmoduleKey, e dbsqlc.DataEntry) bool {
	if actor.OwnSciper == "" || (sub != emission.SubPlane && sub != emission.SubTrain) {
		return true
	}
	return e.OwnerSciper != nil && *e.OwnerSciper == actor.OwnSciper
}

// checkUniqueness applies the member SCIPER and single student rules.
func checkUniqueness(ctx context.Context, q *dbsqlc.Queries, r *resolved, p *prepared, exceptID *int64) error {
	switch r.Submodule { //nolint:exhaustive // only member and student are unique
	case emission.SubMember:
		sciper, _ := p.data["user_institutional_id"].(string)
		id, err := q.ModuleDataEntryFieldConflict(ctx, dbsqlc.ModuleDataEntryFieldConflictParams{
			ReportModuleID: r.rm.ID, Submodules: []string{string(emission.SubMember)},
			Field: "user_institutional_id", Value: sciper, ExceptID: exceptID,
		})
		switch {
		case isNoRows(err):
			return nil
		case err != nil:
			return fmt.Errorf("error checking SCIPER: %w", err)
		}
		return duplicateSciper(sciper, id)
	case emission.SubStudent:
		if exceptID != nil {
			return nil
		}
		exists, err := q.EntryStudentExists(ctx, r.rm.ID)
		if err != nil {
			return fmt.Errorf("error checking student entry: %w", err)
		}
		if exists {
			return apperr.WithReason(apperr.CodeConflict, "student_entry_exists", "the module already has its student entry")
		}
	}
	return nil
}

func duplicateSciper(sciper string, id int64) error {
	e := apperr.WithReason(apperr.CodeConflict, "duplicate_institutional_id", "SCIPER %s is already listed in this module", sciper)
	fe := apperr.FieldError{Field: "data.user_institutional_id", Code: "duplicate", Message: "already listed in this module"}
	if id != 0 {
		fe.Context = map[string]any{"conflicting_entry_id": id}
	}
	e.Fields = []apperr.FieldError{fe}
	return e
}

// uniqueErr maps a unique violation that raced the checks to its 409.
func uniqueErr(err error, r *resolved) error {
	if !isUniqueViolation(err) {
		return fmt.Errorf("error writing entry: %w", err)
	}
	if r.Submodule == emission.SubStudent {
		return apperr.WithReason(apperr.CodeConflict, "student_entry_exists", "the module already has its student entry")
	}
	return duplicateSciper("", 0)
}

// afterWrite computes and stores the entry's emissions, marks the module
// changed (D6) and returns the entry as the API shows it, with
// ModuleReopened set when the write moved a validated module back to
// in_progress.
func (s *Service) afterWrite(ctx context.Context, tx pgx.Tx, r *resolved, actor Actor, row dbsqlc.DataEntry) (*Entry, error) {
	q := dbsqlc.New(tx)
	lk, err := calc.LoadLookup(ctx, tx, int(r.Year), r.Module)
	if lk == nil {
		return nil, err
	}
	computed, err := calc.ComputeAndStore(ctx, tx, lk, []dbsqlc.DataEntry{row}, s.now())
	if err != nil {
		return nil, err
	}
	reopened, err := markChanged(ctx, q, r, actor)
	if err != nil {
		return nil, err
	}
	if err := s.enqueueAggregate(ctx, tx, r.Year); err != nil {
		return nil, err
	}
	row, err = q.EntryGet(ctx, dbsqlc.EntryGetParams{ID: row.ID, ReportModuleID: r.rm.ID, Submodule: string(r.Submodule)})
	if err != nil {
		return nil, fmt.Errorf("error reloading entry: %w", err)
	}
	views, err := s.decorate(ctx, q, r, []dbsqlc.DataEntry{row}, nil)
	if err != nil {
		return nil, err
	}
	e := &views[0]
	e.Details = computed[0].Outcome.Details
	fillStationNames(e)
	e.ModuleReopened = reopened
	if e.Emissions, err = q.EmissionsByEntry(ctx, row.ID); err != nil {
		return nil, fmt.Errorf("error loading emissions: %w", err)
	}
	return e, nil
}

// markChanged moves the module to in_progress with dirty stats (D6) and
// refreshes the report's derived status. reopened is true when the module
// was validated before (docs/domain.md §10: the write is accepted and says
// so).
func markChanged(ctx context.Context, q *dbsqlc.Queries, r *resolved, actor Actor) (reopened bool, err error) {
	rm, err := q.ReportModuleMarkDataChanged(ctx, dbsqlc.ReportModuleMarkDataChangedParams{ID: r.rm.ID, ChangedBy: actor.UserID})
	if err != nil {
		return false, fmt.Errorf("error marking module changed: %w", err)
	}
	if rm.PreviousStatus != rm.Status {
		if _, err := q.ReportRefreshStatus(ctx, dbsqlc.ReportRefreshStatusParams{ID: rm.ReportID, EnabledModules: r.cfg.EnabledModules}); err != nil {
			return false, fmt.Errorf("error refreshing report status: %w", err)
		}
	}
	return rm.PreviousStatus == statusValidated, nil
}

// Get returns one entry with its emissions (docs/api.md §5 GET item).
func (s *Service) Get(ctx context.Context, actor Actor, sc Scope, id int64) (*Entry, error) {
	q := dbsqlc.New(s.DB)
	r, err := resolve(ctx, q, sc, false)
	if err != nil {
		return nil, err
	}
	row, err := q.EntryGet(ctx, dbsqlc.EntryGetParams{ID: id, ReportModuleID: r.rm.ID, Submodule: string(r.Submodule)})
	if err != nil {
		if isNoRows(err) {
			return nil, errEntryNotFound()
		}
		return nil, fmt.Errorf("error loading entry %d: %w", id, err)
	}
	if !visible(actor, r.Submodule, row) {
		return nil, errEntryNotFound()
	}
	lk, err := calc.LoadLookup(ctx, s.DB, int(r.Year), r.Module)
	if lk == nil {
		return nil, err
	}
	views, err := s.decorate(ctx, q, r, []dbsqlc.DataEntry{row}, lk)
	if err != nil {
		return nil, err
	}
	e := &views[0]
	if e.Emissions, err = q.EmissionsByEntry(ctx, row.ID); err != nil {
		return nil, fmt.Errorf("error loading emissions: %w", err)
	}
	return e, nil
}

// decorate builds the API view of rows: full data, read-only flag,
// threshold flag, creator and traveler names and, when lk is not nil, the
// engine's derived details.
func (s *Service) decorate(ctx context.Context, q *dbsqlc.Queries, r *resolved, rows []dbsqlc.DataEntry, lk *emission.Lookup) ([]Entry, error) {
	out := make([]Entry, len(rows))
	var userIDs []int64
	var scipers []string
	var buf []emission.Row
	for i := range rows {
		row := rows[i]
		e := Entry{Row: row, Data: renderData(r.Submodule, row.Data), ReadOnly: row.Source == sourceTableau}
		if r.cfg.ThresholdKg != nil && row.KgCo2eq > *r.cfg.ThresholdKg {
			e.AboveThreshold = true
		}
		if row.CreatedBy != nil && !slices.Contains(userIDs, *row.CreatedBy) {
			userIDs = append(userIDs, *row.CreatedBy)
		}
		if row.OwnerSciper != nil && !slices.Contains(scipers, *row.OwnerSciper) {
			scipers = append(scipers, *row.OwnerSciper)
		}
		if lk != nil {
			ee := calc.ToEntry(row)
			var o emission.Outcome
			buf, o = emission.Compute(&ee, lk, buf[:0])
			e.Details = o.Details
		}
		fillStationNames(&e)
		out[i] = e
	}
	users := map[int64]string{}
	if len(userIDs) > 0 {
		rows, err := q.ModuleDataUserNames(ctx, userIDs)
		if err != nil {
			return nil, fmt.Errorf("error loading user names: %w", err)
		}
		for _, u := range rows {
			users[u.ID] = u.Name
		}
	}
	travelers := map[string]string{}
	if len(scipers) > 0 {
		rows, err := q.ModuleDataMemberNames(ctx, dbsqlc.ModuleDataMemberNamesParams{UnitID: r.UnitID, Year: r.Year, Scipers: scipers})
		if err != nil {
			return nil, fmt.Errorf("error loading traveler names: %w", err)
		}
		for _, m := range rows {
			if _, ok := travelers[m.Sciper]; !ok {
				travelers[m.Sciper] = m.Name
			}
		}
	}
	for i := range out {
		row := out[i].Row
		if row.CreatedBy != nil {
			out[i].CreatedBy = &UserRef{ID: *row.CreatedBy, Name: users[*row.CreatedBy]}
		}
		if row.OwnerSciper != nil {
			if name, ok := travelers[*row.OwnerSciper]; ok {
				out[i].TravelerName = &name
			}
		}
	}
	return out, nil
}

// enqueueAggregate inserts aggregate{year} in the write's transaction so
// that the dirty stats of the module are refreshed (docs/jobs.md §2.3).
func (s *Service) enqueueAggregate(ctx context.Context, tx pgx.Tx, year int32) error {
	if s.EnqueueAggregate == nil {
		return nil
	}
	if err := s.EnqueueAggregate(ctx, tx, year); err != nil {
		return fmt.Errorf("error enqueuing aggregate for %d: %w", year, err)
	}
	return nil
}
