package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

type fxRate struct {
	Year          int32     `json:"year"`
	Currency      string    `json:"currency"`
	PerEUR        float64   `json:"per_eur"`
	Source        string    `json:"source"`
	MonthsCovered *int32    `json:"months_covered"`
	FetchedAt     time.Time `json:"fetched_at"`
}

// fxRates answers GET /fx-rates?year=.
// TODO(identity): bo(configuration, view) check arrives with the auth issue.
func (s *Server) fxRates(w http.ResponseWriter, r *http.Request) {
	raw := r.URL.Query().Get("year")
	year, err := strconv.Atoi(raw)
	if err != nil || year < 1990 || year > 2200 {
		writeError(w, r, s.Logger, apperr.Validation("invalid query parameter",
			apperr.FieldError{Field: "year", Code: "out_of_range", Message: "year is required, an integer between 1990 and 2200"}))
		return
	}
	rows, err := dbsqlc.New(s.Pool).FXRatesByYear(r.Context(), int32(year)) //nolint:gosec // range checked
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	out := make([]fxRate, 0, len(rows))
	for _, x := range rows {
		out = append(out, fxRate{Year: x.Year, Currency: x.Currency, PerEUR: x.PerEur, Source: x.Source, MonthsCovered: x.MonthsCovered, FetchedAt: x.FetchedAt})
	}
	writeJSON(w, http.StatusOK, out)
}
