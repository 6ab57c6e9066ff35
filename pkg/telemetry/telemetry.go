// Package telemetry wires logging (slog), tracing (OpenTelemetry over OTLP
// when configured, no-op otherwise), Prometheus metrics and the internal
// admin listener (/healthz, /readyz, /metrics) shared by api and worker.
package telemetry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
)

// NewLogger builds the process logger: JSON or text, at the given level.
func NewLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// Propagator is the trace-context propagation of every program: W3C trace
// context and baggage.
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// SetupTracing installs Propagator and, when endpoint is set, a global
// tracer provider exporting over OTLP/HTTP (the exporter reads the standard
// OTEL_EXPORTER_OTLP_* variables), which it returns; without an endpoint
// the global no-op provider stays and the returned provider is nil. The
// returned function flushes and stops the exporter.
func SetupTracing(ctx context.Context, endpoint, serviceName, version string) (trace.TracerProvider, func(context.Context) error, error) {
	otel.SetTextMapPropagator(Propagator())
	if endpoint == "" {
		return nil, func(context.Context) error { return nil }, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("error creating OTLP exporter: %w", err)
	}
	res := resource.NewWithAttributes(semconv.SchemaURL,
		semconv.ServiceName(serviceName), semconv.ServiceVersion(version))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	return tp, tp.Shutdown, nil
}

// NewRegistry returns a Prometheus registry with the Go and process
// collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Check is one named readiness check; nil from Fn means it passes.
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
	// Optional checks are reported but never fail readiness (the blob
	// store, docs/api.md §15).
	Optional bool
}

// Checks is the list of readiness checks of a process.
type Checks []Check

// Run runs every check and returns the report and whether all passed. A
// check is skipped (reported "skipped") once an earlier one failed.
func (cs Checks) Run(ctx context.Context) (map[string]string, bool) {
	report := make(map[string]string, len(cs))
	ok := true
	for _, c := range cs {
		if !ok {
			report[c.Name] = "skipped"
			continue
		}
		if err := c.Fn(ctx); err != nil {
			report[c.Name] = err.Error()
			ok = ok && c.Optional
			continue
		}
		report[c.Name] = "ok"
	}
	return report, ok
}

// AdminHandler serves /healthz (liveness, no I/O), /readyz (runs the checks)
// /metrics and /debug/pprof.
func AdminHandler(reg *prometheus.Registry, ready Checks) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", HealthzHandler)
	mux.Handle("GET /readyz", ReadyzHandler(ready))
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	// Go's profiler (CPU, heap, goroutines, ...), for operators: the admin
	// port is not exposed outside the cluster (README "Configuration").
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}

// HealthzHandler answers 200 as long as the process runs.
func HealthzHandler(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"status":"ok"}`)
}

// ReadyzHandler answers {"status": "ok"|"unavailable", "checks": {name:
// "ok"|reason|"skipped"}}, with 503 when a check fails.
func ReadyzHandler(ready Checks) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		report, ok := ready.Run(ctx)
		w.Header().Set("Content-Type", "application/json")
		status := "ok"
		if !ok {
			status = "unavailable"
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"status": status, "checks": report})
	})
}

// Server is an HTTP listener with graceful shutdown.
type Server struct {
	srv *http.Server
	ln  net.Listener
}

// ServerTimeouts cut slow and idle clients (zero: the defaults, 10 s to
// read the headers and 60 s of keep-alive idleness). There is no overall
// read or write timeout: request bodies get their own deadlines
// (httpapi.Limits) and event streams and downloads are long.
type ServerTimeouts struct {
	ReadHeader time.Duration
	Idle       time.Duration
}

// Listen binds addr (":0" picks a free port) for h, with the default
// timeouts.
func Listen(addr string, h http.Handler) (*Server, error) {
	return ListenWith(addr, h, ServerTimeouts{})
}

// ListenWith binds addr (":0" picks a free port) for h.
func ListenWith(addr string, h http.Handler, t ServerTimeouts) (*Server, error) {
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("error listening on %s: %w", addr, err)
	}
	if t.ReadHeader <= 0 {
		t.ReadHeader = 10 * time.Second
	}
	if t.Idle <= 0 {
		t.Idle = 60 * time.Second
	}
	return &Server{ln: ln, srv: &http.Server{Handler: h, ReadHeaderTimeout: t.ReadHeader, IdleTimeout: t.Idle}}, nil
}

// SetBaseContext makes every request context derive from ctx, so that
// cancelling ctx ends long-lived requests (SSE streams) before Shutdown.
func (s *Server) SetBaseContext(ctx context.Context) {
	s.srv.BaseContext = func(net.Listener) context.Context { return ctx }
}

// Addr is the bound address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve blocks until Shutdown.
func (s *Server) Serve() error {
	if err := s.srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting connections and waits for active requests.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }
