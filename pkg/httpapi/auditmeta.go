package httpapi

import (
	"maps"
	"net/http"

	"github.com/co2-calculator/co2-calculator/pkg/audit"
)

// auditRequest stores the audit metadata of the request (actor, client IP,
// user agent, request id, route pattern, query) in the context for the
// audit hooks of package audit (docs/jobs.md §11.2). It runs after the
// permission middleware of a route group, when the principal is known and
// the route pattern is final.
func (s *Server) auditRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := requestMeta(r)
		req := audit.Request{IP: m.IP, UserAgent: m.UserAgent, RequestID: m.RequestID, Route: m.Route,
			Query: maps.Clone(map[string][]string(r.URL.Query()))}
		if p := principalFrom(r.Context()); p != nil {
			req.Sciper = p.User.Sciper
			if p.User.ID != 0 {
				id := p.User.ID
				req.UserID = &id
			}
			name := p.Name()
			req.Name = &name
		}
		next.ServeHTTP(w, r.WithContext(audit.WithRequest(r.Context(), req)))
	})
}
