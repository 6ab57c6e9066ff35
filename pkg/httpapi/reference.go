package httpapi

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
)

// Reference lookups of the entry forms (docs/api.md §8): taxonomies,
// location search, distance preview and building rooms. Permission: auth.

// taxonomy answers GET /taxonomies/{submodule}?year=.
func (s *Server) taxonomy(r *http.Request) (response, error) {
	year, err := queryYear(r)
	if err != nil {
		return response{}, err
	}
	return reply(s.entries.Taxonomy(r.Context(), emission.SubmoduleKey(chi.URLParam(r, "submodule")), year))
}

// locations answers GET /locations?q=&mode=&limit= (limit 1–20).
func (s *Server) locations(r *http.Request) (response, error) {
	limit, err := queryCount(r, "limit", 20)
	if err != nil {
		return response{}, err
	}
	q := r.URL.Query()
	return reply(s.entries.SearchLocations(r.Context(), q.Get("mode"), q.Get("q"), limit))
}

// locationDistance answers GET /locations/distance?mode=&origin=&destination=&trips=.
func (s *Server) locationDistance(r *http.Request) (response, error) {
	trips, err := queryCount(r, "trips", 1000)
	if err != nil {
		return response{}, err
	}
	q := r.URL.Query()
	return reply(s.entries.PreviewDistance(r.Context(), q.Get("mode"), q.Get("origin"), q.Get("destination"), trips))
}

// buildings answers GET /building-rooms/buildings?location=.
func (s *Server) buildings(r *http.Request) (response, error) {
	return reply(s.entries.Buildings(r.Context(), r.URL.Query().Get("location")))
}

// rooms answers GET /building-rooms?building_name=&q=&limit= (limit 1–1000).
func (s *Server) rooms(r *http.Request) (response, error) {
	limit, err := queryCount(r, "limit", maxLimit)
	if err != nil {
		return response{}, err
	}
	q := r.URL.Query()
	return reply(s.entries.Rooms(r.Context(), q.Get("building_name"), q.Get("q"), limit))
}
