package jobs

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/robfig/cron/v3"

	"github.com/co2-calculator/co2-calculator/pkg/auth"
	"github.com/co2-calculator/co2-calculator/pkg/blob"
	"github.com/co2-calculator/co2-calculator/pkg/factors"
	"github.com/co2-calculator/co2-calculator/pkg/fx"
	"github.com/co2-calculator/co2-calculator/pkg/imports"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
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
	return out, nil
}
