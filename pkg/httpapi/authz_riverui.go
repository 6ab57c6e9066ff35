package httpapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"riverqueue.com/riverui"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
)

// RiverUIPrefix is where the River UI is mounted (docs/api.md §15).
const RiverUIPrefix = "/system/jobs"

// NewRiverUI builds the River UI handler on the (insert-only) client and
// starts its background services until ctx ends.
func NewRiverUI(ctx context.Context, client *river.Client[pgx.Tx], logger *slog.Logger) (http.Handler, error) {
	h, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(client, nil),
		Logger:    logger,
		Prefix:    RiverUIPrefix,
		// Job args may carry identifiers; hide them until asked for.
		JobListHideArgsByDefault: true,
	})
	if err != nil {
		return nil, err
	}
	if err := h.Start(ctx); err != nil {
		return nil, err
	}
	return h, nil
}

// requireRiverUI admits callers with bo(pipeline_operations, view); anyone
// else (including callers without a session) gets 404. Mutating requests
// need bo(pipeline_operations, edit) and a same-origin Origin header.
func (s *Server) requireRiverUI(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(r)
		if err != nil || !p.Perms.BO(perm.BOPipelineOperations, perm.ActionView) {
			writeError(w, r, s.Logger, apperr.NotFound("no such route"))
			return
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			if !p.Perms.BO(perm.BOPipelineOperations, perm.ActionEdit) {
				writeError(w, r, s.Logger, errForbidden("backoffice.pipeline_operations:edit"))
				return
			}
			if r.Header.Get("Origin") == "" && r.Header.Get("Sec-Fetch-Site") != "same-origin" {
				writeError(w, r, s.Logger, errCSRF("same-origin request required"))
				return
			}
			if err := s.checkOrigin(r); err != nil {
				writeError(w, r, s.Logger, err)
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), p)))
	})
}
