// Package httpapi is the REST adapter of cmd/api: the chi router with the
// whole route table in one place (router.go), one short endpoint per route
// written with the handler kit (endpoint.go: (response, error); params.go:
// path, query, pagination and body parsing), the permission middleware
// (authz.go), the one mapping from application errors to HTTP (errors.go)
// and the OpenAPI document served at /api/v1/openapi.json (openapi/*.yaml),
// which a test keeps in step with the routes and with docs/api.md.
// Handlers hold no business rules: they parse, call a domain package
// (entry, report, imports, pipeline, auth) and render.
package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/trace"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/blob"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/entry"
	"github.com/co2-calculator/co2-calculator/pkg/imports"
	"github.com/co2-calculator/co2-calculator/pkg/integrations"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/report"
	"github.com/co2-calculator/co2-calculator/pkg/telemetry"
)

// Deps are what the handlers need.
type Deps struct {
	Pool     *pgxpool.Pool
	River    *river.Client[pgx.Tx] // insert-only
	Listener *pipeline.Listener
	Logger   *slog.Logger
	Registry prometheus.Registerer
	Ready    telemetry.Checks
	SPA      http.Handler // serves the SPA for every path no route matches; nil: JSON 404
	Version  VersionInfo

	// PublicBaseURL is PUBLIC_BASE_URL (Origin checks).
	PublicBaseURL string
	// Auth holds the session service; nil Service: every protected route
	// answers 401.
	Auth AuthDeps
	// RiverUI is mounted under /system/jobs when non-nil (see NewRiverUI).
	RiverUI http.Handler

	// Actor returns the caller of module data routes (own scope, D7); nil
	// treats every caller as unscoped.
	Actor func(*http.Request) entry.Actor
	// Tracer, when set, wraps the routes with OpenTelemetry's HTTP
	// instrumentation (spans named after the route pattern); the API sets
	// it when traces are exported (OTEL_EXPORTER_OTLP_ENDPOINT). Without
	// an exporter the instrumentation would only cost time: about 15 % of
	// the CPU of a 304 poll (issue 17 profile).
	Tracer trace.TracerProvider
	// SentryDSN is APP_SENTRY_DSN, served to the SPA by GET /config
	// (empty: no error reporting).
	SentryDSN string
	// CarKgPerKm is CAR_KG_PER_KM (results); 0 means 0.2996.
	CarKgPerKm float64

	// Blob stores uploaded files; nil: uploads answer 503.
	Blob blob.Store
	// UploadMaxBytes is UPLOAD_MAX_BYTES; 0 means 100 MiB.
	UploadMaxBytes int64
	// TableauConfigured is config.Tableau.TableauConfigured(): POST
	// /integrations/tableau/sync answers 409 when false.
	TableauConfigured bool
	// Limits are the request body deadlines and the event-stream cap
	// (limits.go).
	Limits Limits
	// Integrations are how the workers run each integration (configured,
	// schedule), from the configuration the API shares with them: GET
	// /integrations shows them with the recorded outcomes.
	Integrations []integrations.Setting
}

// VersionInfo is served at /api/v1/version.
type VersionInfo struct {
	Version       string `json:"version"`
	GitSHA        string `json:"git_sha"`
	BuildTime     string `json:"build_time"`
	SchemaVersion uint   `json:"schema_version"`
	Env           string `json:"env"`
	DevOIDC       bool   `json:"dev_oidc_enabled"`
}

// Server holds the handlers' dependencies and the domain services they
// call.
type Server struct {
	Deps
	pipelines *pipelineStreams
	entries   *entry.Service
	imports   *imports.Service
	caches    *readCaches // cache.go
}

// NewRouter builds the public router: /healthz, /readyz and /api/v1/...
func NewRouter(d Deps) http.Handler { return newServer(d).handler() }

func newServer(d Deps) *Server {
	entries := &entry.Service{}
	imp := &imports.Service{Blob: d.Blob, MaxBytes: d.UploadMaxBytes, Logger: d.Logger}
	if d.Pool != nil {
		entries.DB, imp.DB = d.Pool, d.Pool
	}
	if d.River != nil {
		entries.EnqueueAggregate = aggregateEnqueuer(d.River)
		imp.Enqueue = jobs.EnqueueImport(d.River)
	}
	caches := newReadCaches()
	if d.Listener != nil { // the caches are live only while it LISTENs
		d.Listener.Handle(report.NotifyChannel, caches.invalidate)
		d.Listener.OnState(caches.setLive)
	}
	return &Server{Deps: d, entries: entries, imports: imp, caches: caches,
		pipelines: &pipelineStreams{pool: d.Pool, listener: d.Listener, logger: d.Logger}}
}

