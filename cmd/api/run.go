package main

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/migrations"
	"github.com/co2-calculator/co2-calculator/pkg/auth"
	"github.com/co2-calculator/co2-calculator/pkg/blob"
	"github.com/co2-calculator/co2-calculator/pkg/buildinfo"
	"github.com/co2-calculator/co2-calculator/pkg/config"
	"github.com/co2-calculator/co2-calculator/pkg/httpapi"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/telemetry"
	"github.com/co2-calculator/co2-calculator/web"
)

// addrs are the bound listener addresses, told to tests that use ":0".
type addrs struct{ HTTP, Admin string }

// run serves until ctx is cancelled, then drains: SSE streams end, the
// listeners stop accepting and in-flight requests get 20 s to finish.
func run(ctx context.Context, cfg config.API, logger *slog.Logger, started func(addrs)) error {
	logger.InfoContext(ctx, "api starting", slog.String("version", buildinfo.Version), slog.Any("config", cfg.LogAttrs()))
	tracer, shutdownTracing, err := telemetry.SetupTracing(ctx, cfg.OTLPEnd, cfg.ServiceName, buildinfo.Version)
	if err != nil {
		return err
	}
	defer func() { _ = shutdownTracing(context.WithoutCancel(ctx)) }()

	// The pool connects lazily: the API starts (not ready) while the
	// database is down and recovers when it returns.
	pool, err := postgres.NewPool(ctx, cfg.DatabaseURL, int32(cfg.DBMaxConns), "co2-api")
	if err != nil {
		return err
	}
	defer pool.Close()

	// Insert-only River client: workers registered to validate kinds, no
	// queues, never started.
	riverClient, err := jobs.NewInsertClient(pool)
	if err != nil {
		return err
	}

	authDeps, riverUI, err := setupAuth(ctx, cfg, pool, riverClient, logger)
	if err != nil {
		return err
	}

	store, err := blob.New(ctx, blobConfig(cfg.Blob))
	if err != nil {
		return err
	}
	defer store.Close()

	// The listener also carries the session revocations and role changes
	// to the session cache, which it turns on only while it LISTENs.
	listener := pipeline.NewListener(pool.Config().ConnConfig, logger)
	if authDeps.Service != nil {
		listener.Handle(auth.NotifyChannel, authDeps.Service.Invalidate)
		listener.OnState(authDeps.Service.CacheLive)
	}
	reg := telemetry.NewRegistry()
	ready := telemetry.Checks{
		{Name: "database", Fn: pool.Ping},
		{Name: "migrations", Fn: func(ctx context.Context) error { return postgres.CheckSchema(ctx, pool) }},
		{Name: "blob_store", Fn: store.Check, Optional: true},
	}
	appVersion, _ := migrations.Sets()[1].LatestVersion()
	router := httpapi.NewRouter(httpapi.Deps{
		Pool: pool, River: riverClient, Listener: listener, Logger: logger, Registry: reg, Ready: ready,
		SPA: web.Handler(cfg.SPADir, sentryOrigin(cfg.SentryDSN)...),
		Version: httpapi.VersionInfo{
			Version: buildinfo.Version, GitSHA: buildinfo.SHA(), BuildTime: buildinfo.BuildTime,
			SchemaVersion: appVersion, Env: cfg.AppEnv, DevOIDC: cfg.DevOIDCEnabled,
		},
		Tracer:        tracer,
		PublicBaseURL: cfg.PublicBaseURL, Auth: authDeps, RiverUI: riverUI, Actor: httpapi.PrincipalActor,
		CarKgPerKm: cfg.CarKgPerKm, SentryDSN: cfg.SentryDSN, Blob: store, UploadMaxBytes: cfg.UploadMaxBytes,
		TableauConfigured: cfg.TableauConfigured(), Integrations: integrationSettings(cfg),
		Limits: httpapi.Limits{BodyTimeout: cfg.BodyTimeout, UploadMinRate: cfg.UploadMinRate, SSEPerUser: cfg.SSEMaxPerUser},
	})

	public, err := telemetry.ListenWith(cfg.HTTPAddr, router,
		telemetry.ServerTimeouts{ReadHeader: cfg.ReadHeaderTimeout, Idle: cfg.IdleTimeout})
	if err != nil {
		return err
	}
	admin, err := telemetry.Listen(cfg.AdminAddr, telemetry.AdminHandler(reg, ready))
	if err != nil {
		return err
	}
	streams, endStreams := context.WithCancel(context.WithoutCancel(ctx))
	defer endStreams()
	public.SetBaseContext(streams)

	logger.InfoContext(ctx, "api listening", slog.String("http", public.Addr()), slog.String("admin", admin.Addr()))
	if started != nil {
		started(addrs{HTTP: public.Addr(), Admin: admin.Addr()})
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(public.Serve)
	g.Go(admin.Serve)
	g.Go(func() error { listener.Run(streams); return nil })
	g.Go(func() error {
		<-gctx.Done()
		logger.Info("api shutting down")
		endStreams()
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		return errors.Join(public.Shutdown(sctx), admin.Shutdown(sctx))
	})
	err = g.Wait()
	logger.Info("api stopped")
	return err
}

// blobConfig maps BLOB_* and S3_* to the blob store configuration
// (credentials: the standard AWS chain).
func blobConfig(c config.Blob) blob.Config {
	return blob.Config{Backend: c.BlobBackend, LocalDir: c.BlobLocalDir, Bucket: c.S3Bucket, Endpoint: c.S3Endpoint,
		Region: c.S3Region, PathStyle: c.S3PathStyle, Prefix: c.S3Prefix}
}

// sentryOrigin is the origin the SPA reports errors to (APP_SENTRY_DSN,
// https://KEY@HOST/PROJECT), allowed by the SPA's connect-src; none when
// the DSN is empty or malformed.
func sentryOrigin(dsn string) []string {
	u, err := url.Parse(dsn)
	if dsn == "" || err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil
	}
	return []string{u.Scheme + "://" + u.Host}
}
