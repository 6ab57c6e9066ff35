package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/fx"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
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
	year, err := queryYear(r)
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

// Manual rates (docs/api.md §8) and the on-demand ECB run (§14): adapters
// over fx.Service.

// rateService is the rate service the handlers call.
func (s *Server) rateService() *fx.Service {
	svc := &fx.Service{}
	if s.Pool != nil {
		svc.DB = s.Pool
	}
	if s.River != nil {
		svc.Recalc, svc.Sync = jobs.EnqueueRecalc(s.River), jobs.EnqueueECBSync(s.River)
	}
	return svc
}

// pathCurrency parses {currency}: three letters, upper-cased; anything
// else names no rate (404).
func pathCurrency(r *http.Request) (string, error) {
	raw := chi.URLParam(r, "currency")
	c := strings.ToUpper(raw)
	if len(c) != 3 || strings.Trim(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return "", apperr.NotFound("currency %q not found", raw)
	}
	return c, nil
}

// rateTarget parses /fx-rates/{year}/{currency}.
func rateTarget(r *http.Request) (int32, string, error) {
	year, err := pathYear(r)
	if err != nil {
		return 0, "", err
	}
	c, err := pathCurrency(r)
	return year, c, err
}

// rateRequest is the body of PUT /fx-rates/{year}/{currency}; a missing
// per_eur is 0, refused like any rate that is not > 0.
type rateRequest struct {
	PerEUR float64 `json:"per_eur"`
}

// rateSet is the answer of PUT /fx-rates/{year}/{currency}.
type rateSet struct {
	Rate     fxRate        `json:"rate"`
	Pipeline pipeline.View `json:"pipeline"`
}

// putFXRate is PUT /fx-rates/{year}/{currency} (bo(configuration, edit)):
// sets a manual rate → {rate, pipeline}.
func (s *Server) putFXRate(r *http.Request) (response, error) {
	year, currency, err := rateTarget(r)
	if err != nil {
		return response{}, err
	}
	var body rateRequest
	if err := decodeJSON(r, &body); err != nil {
		return response{}, err
	}
	res, err := s.rateService().SetManual(r.Context(), callerUserID(r.Context()), year, currency, body.PerEUR)
	if err != nil {
		return response{}, err
	}
	return ok(rateSet{Rate: fromDBFXRate(res.Rate), Pipeline: res.Pipeline}), nil
}

// deleteFXRate is DELETE /fx-rates/{year}/{currency} (bo(configuration,
// edit)): removes a manual rate → {pipeline}.
func (s *Server) deleteFXRate(r *http.Request) (response, error) {
	year, currency, err := rateTarget(r)
	if err != nil {
		return response{}, err
	}
	res, err := s.rateService().DeleteManual(r.Context(), callerUserID(r.Context()), year, currency)
	if err != nil {
		return response{}, err
	}
	return ok(pipelineAnswer{Pipeline: res.Pipeline}), nil
}

// ecbSyncRequest is the body of POST /integrations/ecb/sync.
type ecbSyncRequest struct {
	Years []int `json:"years"`
}

// syncECB is POST /integrations/ecb/sync (bo(configuration, edit)): 202
// with the pipeline (ecb_sync).
func (s *Server) syncECB(r *http.Request) (response, error) {
	var body ecbSyncRequest
	if err := decodeJSON(r, &body); err != nil {
		return response{}, err
	}
	p, err := s.rateService().RequestSync(r.Context(), callerUserID(r.Context()), body.Years)
	if err != nil {
		return response{}, err
	}
	return accepted(p), nil
}
