package httpapi

import (
	"net/http"
	"time"

	"github.com/co2-calculator/co2-calculator/pkg/integrations"
)

// listIntegrations is GET /integrations (bo(configuration, view)): Tableau,
// ECB, Accred and Elasticsearch with their configuration (Deps.Integrations),
// next run and last outcome.
func (s *Server) listIntegrations(r *http.Request) (response, error) {
	return reply(integrations.List(r.Context(), s.Pool, s.Integrations, time.Now()))
}
