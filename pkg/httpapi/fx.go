package httpapi

import (
	"fmt"
	"net/http"
	"time"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

type fxRate struct {
	Year          int32     `json:"year"`
	Currency      string    `json:"currency"`
	PerEUR        float64   `json:"per_eur"`
	Source        string    `json:"source"`
	MonthsCovered *int32    `json:"months_covered"`
	FetchedAt     time.Time `json:"fetched_at"`
}

func fromDBFXRate(x dbsqlc.FxRate) fxRate {
	return fxRate{Year: x.Year, Currency: x.Currency, PerEUR: x.PerEur, Source: x.Source, MonthsCovered: x.MonthsCovered, FetchedAt: x.FetchedAt}
}

// fxRates answers GET /fx-rates?year= (bo(configuration, view)).
func (s *Server) fxRates(r *http.Request) (response, error) {
	// The year is required: a missing or invalid one is 422 on the field.
	year, err := queryYear(r, "year")
	if err != nil || year == nil {
		return response{}, apperr.Validation("invalid query parameter", apperr.FieldError{Field: "year", Code: "out_of_range",
			Message: fmt.Sprintf("year is required, a year between %d and %d", years.Min, years.Max)})
	}
	rows, err := dbsqlc.New(s.Pool).FXRatesByYear(r.Context(), *year)
	if err != nil {
		return response{}, fmt.Errorf("error reading the rates of %d: %w", *year, err)
	}
	return ok(mapItems(rows, fromDBFXRate)), nil
}
