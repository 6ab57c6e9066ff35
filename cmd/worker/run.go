package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"github.com/riverqueue/rivercontrib/otelriver"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/auth"
	"github.com/co2-calculator/co2-calculator/pkg/blob"
	"github.com/co2-calculator/co2-calculator/pkg/buildinfo"
	"github.com/co2-calculator/co2-calculator/pkg/config"
	"github.com/co2-calculator/co2-calculator/pkg/fleet"
	"github.com/co2-calculator/co2-calculator/pkg/fx"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/telemetry"
	"github.com/co2-calculator/co2-calculator/pkg/units"
)

// started is told the admin address once it listens (tests use ":0").
type startedFunc func(adminAddr string)

// run starts the worker and blocks until ctx is cancelled, then shuts down
// gracefully: River stops fetching and running jobs get cfg.ShutdownTimeout
// to finish; after that, or as soon as hard is closed, their contexts are
// cancelled (River retries them later: every job is safe to re-run).
func run(ctx context.Context, hard <-chan struct{}, cfg config.Worker, logger *slog.Logger, started startedFunc) error {
	queues, err := jobs.ParseQueues(cfg.Queues)
	if err != nil {
		return fmt.Errorf("invalid configuration: WORKER_QUEUES: %w", err)
	}
	periodic, err := jobs.PeriodicJobs(jobs.Schedules{ECB: cfg.ScheduleECB, Accred: cfg.ScheduleAccred, Tableau: tableauSchedule(cfg),
		ExportCleanup: cfg.ScheduleExportCleanup, AuditShip: auditSchedule(cfg)})
	if err != nil {
		return fmt.Errorf("invalid configuration: %w", err)
	}
	logger.InfoContext(ctx, "worker starting", slog.String("version", buildinfo.Version), slog.Any("config", cfg.LogAttrs()))
	_, shutdownTracing, err := telemetry.SetupTracing(ctx, cfg.OTLPEnd, cfg.ServiceName, buildinfo.Version)
	if err != nil {
		return err
	}
	defer func() { _ = shutdownTracing(context.WithoutCancel(ctx)) }()

	pool, err := postgres.NewPool(ctx, cfg.DatabaseURL, int32(cfg.DBMaxConns), "co2-worker")
	if err != nil {
		return err
	}
	defer pool.Close()

	reg := telemetry.NewRegistry()
	reg.MustRegister(jobs.NewQueueDepthCollector(pool, logger, slices.Sorted(maps.Keys(queues))))

	var clientStarted atomic.Bool
	ready := telemetry.Checks{
		{Name: "database", Fn: pool.Ping},
		{Name: "river", Fn: func(context.Context) error {
			if !clientStarted.Load() {
				return errors.New("river client not started")
			}
			return nil
		}},
	}
	admin, err := telemetry.Listen(cfg.AdminAddr, telemetry.AdminHandler(reg, ready))
	if err != nil {
		return err
	}
	go func() {
		if err := admin.Serve(); err != nil {
			logger.Error("admin listener failed", slog.String("error", err.Error()))
		}
	}()
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = admin.Shutdown(sctx)
	}()
	logger.InfoContext(ctx, "admin listener ready", slog.String("addr", admin.Addr()))
	if started != nil {
		started(admin.Addr())
	}

	// The database may be down at start: wait for it (not ready meanwhile).
	if err := postgres.WaitReady(ctx, pool, logger); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}

	store, err := blob.New(ctx, blob.Config{Backend: cfg.BlobBackend, LocalDir: cfg.BlobLocalDir, Bucket: cfg.S3Bucket,
		Endpoint: cfg.S3Endpoint, Region: cfg.S3Region, PathStyle: cfg.S3PathStyle, Prefix: cfg.S3Prefix})
	if err != nil {
		return fmt.Errorf("invalid configuration: %w", err)
	}
	defer store.Close()

	shipper, err := auditShipper(cfg, pool, logger)
	if err != nil {
		return fmt.Errorf("invalid configuration: %w", err)
	}
	metricsMW := jobs.NewMetricsMiddleware(reg)
	// The jobs this process really works, for its reaper (orphans).
	tracker := fleet.NewTracker()
	// One id names this process in the workers table and as River client,
	// so river_job.attempted_by tells which worker runs a job.
	workerID := fleet.NewWorkerID()
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		ID:     workerID,
		Queues: queues,
		Workers: jobs.Workers(jobs.Deps{
			Pool: pool, Logger: logger, ECB: fx.NewClient(cfg.ECBBaseURL, cfg.ECBCurrencies, nil),
			Roles: roleProvider(cfg.Roles, logger), Blob: store, Units: unitSource(cfg), Tableau: tableauClient(cfg),
			ExportTTL: cfg.ExportTTL, AuditShipper: shipper,
		}),
		PeriodicJobs:                periodic,
		Middleware:                  middlewares(pool, logger, tracker, metricsMW),
		RetryPolicy:                 jobs.RetryPolicy{},
		FetchCooldown:               cfg.FetchCooldown,
		FetchPollInterval:           cfg.FetchPollInterval,
		CompletedJobRetentionPeriod: cfg.RetentionDone,
		DiscardedJobRetentionPeriod: cfg.RetentionFailed,
		CancelledJobRetentionPeriod: cfg.RetentionFailed,
		RescueStuckJobsAfter:        cfg.RescueAfter,
		Logger:                      logger,
	})
	if err != nil {
		return fmt.Errorf("error creating River client: %w", err)
	}
	// Register before River fetches anything: the other workers' reapers
	// judge a running job by the heartbeat of the worker that fetched it.
	// The heartbeat goes on until River has stopped (a slow graceful stop
	// must not look like a death), then the row is removed: no job of this
	// worker is running any more.
	hb := fleet.NewHeartbeat(pool, logger, fleet.HeartbeatConfig{
		ID: workerID, Queues: maxWorkers(queues), Running: metricsMW.Running, Interval: cfg.HeartbeatInterval,
	})
	if err := hb.Beat(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer func() {
		if err := hb.Remove(context.WithoutCancel(ctx)); err != nil {
			logger.Warn("worker row not removed", slog.String("error", err.Error()))
		}
	}()
	hbCtx, stopHeartbeat := context.WithCancel(context.WithoutCancel(ctx))
	hbDone := make(chan struct{})
	go func() { defer close(hbDone); hb.Run(hbCtx) }()
	defer func() { stopHeartbeat(); <-hbDone }()

	// Hand back the jobs of dead workers now (a restarted pod often replaces
	// the one that died), then periodically; and this worker's own orphans
	// (jobs whose fetch answer was lost with the database connection).
	reaper := fleet.NewReaper(pool, logger, fleet.ReaperConfig{Self: workerID, DeadAfter: cfg.DeadAfter, Tracker: tracker})
	reapCtx, stopReaper := context.WithCancel(ctx)
	reaperDone := make(chan struct{})
	go func() { defer close(reaperDone); reaper.Run(reapCtx) }()
	defer func() { stopReaper(); <-reaperDone }()

	// Cancelling the context given to Start cancels running jobs at once, so
	// River gets a context of its own: shutdown goes through Stop below.
	if err := client.Start(context.WithoutCancel(ctx)); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("error starting River client: %w", err)
	}
	clientStarted.Store(true)
	logger.InfoContext(ctx, "worker started", slog.String("worker_id", workerID), slog.Any("queues", cfg.Queues))

	<-ctx.Done()
	logger.Info("shutting down: no new jobs are fetched; waiting for running jobs", slog.Duration("timeout", cfg.ShutdownTimeout))
	clientStarted.Store(false)
	stopCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	go func() {
		select {
		case <-hard:
			logger.Warn("second signal: cancelling running jobs")
			cancel()
		case <-stopCtx.Done():
		}
	}()
	if err := client.Stop(stopCtx); err != nil {
		logger.Warn("running jobs did not finish in time; cancelling them (they will be retried)", slog.String("error", err.Error()))
		cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer ccancel()
		if err := client.StopAndCancel(cctx); err != nil {
			logger.Error("cancelled jobs did not return", slog.String("error", err.Error()))
		}
	}
	logger.Info("worker stopped")
	return nil
}

