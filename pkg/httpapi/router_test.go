package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/co2-calculator/co2-calculator/pkg/httpapi"
	"github.com/co2-calculator/co2-calculator/pkg/telemetry"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

const apiPrefix = "/api/v1"

// route is one (METHOD, path) under /api/v1, with chi and OpenAPI both
// spelling path parameters as {name}.
type route struct{ Method, Path string }

func (r route) String() string { return r.Method + " " + r.Path }

var chiParamRegexp = regexp.MustCompile(`\{([^}:]+):[^}]*\}`)

// routerRoutes walks a chi route table and returns its routes under /api/v1.
func routerRoutes(t *testing.T, routes chi.Routes) map[route]bool {
	t.Helper()
	out := map[route]bool{}
	err := chi.Walk(routes, func(method, path string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		rest, ok := strings.CutPrefix(path, apiPrefix)
		if !ok {
			return nil
		}
		out[route{Method: method, Path: chiParamRegexp.ReplaceAllString(rest, "{$1}")}] = true
		return nil
	})
	require.NoError(t, err)
	return out
}

type openAPIParameter struct {
	Ref      string `json:"$ref"`
	Name     string `json:"name"`
	In       string `json:"in"`
	Required bool   `json:"required"`
}

type openAPIOperation struct {
	OperationID string                     `json:"operationId"`
	Parameters  []openAPIParameter         `json:"parameters"`
	Responses   map[string]json.RawMessage `json:"responses"`
}

