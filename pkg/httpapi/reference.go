package httpapi

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
)

// Reference lookups of the entry forms (api.md §8): taxonomies, location
// search, distance preview and building rooms. Permission: auth.

// queryInt parses an optional integer query parameter (0 when absent).
func queryInt(r *http.Request, name string) (int, error) {
	raw := r.URL.Query().Get(name)
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		e := apperr.Invalid("invalid query parameter %s", name)
		e.Fields = []apperr.FieldError{{Field: name, Code: "invalid_format", Message: "must be an integer"}}
		return 0, e
	}
	return n, nil
}

// queryCount is queryInt for a count parameter: absent is 0 (the service's
// default), present it must not be 0 (outOfRange is the message).
func queryCount(r *http.Request, name, outOfRange string) (int, error) {
	n, err := queryInt(r, name)
	if err != nil {
		return 0, err
	}
	if _, ok := r.URL.Query()[name]; ok && n == 0 {
		return 0, apperr.Invalid("%s", outOfRange)
	}
	return n, nil
}

// taxonomy answers GET /taxonomies/{submodule}?year=.
func (s *Server) taxonomy(w http.ResponseWriter, r *http.Request) {
	var year *int32
	if raw := r.URL.Query().Get("year"); raw != "" {
		y, err := strconv.ParseInt(raw, 10, 32)
		if err != nil {
			writeError(w, r, s.Logger, apperr.Invalid("year must be an integer"))
			return
		}
		y32 := int32(y)
		year = &y32
	}
	t, err := s.entries.Taxonomy(r.Context(), emission.SubmoduleKey(chi.URLParam(r, "submodule")), year)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// locations answers GET /locations?q=&mode=&limit=.
func (s *Server) locations(w http.ResponseWriter, r *http.Request) {
	limit, err := queryCount(r, "limit", "limit must be between 1 and 20")
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	q := r.URL.Query()
	out, err := s.entries.SearchLocations(r.Context(), q.Get("mode"), q.Get("q"), limit)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// locationDistance answers GET /locations/distance?mode=&origin=&destination=&trips=.
func (s *Server) locationDistance(w http.ResponseWriter, r *http.Request) {
	trips, err := queryCount(r, "trips", "trips must be between 1 and 1000")
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	q := r.URL.Query()
	out, err := s.entries.PreviewDistance(r.Context(), q.Get("mode"), q.Get("origin"), q.Get("destination"), trips)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// buildings answers GET /building-rooms/buildings?location=.
func (s *Server) buildings(w http.ResponseWriter, r *http.Request) {
	out, err := s.entries.Buildings(r.Context(), r.URL.Query().Get("location"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// rooms answers GET /building-rooms?building_name=&q=&limit=.
func (s *Server) rooms(w http.ResponseWriter, r *http.Request) {
	limit, err := queryCount(r, "limit", "limit must be between 1 and 1000")
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	q := r.URL.Query()
	out, err := s.entries.Rooms(r.Context(), q.Get("building_name"), q.Get("q"), limit)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
