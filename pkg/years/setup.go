package years

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/units"
)

// The setup run (docs/jobs.md §4.8, job accred_unit_sync): the unit
// directory is read (phase fetch), then one transaction writes the units and
// unit_users (phase upsert), creates the missing reports of the year and of
// every ready or open year (phase reports), moves a year being set up to
// ready and records the result with the job's completion (finish). A failure
// leaves everything as it was; when the job finally fails, FailSetupTx (the
// pipeline middleware's hook) moves the year to setup_failed.

// The phases of the setup run.
const (
	PhaseFetch   = "fetch"
	PhaseUpsert  = "upsert"
	PhaseReports = "reports"
)

// SetupRun is one run of the unit sync.
type SetupRun struct {
	// Year is the year being set up, or nil (nightly run, Accred sync
	// trigger): only the ready and open years get their reports then.
	Year *int32
	// JobID names the job in integration_state (its first pipeline).
	JobID int64
}

// SetupResult is what a successful run reports.
type SetupResult struct {
	pipeline.Result
	Applied        units.Applied
	ReportsCreated int64
}

// FinishFunc ends a successful run inside its transaction (the job's
// pipeline result and JobCompleteTx).
type FinishFunc func(ctx context.Context, tx pgx.Tx, res SetupResult) error

// RunUnitSync runs the setup (docs/jobs.md §4.8). Errors: the directory's
// transient failures are returned as they are (retried); an application
// error (upstream_auth_failed, upstream_schema_changed,
// suspicious_unit_count, a missing year) ends the job for good.
func (s *Service) RunUnitSync(ctx context.Context, run SetupRun, finish FinishFunc) error {
	if s.Units == nil {
		return apperr.New(apperr.CodeConflict, "no unit directory configured (UNIT_PROVIDER)")
	}
	progress := s.reporter(ctx)
	source := s.Units.Name()
	progress(PhaseFetch, 0, 0, "Reading the "+source+" unit directory")
	list, err := s.Units.Fetch(ctx, func(done, total int) {
		progress(PhaseFetch, int64(done), int64(total), fmt.Sprintf("Read %d of %d units", done, total))
	})
	if err != nil {
		s.recordFailure(ctx, run.JobID, err)
		return err
	}
	err = postgres.WithTx(ctx, s.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := dbsqlc.New(tx)
		var target *dbsqlc.Year
		if run.Year != nil {
			y, err := Get(ctx, q, *run.Year)
			if err != nil {
				return err
			}
			target = &y
		}
		progress(PhaseUpsert, 0, int64(len(list)), fmt.Sprintf("Updating %d units", len(list)))
		applied, err := units.Apply(ctx, tx, source, list, s.now())
		if err != nil {
			return err
		}
		if _, err := units.RebuildUnitUsers(ctx, tx); err != nil {
			return err
		}
		progress(PhaseUpsert, int64(len(list)), int64(len(list)), fmt.Sprintf("%d units updated, %d deactivated", applied.Synced, applied.Deactivated))

		yrs, err := q.YearsByStatus(ctx, Accepting(OpImport))
		if err != nil {
			return fmt.Errorf("error listing the ready and open years: %w", err)
		}
		if target != nil && Status(target.Status) != StatusClosed && !Contains(yrs, target.Year) {
			yrs = append(yrs, *target)
		}
		var created int64
		for i, y := range yrs {
			n, err := q.ReportsCreateForActiveUnits(ctx, dbsqlc.ReportsCreateForActiveUnitsParams{
				Year: y.Year, EnabledModules: int16(len(EnabledModules(y.Config)))})
			if err != nil {
				return fmt.Errorf("error creating the reports of %d: %w", y.Year, err)
			}
			created += n
			progress(PhaseReports, int64(i+1), int64(len(yrs)), fmt.Sprintf("%d reports created", created))
		}
		if target != nil {
			// setup_failed too: a failed job retried by hand (River UI)
			// completes the setup as well.
			if _, err := q.YearUpdateStatus(ctx, dbsqlc.YearUpdateStatusParams{Status: string(StatusReady), Year: target.Year,
				FromStatuses: []string{string(StatusSettingUp), string(StatusSetupFailed)}}); err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("error completing the setup of %d: %w", target.Year, err)
			}
		}
		msg := fmt.Sprintf("%d units synced (%d active, %d deactivated), %d reports created", applied.Synced, applied.Active, applied.Deactivated, created)
		if len(applied.Warnings) > 0 {
			msg += fmt.Sprintf("; %d warnings: %s", len(applied.Warnings), strings.Join(first(applied.Warnings, 3), "; "))
			for _, w := range applied.Warnings {
				s.logger().WarnContext(ctx, "unit sync warning", slog.String("warning", w))
			}
		}
		details := map[string]any{"provider": source, "units_synced": applied.Synced, "units_active": applied.Active,
			"units_deactivated": applied.Deactivated, "units_adopted": applied.Adopted, "reports_created": created,
			"warnings": len(applied.Warnings)}
		if err := recordSuccess(ctx, tx, run.JobID, msg, details); err != nil {
			return err
		}
		return finish(ctx, tx, SetupResult{
			Result:  pipeline.Result{Counters: map[string]any{"units_synced": applied.Synced, "reports_created": created}, Message: msg},
			Applied: applied, ReportsCreated: created,
		})
	})
	if err != nil {
		s.recordFailure(context.WithoutCancel(ctx), run.JobID, err)
	}
	return err
}

