package fx

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// RatesForYear returns one rate per configured currency for year, sorted by
// currency, following the rules of docs/jobs.md §4.7 with now as the clock:
//
//   - year < now.Year(): the annual series (SourceAnnual). Configured
//     currencies missing from it (or all of them, when the annual series has
//     no data yet) get the mean of the monthly values (SourceMonthlyAvg,
//     MonthsCovered = number of months, 12 for a complete year). When neither
//     series has data the error wraps ErrNoData.
//   - year == now.Year(): the mean of the monthly values from January to the
//     month of now (SourceMonthlyAvg, MonthsCovered = months averaged for
//     that currency). No data yet (January) returns an empty slice and a nil
//     error.
//   - year > now.Year(): an error wrapping ErrFutureYear.
//
// A configured currency for which no rate can be derived is left out and
// reported as a Warning, as are skipped CSV rows. Errors may be transient
// (see IsTransient).
func (c *Client) RatesForYear(ctx context.Context, year int, now time.Time) ([]Rate, []Warning, error) {
	current := now.Year()
	switch {
	case year > current:
		return nil, nil, fmt.Errorf("no ECB rates for %d, the current year is %d: %w", year, current, ErrFutureYear)
	case year == current:
		return c.currentYear(ctx, year, int(now.Month()))
	default:
		return c.pastYear(ctx, year)
	}
}

func (c *Client) currentYear(ctx context.Context, year, month int) ([]Rate, []Warning, error) {
	monthly, warnings, err := c.Monthly(ctx, year, month)
	if errors.Is(err, ErrNoData) {
		// Nothing published yet for this year (typically January).
		return []Rate{}, warnings, nil
	}
	if err != nil {
		return nil, warnings, err
	}
	rates := make([]Rate, 0, len(c.currencies))
	for _, cur := range c.currencies {
		values := monthly[cur]
		if len(values) == 0 {
			warnings = append(warnings, Warning{Freq: "M", Currency: cur, Period: fmt.Sprintf("%04d", year),
				Message: fmt.Sprintf("no monthly value published up to %04d-%02d, currency skipped", year, month)})
			continue
		}
		rates = append(rates, monthlyAvg(year, cur, values))
	}
	sortRates(rates)
	return rates, warnings, nil
}

func (c *Client) pastYear(ctx context.Context, year int) ([]Rate, []Warning, error) {
	annual, warnings, err := c.Annual(ctx, year)
	if err != nil && !errors.Is(err, ErrNoData) {
		return nil, warnings, err
	}

	rates := make([]Rate, 0, len(c.currencies))
	var missing []string
	for _, cur := range c.currencies {
		if v, ok := annual[cur]; ok {
			rates = append(rates, Rate{Year: year, Currency: cur, PerEUR: v, Source: SourceAnnual})
		} else {
			missing = append(missing, cur)
		}
	}
	if len(missing) == 0 {
		sortRates(rates)
		return rates, warnings, nil
	}

	// No annual value yet for some currencies: average the 12 months.
	monthly, mWarnings, err := c.Monthly(ctx, year, 12)
	warnings = append(warnings, mWarnings...)
	if err != nil && !errors.Is(err, ErrNoData) {
		return nil, warnings, err
	}
	for _, cur := range missing {
		values := monthly[cur]
		if len(values) == 0 {
			warnings = append(warnings, Warning{Freq: "M", Currency: cur, Period: fmt.Sprintf("%04d", year),
				Message: "no annual nor monthly value, currency skipped"})
			continue
		}
		if len(values) < 12 {
			warnings = append(warnings, Warning{Freq: "M", Currency: cur, Period: fmt.Sprintf("%04d", year),
				Message: fmt.Sprintf("no annual value and only %d of 12 monthly values, averaged anyway", len(values))})
		}
		rates = append(rates, monthlyAvg(year, cur, values))
	}
	if len(rates) == 0 {
		return nil, warnings, fmt.Errorf("ECB has no data for %d (annual and monthly), currencies %s: %w",
			year, strings.Join(c.currencies, ","), ErrNoData)
	}
	sortRates(rates)
	return rates, warnings, nil
}

func monthlyAvg(year int, currency string, values []MonthlyRate) Rate {
	v := make([]float64, len(values))
	for i, m := range values {
		v[i] = m.PerEUR
	}
	return Rate{
		Year:          year,
		Currency:      currency,
		PerEUR:        Mean(v),
		Source:        SourceMonthlyAvg,
		MonthsCovered: len(values),
	}
}

func sortRates(rates []Rate) {
	slices.SortFunc(rates, func(a, b Rate) int { return strings.Compare(a.Currency, b.Currency) })
}
