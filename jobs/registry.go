package jobs

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/robfig/cron/v3"

	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/auth"
	"github.com/co2-calculator/co2-calculator/pkg/blob"
	"github.com/co2-calculator/co2-calculator/pkg/export"
	"github.com/co2-calculator/co2-calculator/pkg/factors"
	"github.com/co2-calculator/co2-calculator/pkg/fx"
	"github.com/co2-calculator/co2-calculator/pkg/imports"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/tableau"
	"github.com/co2-calculator/co2-calculator/pkg/units"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

// Deps are the dependencies of the workers. The API passes a zero Deps: it
// only needs the kinds registered.
type Deps struct {
	Pool   *pgxpool.Pool
	Logger *slog.Logger
	ECB    *fx.Client
	Now    func() time.Time
	// Roles is the role provider of role_sync (nil: role_sync jobs are cancelled).
	Roles auth.RoleProvider
	// Blob is the store of uploaded files (imports).
	Blob blob.Store
	// Units is the unit directory of accred_unit_sync (UNIT_PROVIDER; nil:
	// the job fails for good).
	Units units.Source
	// Tableau is the client of tableau_travel_sync (nil: Tableau is not
	// configured, the job fails for good).
	Tableau *tableau.Client
	// ExportTTL is EXPORT_TTL: how long a ready export can be downloaded
	// (0: export.DefaultTTL).
	ExportTTL time.Duration
	// AuditShipper ships the audit trail to Elasticsearch (nil: ES_URLS
	// is not set, audit_ship fails for good).
	AuditShipper *audit.Shipper
}

// Workers registers every job kind.
func Workers(d Deps) *river.Workers {
	w := river.NewWorkers()
	river.AddWorker(w, &ECBFXSyncWorker{DB: d.Pool, Client: d.ECB, Logger: d.Logger, Now: d.Now})
	river.AddWorker(w, &NoopWorker{})
	river.AddWorker(w, &RoleSyncWorker{DB: d.Pool, Roles: d.Roles, Logger: d.Logger, Now: d.Now})
	river.AddWorker(w, &AggregateWorker{DB: d.Pool, Now: d.Now})
	river.AddWorker(w, &EmissionRecalcWorker{DB: d.Pool, Logger: d.Logger, Now: d.Now})
	imp := &imports.Service{DB: d.Pool, Blob: d.Blob, Logger: d.Logger, Now: d.Now}
	river.AddWorker(w, &UploadImportWorker{Imports: imp})
	river.AddWorker(w, &FactorImportWorker{Imports: imp, Factors: &factors.Service{DB: d.Pool}})
	river.AddWorker(w, &ReferenceImportWorker{Imports: imp})
	river.AddWorker(w, &AccredUnitSyncWorker{Years: &years.Service{DB: d.Pool, Units: d.Units, Logger: d.Logger, Now: d.Now}})
	river.AddWorker(w, &TableauTravelSyncWorker{Tableau: &tableau.Service{DB: d.Pool, Client: d.Tableau, Logger: d.Logger, Now: d.Now}})
	exp := &export.Service{DB: d.Pool, Blob: d.Blob, TTL: d.ExportTTL, Logger: d.Logger, Now: d.Now}
	river.AddWorker(w, &ExportWorker{Exports: exp})
	river.AddWorker(w, &ExportCleanupWorker{Exports: exp})
	river.AddWorker(w, &AuditShipWorker{Shipper: d.AuditShipper})
	return w
}

// AutoPipelines lists job kinds whose scheduled runs get a pipeline of their
// own (docs/jobs.md §2.2).
func AutoPipelines() map[string]pipeline.Kind {
	return map[string]pipeline.Kind{
		ECBFXSyncArgs{}.Kind():      pipeline.KindECBSync,
		AccredUnitSyncArgs{}.Kind(): pipeline.KindAccredSync,
	}
}

// Schedules holds the cron expressions (UTC) of the periodic jobs; an empty
// expression disables that job.
type Schedules struct {
	ECB string
	// Accred is SCHEDULE_ACCRED: the nightly unit sync (every ready and
	// open year).
	Accred string
	// Tableau is SCHEDULE_TABLEAU: the nightly Tableau dispatcher (a sync
	// per open year); the worker sets it only when Tableau is configured.
	Tableau string
	// ExportCleanup is SCHEDULE_EXPORT_CLEANUP: the hourly sweep of
	// expired exports.
	ExportCleanup string
	// AuditShip is SCHEDULE_AUDIT_SHIP: audit_ship, every minute; the
	// worker sets it only when Elasticsearch is configured.
	AuditShip string
}

// PeriodicJobs is the one place where periodic jobs are registered. Every
// worker registers them; only River's elected leader enqueues them.
func PeriodicJobs(s Schedules) ([]*river.PeriodicJob, error) {
	var out []*river.PeriodicJob
	if s.ECB != "" {
		sched, err := cron.ParseStandard(s.ECB)
		if err != nil {
			return nil, fmt.Errorf("SCHEDULE_ECB: invalid cron expression %q: %w", s.ECB, err)
		}
		out = append(out, river.NewPeriodicJob(sched, func() (river.JobArgs, *river.InsertOpts) {
			return ECBFXSyncArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: 24 * time.Hour}}
		}, &river.PeriodicJobOpts{ID: "ecb_fx_sync"}))
	}
	if s.Accred != "" {
		sched, err := cron.ParseStandard(s.Accred)
		if err != nil {
			return nil, fmt.Errorf("SCHEDULE_ACCRED: invalid cron expression %q: %w", s.Accred, err)
		}
		out = append(out, river.NewPeriodicJob(sched, func() (river.JobArgs, *river.InsertOpts) {
			return AccredUnitSyncArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: 24 * time.Hour}}
		}, &river.PeriodicJobOpts{ID: "accred_unit_sync"}))
	}
	if s.Tableau != "" {
		sched, err := cron.ParseStandard(s.Tableau)
		if err != nil {
			return nil, fmt.Errorf("SCHEDULE_TABLEAU: invalid cron expression %q: %w", s.Tableau, err)
		}
		out = append(out, river.NewPeriodicJob(sched, func() (river.JobArgs, *river.InsertOpts) {
			return TableauTravelSyncArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: 24 * time.Hour}}
		}, &river.PeriodicJobOpts{ID: "tableau_travel_sync"}))
	}
	if s.ExportCleanup != "" {
		sched, err := cron.ParseStandard(s.ExportCleanup)
		if err != nil {
			return nil, fmt.Errorf("SCHEDULE_EXPORT_CLEANUP: invalid cron expression %q: %w", s.ExportCleanup, err)
		}
		out = append(out, river.NewPeriodicJob(sched, func() (river.JobArgs, *river.InsertOpts) {
			return ExportCleanupArgs{}, nil
		}, &river.PeriodicJobOpts{ID: "export_cleanup"}))
	}
	if s.AuditShip != "" {
		sched, err := cron.ParseStandard(s.AuditShip)
		if err != nil {
			return nil, fmt.Errorf("SCHEDULE_AUDIT_SHIP: invalid cron expression %q: %w", s.AuditShip, err)
		}
		out = append(out, river.NewPeriodicJob(sched, func() (river.JobArgs, *river.InsertOpts) {
			return AuditShipArgs{}, nil
		}, &river.PeriodicJobOpts{ID: "audit_ship"}))
	}
	return out, nil
}
