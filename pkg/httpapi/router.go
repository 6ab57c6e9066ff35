// Package httpapi is the REST adapter of cmd/api: the chi router with the
// whole route table in one place (router.go), one handler per endpoint, the
// one mapping from application errors to HTTP (errors.go) and the OpenAPI
// document served at /api/v1/openapi.json (openapi.yaml), which a test keeps
// in step with the routes.
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

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
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
}

// VersionInfo is served at /api/v1/version.
type VersionInfo struct {
	Version       string `json:"version"`
	GitSHA        string `json:"git_sha"`
	BuildTime     string `json:"build_time"`
	SchemaVersion uint   `json:"schema_version"`
	Env           string `json:"env"`
}

// Server holds the handlers' dependencies.
type Server struct {
	Deps
	pipelines *pipelineHandlers
}

// NewRouter builds the public router: /healthz, /readyz and /api/v1/...
func NewRouter(d Deps) http.Handler { return newServer(d).handler() }

func newServer(d Deps) *Server {
	return &Server{Deps: d, pipelines: &pipelineHandlers{pool: d.Pool, listener: d.Listener, logger: d.Logger}}
}

// handler wraps the route table with OpenTelemetry.
func (s *Server) handler() http.Handler {
	return otelhttp.NewHandler(s.routes(), "api", otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
		return r.Method // renamed to the route pattern once routed (middleware.go)
	}))
}

// routes is the whole route table (chi.Walk-able, see the OpenAPI drift test).
func (s *Server) routes() chi.Router {
	metrics := newHTTPMetrics(s.Registry)

	r := chi.NewRouter()
	r.Use(middleware.RequestID, requestIDHeader, recoverer(s.Logger), metrics.middleware)

	r.Get("/healthz", telemetry.HealthzHandler)
	r.Method(http.MethodGet, "/readyz", telemetry.ReadyzHandler(s.Ready))

	r.Route("/api/v1", func(r chi.Router) {
		r.Get("/openapi.json", s.openAPI)
		r.Get("/version", s.version)

		r.Get("/pipelines/{id}", s.pipelines.get)
		r.Get("/pipelines/{id}/events", s.pipelines.events)

		r.Get("/fx-rates", s.fxRates)
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

func (s *Server) version(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Version)
}