// Contains tells whether rows hold year y.
func Contains(rows []dbsqlc.Year, y int32) bool {
	for _, r := range rows {
		if r.Year == y {
			return true
		}
	}
	return false
}

func first(list []string, n int) []string { return list[:min(n, len(list))] }

// reporter is where the run reports its progress.
func (s *Service) reporter(ctx context.Context) func(phase string, done, total int64, message string) {
	if s.Progress != nil {
		return func(phase string, done, total int64, message string) { s.Progress(ctx, phase, done, total, message) }
	}
	rep := pipeline.ReporterFrom(ctx)
	return func(phase string, done, total int64, message string) { rep.Progress(ctx, phase, done, total, message) }
}

// recordSuccess records a successful run in integration_state('accred'),
// in the run's transaction.
func recordSuccess(ctx context.Context, tx pgx.Tx, jobID int64, msg string, details map[string]any) error {
	b, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("error encoding integration details: %w", err)
	}
	q := dbsqlc.New(tx)
	if err := q.IntegrationStateRecord(ctx, dbsqlc.IntegrationStateRecordParams{Name: integrationAccred, Success: true,
		LastStatus: new("SUCCESS"), LastMessage: &msg, LastPipelineID: firstPipeline(ctx, q, jobID), Details: b}); err != nil {
		return fmt.Errorf("error recording integration state: %w", err)
	}
	return nil
}

// recordFailure records a failed run in integration_state('accred'); a
// failure to record it is only logged.
func (s *Service) recordFailure(ctx context.Context, jobID int64, cause error) {
	q := dbsqlc.New(s.DB)
	msg := cause.Error()
	if err := q.IntegrationStateRecord(ctx, dbsqlc.IntegrationStateRecordParams{Name: integrationAccred, Success: false,
		LastStatus: new("FAILED"), LastMessage: &msg, LastPipelineID: firstPipeline(ctx, q, jobID), Details: []byte(`{}`)}); err != nil {
		s.logger().WarnContext(ctx, "could not record the unit sync failure", slog.String("error", err.Error()))
	}
}

// firstPipeline is one pipeline of the job, if any.
func firstPipeline(ctx context.Context, q *dbsqlc.Queries, jobID int64) *uuid.UUID {
	if ids, err := q.PipelineIDsByJob(ctx, jobID); err == nil && len(ids) > 0 {
		return &ids[0]
	}
	return nil
}

// FailSetupTx is the end of a setup that failed for good (docs/jobs.md
// §4.8): the pipeline middleware calls it, in the transaction that records
// the final failure of accred_unit_sync{year}, and a year still setting
// up goes to setup_failed (the reason is on its setup pipeline). A year in
// any other status (a resync of a ready or open year) is left alone.
func FailSetupTx(ctx context.Context, tx pgx.Tx, y int32) error {
	_, err := dbsqlc.New(tx).YearUpdateStatus(ctx, dbsqlc.YearUpdateStatusParams{Status: string(StatusSetupFailed), Year: y,
		FromStatuses: []string{string(StatusSettingUp)}})
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("error marking the setup of %d failed: %w", y, err)
	}
	return nil
}
