// Package fx fetches euro foreign-exchange reference rates from the ECB data
// API (SDMX, series EXR) and turns them into one rate per currency and year.
//
// A rate is expressed as units of a currency per 1 EUR (the ECB's own
// convention, stored as fx_rates.per_eur): an amount in CHF converts to EUR as
// amount / PerEUR. The ecb_fx_sync job calls [Client.RatesForYear] and
// upserts the returned [Rate] values. [Service] is what the back office
// drives (manual.go): manual rates, which the job never overwrites, and
// on-demand ECB runs, each with the recalculation it requests.
//
// Year rules (docs/jobs.md §4.7 and §10):
//
//   - a past year uses the annual series ([SourceAnnual]); a configured
//     currency without an annual value falls back to the mean of the monthly
//     values ([SourceMonthlyAvg], MonthsCovered = 12);
//   - the current year uses the mean of the monthly values published so far
//     ([SourceMonthlyAvg], MonthsCovered = number of months averaged), and no
//     data at all (January) is not an error;
//   - a future year is an error ([ErrFutureYear]).
//
// Errors wrap [ErrNoData] when the ECB has nothing for the requested period.
// Network failures, HTTP 5xx and HTTP 429 are transient ([IsTransient]) and
// worth a retry; other failures are permanent.
package fx

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Sources of a rate (fx_rates.source).
const (
	// SourceAnnual is a rate read from the ECB annual series (FREQ A).
	SourceAnnual = "ecb_annual"
	// SourceMonthlyAvg is the arithmetic mean of ECB monthly values (FREQ M).
	SourceMonthlyAvg = "ecb_monthly_avg"
)

var (
	// ErrNoData is returned (wrapped) when the ECB has no observation for the
	// requested series and period: HTTP 404, a body containing "No data", or
	// an empty (or header-only) CSV.
	ErrNoData = errors.New("no data")

	// ErrFutureYear is returned (wrapped) by [Client.RatesForYear] for a year
	// after the current one. It is permanent.
	ErrFutureYear = errors.New("year is in the future")
)

// Rate is the exchange rate of one currency for one year.
type Rate struct {
	Year     int
	Currency string
	// PerEUR is the number of units of Currency per 1 EUR.
	PerEUR float64
	// Source is SourceAnnual or SourceMonthlyAvg.
	Source string
	// MonthsCovered is the number of monthly values averaged for
	// SourceMonthlyAvg, and 0 for SourceAnnual.
	MonthsCovered int
}

// MonthlyRate is one monthly observation of a currency.
type MonthlyRate struct {
	Month  time.Month
	PerEUR float64
}

// Warning describes a CSV row that was skipped, or a configured currency
// for which no rate could be derived. Warnings are not errors: the caller
// logs or counts them and keeps the other rates.
type Warning struct {
	// Freq is the ECB frequency of the request: "A" or "M".
	Freq string
	// Line is the 1-based line of the CSV body, 0 when the warning is not
	// about a row.
	Line     int
	Currency string
	Period   string
	Message  string
}

// String formats the warning for logs.
func (w Warning) String() string {
	s := "ecb " + w.Freq
	if w.Line > 0 {
		s += fmt.Sprintf(" line %d", w.Line)
	}
	if w.Currency != "" {
		s += " " + w.Currency
	}
	if w.Period != "" {
		s += " " + w.Period
	}
	return s + ": " + w.Message
}

// Mean returns the arithmetic mean of values, or NaN for an empty slice.
func Mean(values []float64) float64 {
	if len(values) == 0 {
		return math.NaN()
	}
	var sum float64
	for _, v := range values {
		sum += v
	}
	return sum / float64(len(values))
}

// StatusError is an unexpected HTTP status from the ECB. It is transient for
// 429 and 5xx (see [IsTransient]).
type StatusError struct {
	StatusCode int
	URL        string
	// Body is the beginning of the response body, for diagnostics.
	Body string
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("unexpected HTTP status %d from %s", e.StatusCode, e.URL)
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// transientError marks an error as worth retrying.
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

func transient(err error) error { return &transientError{err: err} }

// IsTransient reports whether err (or an error it wraps) is a temporary
// failure worth retrying: a network error (including timeouts and
// cancellation), HTTP 429 or HTTP 5xx.
func IsTransient(err error) bool {
	var te *transientError
	return errors.As(err, &te)
}