// roleProvider is the role_sync provider: Accred, the dev fixtures, or the
// OIDC claims (role_sync then has nothing to do: roles refresh at login).
func roleProvider(c config.Roles, logger *slog.Logger) auth.RoleProvider {
	switch c.RoleProvider {
	case auth.ProviderAccred:
		return &auth.Accred{BaseURL: c.AccredBaseURL, Username: c.AccredUsername, Password: c.AccredPassword,
			Client: &http.Client{Timeout: c.AccredTimeout}}
	case auth.ProviderOIDC:
		return auth.OIDCRoles{Claim: "roles", Logger: logger}
	default:
		return auth.DevRoles{}
	}
}

// unitSource is the unit directory of accred_unit_sync (UNIT_PROVIDER).
func unitSource(c config.Worker) units.Source {
	if c.UnitProvider == units.ProviderAccred {
		return &units.Accred{BaseURL: c.AccredBaseURL, Username: c.AccredUsername, Password: c.AccredPassword,
			Client: &http.Client{Timeout: c.AccredTimeout}}
	}
	return units.Dev{}
}

// middlewares wrap every job: the fleet tracker outermost (an attempt is
// tracked until everything below returned), then tracing, metrics and the
// pipeline bookkeeping.
func middlewares(pool *pgxpool.Pool, logger *slog.Logger, tracker *fleet.Tracker, metrics *jobs.MetricsMiddleware) []rivertype.Middleware {
	return []rivertype.Middleware{
		tracker,
		otelriver.NewMiddleware(nil),
		metrics,
		pipeline.NewMiddleware(pool, logger, jobs.AutoPipelines()).OnFinalFailure(jobs.FinalFailureHooks()),
	}
}

// maxWorkers maps each queue to its MaxWorkers (the heartbeat row).
func maxWorkers(queues map[string]river.QueueConfig) map[string]int {
	out := make(map[string]int, len(queues))
	for name, q := range queues {
		out[name] = q.MaxWorkers
	}
	return out
}
