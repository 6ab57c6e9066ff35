package httpapi

import (
	"net/http"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/tableau"
)

// The Tableau trigger (docs/api.md §14): an adapter over tableau.Service.

// tableauService is the Tableau service the handlers call.
func (s *Server) tableauService() *tableau.Service {
	svc := &tableau.Service{Enabled: s.TableauConfigured}
	if s.Pool != nil {
		svc.DB = s.Pool
	}
	if s.River != nil {
		svc.Enqueue = jobs.EnqueueTableauSync(s.River)
	}
	return svc
}

// tableauSyncRequest is the body of POST /integrations/tableau/sync.
type tableauSyncRequest struct {
	Year *int64 `json:"year"`
}

// syncTableau is POST /integrations/tableau/sync (bo(configuration,
// edit)): `{"year": 2025}` → 202 with the pipeline (tableau_sync).
func (s *Server) syncTableau(r *http.Request) (response, error) {
	var body tableauSyncRequest
	if err := decodeJSON(r, &body); err != nil {
		return response{}, err
	}
	p, err := s.tableauService().RequestSync(r.Context(), callerUserID(r.Context()), body.Year)
	if err != nil {
		return response{}, err
	}
	return accepted(p), nil
}
