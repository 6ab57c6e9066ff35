package httpapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
)

// Test-only access to internals for package httpapi_test.

// Routes is the chi route table behind NewRouter (without the OTel wrapper).
func Routes(d Deps) chi.Routes { return newServer(d).routes() }

// StreamTimings overrides the SSE timings (zero keeps the default).
type StreamTimings struct {
	Ping, Poll, Max time.Duration
}

// NewRouterWithStreamTimings is NewRouter with the SSE timings overridden.
func NewRouterWithStreamTimings(d Deps, st StreamTimings) http.Handler {
	s := newServer(d)
	s.pipelines.pingEvery, s.pipelines.pollEvery, s.pipelines.maxStream = st.Ping, st.Poll, st.Max
	return s.handler()
}

// HTTPStatus is httpStatus.
func HTTPStatus(code apperr.Code) (int, string) { return httpStatus(code) }

// WriteError is writeError.
func WriteError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	writeError(w, r, logger, err)
}

// Recoverer is the panic-recovering middleware of the router.
func Recoverer(logger *slog.Logger) func(http.Handler) http.Handler { return recoverer(logger) }

// WithBodyDeadline is h behind the request body deadlines of l, its
// errors rendered by writeError.
func WithBodyDeadline(l Limits, h func(r *http.Request) error) http.Handler {
	return (&Server{Deps: Deps{Limits: l}}).bodyDeadline(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(r); err != nil {
			writeError(w, r, slog.New(slog.DiscardHandler), err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
}