type openAPIDoc struct {
	OpenAPI string `json:"openapi"`
	Servers []struct {
		URL string `json:"url"`
	} `json:"servers"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Parameters map[string]openAPIParameter `json:"parameters"`
	} `json:"components"`
}

var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// documentOperations parses an OpenAPI document and returns its operations
// by route.
func documentOperations(t *testing.T, b []byte) (openAPIDoc, map[route]openAPIOperation) {
	t.Helper()
	var doc openAPIDoc
	require.NoError(t, json.Unmarshal(b, &doc))
	ops := map[route]openAPIOperation{}
	for path, item := range doc.Paths {
		for key, raw := range item {
			if !slices.Contains(openAPIMethods, key) {
				continue // parameters, summary, …
			}
			var op openAPIOperation
			require.NoError(t, json.Unmarshal(raw, &op), "%s %s", key, path)
			ops[route{Method: strings.ToUpper(key), Path: path}] = op
		}
	}
	return doc, ops
}

// diffRoutes returns the routes the router serves without a document entry
// and the documented operations no route serves, both sorted.
func diffRoutes[V any](router map[route]bool, documented map[route]V) (undocumented, unrouted []string) {
	for r := range router {
		if _, ok := documented[r]; !ok {
			undocumented = append(undocumented, r.String())
		}
	}
	for r := range documented {
		if !router[r] {
			unrouted = append(unrouted, r.String())
		}
	}
	slices.Sort(undocumented)
	slices.Sort(unrouted)
	return undocumented, unrouted
}

func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()

	b, err := httpapi.OpenAPIDocument()
	require.NoError(t, err)
	require.True(t, json.Valid(b))
	doc, ops := documentOperations(t, b)

	t.Run("Header", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, "3.1.0", doc.OpenAPI)
		require.Len(t, doc.Servers, 1)
		require.Equal(t, apiPrefix, doc.Servers[0].URL)
	})

	t.Run("MatchesRouter", func(t *testing.T) {
		t.Parallel()
		routes := routerRoutes(t, httpapi.Routes(httpapi.Deps{Logger: testdb.QuietLogger(), Ready: ready}))
		require.NotEmpty(t, routes)
		undocumented, unrouted := diffRoutes(routes, ops)
		require.Empty(t, undocumented, "routes missing from openapi.yaml")
		require.Empty(t, unrouted, "openapi.yaml operations without a route")
	})

	t.Run("Operations", func(t *testing.T) {
		t.Parallel()
		require.NotEmpty(t, ops)
		seen := map[string]string{}
		for r, op := range ops {
			require.NotEmpty(t, op.OperationID, "%s has no operationId", r)
			require.NotContains(t, seen, op.OperationID, "%s reuses the operationId of %s", r, seen[op.OperationID])
			seen[op.OperationID] = r.String()
			require.NotEmpty(t, op.Responses, "%s has no response", r)

			// Every {param} of the path is declared as a required path
			// parameter (directly or through #/components/parameters).
			declared := map[string]bool{}
			for _, p := range op.Parameters {
				if name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/"); ok {
					require.Contains(t, doc.Components.Parameters, name, "%s: dangling $ref %s", r, p.Ref)
					p = doc.Components.Parameters[name]
				}
				if p.In == "path" {
					require.True(t, p.Required, "%s: path parameter %s must be required", r, p.Name)
					declared[p.Name] = true
				}
			}
			for _, m := range regexp.MustCompile(`\{([^}]+)\}`).FindAllStringSubmatch(r.Path, -1) {
				require.True(t, declared[m[1]], "%s: path parameter %s is not declared", r, m[1])
			}
		}
	})

	// The comparison itself fails in both directions.
	t.Run("DriftDetected", func(t *testing.T) {
		t.Parallel()
		h := func(http.ResponseWriter, *http.Request) {}
		r := chi.NewRouter()
		r.Route(apiPrefix, func(r chi.Router) {
			r.Get("/pipelines/{id:[0-9a-f-]+}", h)
			r.Post("/undocumented", h)
		})
		r.Get("/healthz", h) // outside /api/v1: ignored
		_, ops := documentOperations(t, []byte(`{"openapi":"3.1.0","paths":{
			"/pipelines/{id}": {"get": {"operationId": "a", "responses": {"200": {}}}, "parameters": []},
			"/unrouted": {"delete": {"operationId": "b", "responses": {"204": {}}}}}}`))
		undocumented, unrouted := diffRoutes(routerRoutes(t, r), ops)
		require.Equal(t, []string{"POST /undocumented"}, undocumented)
		require.Equal(t, []string{"DELETE /unrouted"}, unrouted)
	})
}

func TestRouter(t *testing.T) {
	t.Parallel()

	router := httpapi.NewRouter(httpapi.Deps{Logger: testdb.QuietLogger(), Ready: ready})
	notFound := `{"error":{"code":"not_found","message":"no such route","details":[]}}`
	runHTTPCases(t, router, []httpCase{
		{name: "Healthz", method: http.MethodGet, url: "/healthz", status: http.StatusOK, want: `{"status":"ok"}`},
		{name: "MethodNotAllowed", method: http.MethodPost, url: "/api/v1/fx-rates?year=2025", status: http.StatusMethodNotAllowed,
			want: `{"error":{"code":"bad_request","message":"method not allowed","details":[]}}`},
		{name: "MetricsNotPublic", method: http.MethodGet, url: "/metrics", status: http.StatusNotFound, want: notFound},
		{name: "Readyz", method: http.MethodGet, url: "/readyz", status: http.StatusOK, want: `{"status":"ok","checks":{"database":"ok"}}`},
		{name: "UnknownAPIRoute", method: http.MethodGet, url: "/api/v1/nope", status: http.StatusNotFound, want: notFound},
		{name: "UnknownRoute", method: http.MethodGet, url: "/nope", status: http.StatusNotFound, want: notFound},
		{name: "Version", method: http.MethodGet, url: "/api/v1/version", status: http.StatusOK,
			want: `{"version":"","git_sha":"","build_time":"","schema_version":0,"env":"","dev_oidc_enabled":false}`},
	})

	t.Run("OpenAPIJSON", func(t *testing.T) {
		t.Parallel()
		rec := serve(t, router, http.MethodGet, "/api/v1/openapi.json", nil)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
		want, err := httpapi.OpenAPIDocument()
		require.NoError(t, err)
		require.Equal(t, want, rec.Body.Bytes())
	})

	t.Run("RequestIDEchoed", func(t *testing.T) {
		t.Parallel()
		for _, url := range []string{"/healthz", "/api/v1/openapi.json", "/nope", "/api/v1/pipelines/x"} {
			rec := serve(t, router, http.MethodGet, url, http.Header{"X-Request-Id": {"req-42"}})
			require.Equal(t, "req-42", rec.Header().Get("X-Request-ID"), url)
		}
	})

	t.Run("RequestIDGenerated", func(t *testing.T) {
		t.Parallel()
		a := serve(t, router, http.MethodGet, "/healthz", nil).Header().Get("X-Request-ID")
		b := serve(t, router, http.MethodGet, "/healthz", nil).Header().Get("X-Request-ID")
		require.NotEqual(t, a, b)
	})
}

func TestClientConfig(t *testing.T) {
	t.Parallel()
	off := httpapi.NewRouter(httpapi.Deps{Logger: testdb.QuietLogger(), Ready: ready, Version: httpapi.VersionInfo{Env: "dev"}})
	on := httpapi.NewRouter(httpapi.Deps{Logger: testdb.QuietLogger(), Ready: ready, Version: httpapi.VersionInfo{Env: "production"},
		SentryDSN: "https://key@glitchtip.example.org/3"})
	runHTTPCases(t, off, []httpCase{
		{name: "Off", method: http.MethodGet, url: "/api/v1/config", status: http.StatusOK, want: `{"sentry_dsn":"","env":"dev"}`},
	})
	runHTTPCases(t, on, []httpCase{
		{name: "On", method: http.MethodGet, url: "/api/v1/config", status: http.StatusOK,
			want: `{"sentry_dsn":"https://key@glitchtip.example.org/3","env":"production"}`},
	})
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		ready  telemetry.Checks
		status int
		want   string
	}{
		{name: "NotReady", ready: telemetry.Checks{
			{Name: "database", Fn: func(context.Context) error { return errors.New("connection refused") }},
			{Name: "migrations", Fn: readyOK},
		}, status: http.StatusServiceUnavailable, want: `{"status":"unavailable","checks":{"database":"connection refused","migrations":"skipped"}}`},
		{name: "Ready", ready: ready, status: http.StatusOK, want: `{"status":"ok","checks":{"database":"ok"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			router := httpapi.NewRouter(httpapi.Deps{Logger: testdb.QuietLogger(), Ready: tt.ready})
			rec := serve(t, router, http.MethodGet, "/readyz", nil)
			require.Equal(t, tt.status, rec.Code)
			require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			require.JSONEq(t, tt.want, rec.Body.String())
		})
	}
}

func TestMetricsRecorded(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	router := httpapi.AsAdmin(httpapi.NewRouter(httpapi.Deps{Logger: testdb.QuietLogger(), Ready: ready, Registry: reg}))
	serve(t, router, http.MethodGet, "/api/v1/pipelines/not-a-uuid", nil)
	serve(t, router, http.MethodGet, "/nope", nil)

	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/metrics", nil))
	require.Contains(t, rec.Body.String(), `co2_http_request_duration_seconds_count{method="GET",route="/api/v1/pipelines/{id}",status="404"} 1`)
	require.Contains(t, rec.Body.String(), `co2_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"} 1`)
}

// TestRouterTracing: with a tracer provider every request is a server span
// named after its route pattern, carrying the caller's trace (traceparent);
// without one nothing is instrumented (Deps.Tracer).
func TestRouterTracing(t *testing.T) {
	t.Parallel()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	traced := httpapi.NewRouter(httpapi.Deps{Logger: testdb.QuietLogger(), Ready: ready, Tracer: tp})
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	res := serve(t, traced, http.MethodGet, "/api/v1/version", http.Header{"Traceparent": {"00-" + traceID + "-00f067aa0ba902b7-01"}})
	require.Equal(t, http.StatusOK, res.Code)
	spans := rec.Ended()
	require.Len(t, spans, 1)
	require.Equal(t, "GET /api/v1/version", spans[0].Name())
	require.Equal(t, traceID, spans[0].SpanContext().TraceID().String())
	require.Equal(t, oteltrace.SpanKindServer, spans[0].SpanKind())

	plain := httpapi.NewRouter(httpapi.Deps{Logger: testdb.QuietLogger(), Ready: ready})
	require.Equal(t, http.StatusOK, serve(t, plain, http.MethodGet, "/api/v1/version", nil).Code)
	require.Len(t, rec.Ended(), 1, "no span without a tracer provider")
}