// handler wraps the route table with OpenTelemetry when Deps.Tracing is
// set, inside the request body deadlines (limits.go), which need the
// server's own ResponseWriter.
func (s *Server) handler() http.Handler {
	var h http.Handler = s.routes()
	if s.Tracer != nil {
		h = otelhttp.NewHandler(h, "api", otelhttp.WithTracerProvider(s.Tracer),
			otelhttp.WithPropagators(telemetry.Propagator()),
			otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
				return r.Method // renamed to the route pattern once routed (middleware.go)
			}))
	}
	return s.bodyDeadline(h)
}

// routes is the whole route table (chi.Walk-able, see the OpenAPI drift test).
func (s *Server) routes() chi.Router {
	metrics := newHTTPMetrics(s.Registry)

	r := chi.NewRouter()
	r.Use(middleware.RequestID, requestIDHeader, securityHeaders, recoverer(s.Logger), metrics.middleware)

	r.Get("/healthz", telemetry.HealthzHandler)
	r.Method(http.MethodGet, "/readyz", telemetry.ReadyzHandler(s.Ready))

	if s.Auth.DevOIDC != nil {
		r.Handle("/dev-oidc/*", s.Auth.DevOIDC)
	}
	if s.RiverUI != nil {
		r.With(s.requireRiverUI).Mount("/system/jobs", s.RiverUI)
	}

	// Authorization: every route below is wrapped by one middleware of
	// authz.go (requireAuth, requireBO, requireUnit, requirePipelineVisible)
	// unless it is public; TestRouteAuthorization walks them all.
	r.Route("/api/v1", func(r chi.Router) {
		h := s.handle
		r.Use(s.csrf, s.checkQuery, s.evictOnWrite)
		r.Get("/openapi.json", h(s.openAPI))
		r.Get("/version", h(s.version))
		r.Get("/config", h(s.clientConfig))

		r.Get("/auth/login", h(s.authLogin))
		r.Get("/auth/callback", h(s.authCallback))
		r.Post("/auth/refresh", h(s.authRefresh))
		r.With(s.requireAuth).Post("/auth/logout", h(s.authLogout))
		r.With(s.requireAuth).Get("/me", h(s.me))
		r.With(s.requireAuth).Get("/me/units", h(s.meUnits))

		r.With(s.requirePipelineVisible).Get("/pipelines/{id}", h(s.getPipeline))
		r.With(s.requirePipelineVisible).Get("/pipelines/{id}/events", h(s.pipelineEvents))
		r.With(s.requireAuth).Get("/pipelines", h(s.listPipelines))                                         // visible pipelines (clamped by the query)
		r.With(s.requirePipelineCancel, s.auditRequest).Post("/pipelines/{id}/cancel", h(s.cancelPipeline)) // creator or bo(pipeline_operations, edit); pipeline.cancel
		r.With(s.requireAuth).Get("/templates/{kind}/{group}.csv", h(s.getTemplate))

		r.With(s.requireBO("configuration", "view")).Get("/fx-rates", h(s.fxRates))

		// Uploads (docs/api.md §9, §5 P/uploads).
		r.With(s.requireBO("configuration", "edit"), s.auditRequest).Post("/uploads", h(s.postUpload))
		r.With(s.requireBO("configuration", "edit"), s.auditRequest).Post("/uploads/copy", h(s.postUploadCopy)) // back office only, any source scope (docs/api.md §9)
		r.With(s.requireBO("configuration", "view")).Get("/uploads", h(s.listUploads))
		r.With(s.requireAuth).Get("/uploads/{id}/errors.csv", h(s.getUploadErrors)) // bo(configuration, view) or uploader (handler)

		r.With(s.requireAuth).Get("/uploads/{id}", h(s.getUpload))                          // bo(configuration, view) or uploader (handler)
		r.With(s.requireAuth, s.auditRequest).Get("/uploads/{id}/file", h(s.getUploadFile)) // idem; upload.download
		r.Group(func(r chi.Router) {                                                        // module_sync(u, m)
			r.Use(s.requireUnit(ModuleSync), s.auditRequest)
			r.Post("/units/{unit_id}/years/{year}/modules/{module}/uploads", h(s.postModuleUpload))
			r.Get("/units/{unit_id}/years/{year}/modules/{module}/uploads", h(s.listModuleUploads))
		})

		// Module data (docs/api.md §5) and entry-form lookups (§8): one
		// group per permission predicate, to be wrapped by its middleware.
		const modulePath = "/units/{unit_id}/years/{year}/modules/{module}"
		const entries = modulePath + "/{submodule}/entries"
		r.Group(func(r chi.Router) { // module_view(u, m)
			r.Use(s.requireUnit(ModuleView), s.auditRequest)
			r.Get(modulePath, h(s.moduleOverview))
			r.Get(modulePath+"/breakdown", h(s.moduleBreakdown))
			r.Get(entries, h(s.listEntries))
			r.Get(entries+"/check-unique", h(s.checkUnique))
			r.Get(entries+"/{entry_id}", h(s.getEntry))
		})
		r.Group(func(r chi.Router) { // module_view(u, headcount or professional_travel)
			r.Use(s.requireModuleView(string(emission.ModuleHeadcount), string(emission.ModuleProfessionalTravel)))
			r.Get("/units/{unit_id}/years/{year}/modules/headcount/members", h(s.headcountMembers))
		})
		r.Group(func(r chi.Router) { // module_view(u, professional_travel)
			r.Use(s.requireModuleView(string(emission.ModuleProfessionalTravel)))
			r.Get("/units/{unit_id}/years/{year}/modules/professional_travel/trips-map", h(s.tripsMap))
		})
		r.Group(func(r chi.Router) { // module_edit(u, m)
			r.Use(s.requireUnit(ModuleEdit), s.auditRequest)
			r.Post(entries, h(s.createEntry))
			r.Patch(entries+"/{entry_id}", h(s.patchEntry))
			r.Delete(entries+"/{entry_id}", h(s.deleteEntry))
		})
		r.Group(func(r chi.Router) { // auth
			r.Use(s.requireAuth)
			r.Get("/taxonomies/{submodule}", h(s.taxonomy))
			r.Get("/locations", h(s.locations))
			r.Get("/locations/distance", h(s.locationDistance))
			r.Get("/building-rooms/buildings", h(s.buildings))
			r.Get("/building-rooms", h(s.rooms))
		})

		// Units, reports, module status (docs/api.md §4) and results (§6):
		// one group per permission predicate, to be wrapped by its
		// middleware.
		r.Group(func(r chi.Router) { // unit_results(u)
			r.Use(s.requireUnit(UnitResults))
			r.Get("/units/{unit_id}", h(s.getUnit))
			r.Get("/units/{unit_id}/reports", h(s.listReports))
			r.Get("/units/{unit_id}/years/{year}/report", h(s.getReport))
			r.Get("/units/{unit_id}/years/{year}/results/summary", h(s.resultsSummary))
			r.Get("/units/{unit_id}/years/{year}/results/breakdown", h(s.resultsBreakdown))
			r.Get("/units/{unit_id}/years/{year}/results/it", h(s.resultsIT))
			r.Get("/units/{unit_id}/results/yearly", h(s.resultsYearly))
		})
		r.Group(func(r chi.Router) { // unit_member(u); year open checked by the domain
			r.Use(s.requireUnit(UnitMember))
			r.Put("/units/{unit_id}/years/{year}/report", h(s.putReport))
		})
		r.Group(func(r chi.Router) { // module_validate(u); year open checked by the domain
			r.Use(s.requireUnit(ModuleValidate), s.auditRequest)
			r.Patch("/units/{unit_id}/years/{year}/modules/{module}/status", h(s.patchModuleStatus))
		})

		// Years and their setup (docs/api.md §7), Accred sync (§14).
		r.With(s.requireAuth).Get("/years", h(s.listYears))      // non-admins: open and closed years
		r.With(s.requireAuth).Get("/years/{year}", h(s.getYear)) // idem (others 404)
		r.With(s.requireBO("configuration", "view")).Get("/years/{year}/data-status", h(s.getYearDataStatus))
		r.Group(func(r chi.Router) { // bo(configuration, edit); year.create, year.update, year.setup, integration.trigger
			r.Use(s.requireBO("configuration", "edit"), s.auditRequest)
			r.Post("/years", h(s.postYear))
			r.Patch("/years/{year}", h(s.patchYear))
			r.Post("/years/{year}/setup", h(s.postYearSetup))
			r.Post("/years/{year}/reduction-objectives/{dataset}", h(s.postReductionObjectives))
			r.Post("/integrations/accred/sync", h(s.postAccredSync))
		})

		// Factors, FX rates, recalculations (docs/api.md §8, §9), ECB sync (§14).
		r.Group(func(r chi.Router) { // bo(configuration, view)
			r.Use(s.requireBO("configuration", "view"))
			r.Get("/factors", h(s.listFactors))
			r.Get("/factors/stale", h(s.staleFactors))
			r.Get("/factors/{id}", h(s.getFactor))
		})
		r.Group(func(r chi.Router) { // bo(configuration, edit); audited
			r.Use(s.requireBO("configuration", "edit"), s.auditRequest)
			r.Post("/factors", h(s.createFactor))
			r.Patch("/factors/{id}", h(s.patchFactor))
			r.Delete("/factors/{id}", h(s.deleteFactor))
			r.Post("/factors/stale/purge", h(s.purgeStaleFactors))
			r.Post("/factors/compute", h(s.computeFactors))
			r.Put("/fx-rates/{year}/{currency}", h(s.putFXRate))
			r.Delete("/fx-rates/{year}/{currency}", h(s.deleteFXRate))
			r.Post("/recalculations", h(s.postRecalculation))
			r.Post("/integrations/ecb/sync", h(s.syncECB))
		})

		// Job operations (docs/api.md §10).
		r.Group(func(r chi.Router) { // bo(pipeline_operations, view)
			r.Use(s.requireBO("pipeline_operations", "view"))
			r.Get("/ops/workers", h(s.opsWorkers))
			r.Get("/ops/queues", h(s.opsQueues))
			r.Get("/ops/jobs", h(s.opsJobs))
			r.Get("/ops/stale-stats", h(s.opsStaleStats))
		})
		r.Group(func(r chi.Router) { // bo(pipeline_operations, edit); pipeline.retry, job.retry, job.cancel
			r.Use(s.requireBO("pipeline_operations", "edit"), s.auditRequest)
			r.Post("/pipelines/{id}/jobs/{job_id}/retry", h(s.retryPipelineJob))
			r.Post("/ops/jobs/{id}/retry", h(s.retryOpsJob))
			r.Post("/ops/jobs/{id}/cancel", h(s.cancelOpsJob))
		})

		// Back-office reporting (docs/api.md §11).
		r.Group(func(r chi.Router) { // bo(reporting, view); answers clamped to the caller's reporting scope
			r.Use(s.requireBO("reporting", "view"))
			r.Get("/backoffice/years", h(s.backofficeYears))
			r.Get("/backoffice/affiliations", h(s.backofficeAffiliations))
			r.Get("/backoffice/units", h(s.backofficeUnits))
			r.Get("/backoffice/overview", h(s.backofficeOverview))
			r.Get("/backoffice/usage", h(s.backofficeUsage))
			r.Get("/backoffice/results", h(s.backofficeResults))
		})

		// Exports (docs/api.md §12).
		r.Group(func(r chi.Router) { // auth; the kind's permission (403) and creator-or-admin (404) are package export's; export.create, export.download
			r.Use(s.requireAuth, s.auditRequest)
			r.Post("/exports", h(s.postExport))
			r.Get("/exports", h(s.listExports))
			r.Get("/exports/{id}", h(s.getExport))
			r.Get("/exports/{id}/download", h(s.downloadExport))
		})

		// Audit (docs/api.md §13).
		r.Group(func(r chi.Router) { // bo(logs, view); audit.verify
			r.Use(s.requireBO("logs", "view"), s.auditRequest)
			r.Get("/audit/events", h(s.listAuditEvents))
			r.Get("/audit/events/{id}", h(s.getAuditEvent))
			r.Get("/audit/stats", h(s.auditStats))
			r.Get("/audit/verify", h(s.verifyAudit))
		})
		r.With(s.requireBO("configuration", "edit"), s.auditRequest).Post("/audit/shipping/retry-failed", h(s.retryFailedShipping)) // audit.retry_failed

		// Integrations: overview, Tableau sync (docs/api.md §14).
		r.With(s.requireBO("configuration", "view")).Get("/integrations", h(s.listIntegrations))
		r.With(s.requireBO("configuration", "edit"), s.auditRequest).Post("/integrations/tableau/sync", h(s.syncTableau)) // integration.trigger
	})
	if s.SPA != nil {
		r.NotFound(s.SPA.ServeHTTP)
	} else {
		r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusNotFound, errorBody{Error: errorPayload{Code: "not_found", Message: "no such route", Details: []apperr.FieldError{}}})
		})
	}
	r.MethodNotAllowed(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: errorPayload{Code: "bad_request", Message: "method not allowed", Details: []apperr.FieldError{}}})
	})
	return r
}

func (s *Server) version(*http.Request) (response, error) { return ok(s.Version), nil }

// ClientConfig is served at /api/v1/config: what the SPA reads at boot.
type ClientConfig struct {
	// SentryDSN is APP_SENTRY_DSN ("" when error reporting is off).
	SentryDSN string `json:"sentry_dsn"`
	// Env is APP_ENV.
	Env string `json:"env"`
}

func (s *Server) clientConfig(*http.Request) (response, error) {
	return ok(ClientConfig{SentryDSN: s.SentryDSN, Env: s.Version.Env}), nil
}
