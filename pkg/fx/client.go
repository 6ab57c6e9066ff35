package fx

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	// DefaultTimeout is the timeout of the HTTP client built by NewClient
	// when none is given.
	DefaultTimeout = 10 * time.Second

	// maxBodyBytes bounds the response read; a full year of monthly values for
	// a few dozen currencies is well under 1 MB.
	maxBodyBytes = 16 << 20

	// maxErrorBody is how much of an error body goes into a StatusError.
	maxErrorBody = 200
)

// Client reads the ECB EXR series for a fixed list of currencies.
// It is safe for concurrent use.
type Client struct {
	baseURL    string
	currencies []string
	httpClient *http.Client
}

// NewClient returns a client for the ECB data API at baseURL (for example
// https://data-api.ecb.europa.eu/service) and the given ISO-4217 currencies.
// Currencies are trimmed, upper-cased and deduplicated; EUR is dropped (it is
// implicit, per_eur = 1, and the ECB has no EUR/EUR series). A nil httpClient
// is replaced by one with a timeout of DefaultTimeout.
func NewClient(baseURL string, currencies []string, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: DefaultTimeout}
	}
	cur := make([]string, 0, len(currencies))
	for _, c := range currencies {
		c = strings.ToUpper(strings.TrimSpace(c))
		if c != "" && c != "EUR" && !slices.Contains(cur, c) {
			cur = append(cur, c)
		}
	}
	return &Client{
		baseURL:    strings.TrimRight(baseURL, "/"),
		currencies: cur,
		httpClient: httpClient,
	}
}

// Currencies returns the normalized list of configured currencies.
func (c *Client) Currencies() []string {
	return slices.Clone(c.currencies)
}

// Annual returns the annual rate of each configured currency for year, as
// published by the ECB (FREQ A). Currencies the ECB did not answer for are
// absent from the map. When the ECB has no data at all the error wraps
// ErrNoData.
func (c *Client) Annual(ctx context.Context, year int) (map[string]float64, []Warning, error) {
	p := strconv.Itoa(year)
	obs, warnings, err := c.get(ctx, "A", p, p)
	if err != nil {
		return nil, warnings, err
	}
	rates := make(map[string]float64, len(obs))
	for _, o := range obs {
		w := Warning{Freq: "A", Line: o.line, Currency: o.currency, Period: o.period}
		switch {
		case o.period != p:
			w.Message = fmt.Sprintf("period outside the requested year %d, row skipped", year)
			warnings = append(warnings, w)
		case hasKey(rates, o.currency):
			w.Message = "duplicate observation, row skipped"
			warnings = append(warnings, w)
		default:
			rates[o.currency] = o.value
		}
	}
	return rates, warnings, nil
}

// Monthly returns the monthly rates of each configured currency for the
// months 1..lastMonth of year (FREQ M), sorted by month. Currencies the ECB
// did not answer for are absent from the map. When the ECB has no data at all
// the error wraps ErrNoData.
func (c *Client) Monthly(ctx context.Context, year, lastMonth int) (map[string][]MonthlyRate, []Warning, error) {
	if lastMonth < 1 || lastMonth > 12 {
		return nil, nil, fmt.Errorf("ecb: invalid last month %d (want 1..12)", lastMonth)
	}
	start := fmt.Sprintf("%04d-01", year)
	end := fmt.Sprintf("%04d-%02d", year, lastMonth)
	obs, warnings, err := c.get(ctx, "M", start, end)
	if err != nil {
		return nil, warnings, err
	}
	rates := make(map[string][]MonthlyRate)
	for _, o := range obs {
		w := Warning{Freq: "M", Line: o.line, Currency: o.currency, Period: o.period}
		month, ok := parseMonth(o.period, year)
		switch {
		case !ok || month > lastMonth:
			w.Message = fmt.Sprintf("period outside %s..%s, row skipped", start, end)
			warnings = append(warnings, w)
		case slices.ContainsFunc(rates[o.currency], func(m MonthlyRate) bool { return int(m.Month) == month }):
			w.Message = "duplicate observation, row skipped"
			warnings = append(warnings, w)
		default:
			rates[o.currency] = append(rates[o.currency], MonthlyRate{Month: time.Month(month), PerEUR: o.value})
		}
	}
	for cur := range rates {
		slices.SortFunc(rates[cur], func(a, b MonthlyRate) int { return int(a.Month) - int(b.Month) })
	}
	return rates, warnings, nil
}

// parseMonth parses "YYYY-MM" and checks that YYYY is year.
func parseMonth(period string, year int) (int, bool) {
	y, m, ok := strings.Cut(period, "-")
	if !ok || len(y) != 4 || len(m) != 2 || y != fmt.Sprintf("%04d", year) {
		return 0, false
	}
	month, err := strconv.Atoi(m)
	if err != nil || month < 1 || month > 12 {
		return 0, false
	}
	return month, true
}

func hasKey[K comparable, V any](m map[K]V, k K) bool {
	_, ok := m[k]
	return ok
}

// seriesURL builds the SDMX request URL of docs/jobs.md §10.
func (c *Client) seriesURL(freq, start, end string) string {
	key := freq + "." + strings.Join(c.currencies, "+") + ".EUR.SP00.A"
	q := url.Values{}
	q.Set("startPeriod", start)
	q.Set("endPeriod", end)
	q.Set("format", "csvdata")
	return c.baseURL + "/data/EXR/" + key + "?" + q.Encode()
}

// get fetches and parses one series request.
func (c *Client) get(ctx context.Context, freq, start, end string) ([]observation, []Warning, error) {
	if len(c.currencies) == 0 {
		return nil, nil, errors.New("ecb: no currencies configured")
	}
	body, err := c.fetch(ctx, c.seriesURL(freq, start, end))
	if err != nil {
		return nil, nil, fmt.Errorf("ecb %s %s..%s: %w", freq, start, end, err)
	}
	obs, warnings, err := parseCSV(body, freq, c.currencies)
	if err != nil {
		return nil, warnings, fmt.Errorf("ecb %s %s..%s: %w", freq, start, end, err)
	}
	return obs, warnings, nil
}

// fetch performs the GET and classifies the outcome. A nil error means a 2xx
// answer with a non-empty body that does not say "No data".
func (c *Client) fetch(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("error building request: %w", err)
	}
	req.Header.Set("Accept", "text/csv")

	resp, err := c.httpClient.Do(req)
	if err != nil {
		// Connection failures, timeouts and cancellation: all retryable.
		return nil, transient(fmt.Errorf("error requesting %s: %w", u, err))
	}
	defer resp.Body.Close()

	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	if err != nil {
		return nil, transient(fmt.Errorf("error reading response from %s: %w", u, err))
	}
	noData := len(bytes.TrimSpace(body)) == 0 || bytes.Contains(body, []byte("No data"))

	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, ErrNoData
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return nil, transient(newStatusError(resp.StatusCode, u, body))
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		if resp.StatusCode >= 400 && resp.StatusCode < 500 && bytes.Contains(body, []byte("No data")) {
			return nil, ErrNoData
		}
		return nil, newStatusError(resp.StatusCode, u, body)
	case noData:
		return nil, ErrNoData
	}
	return body, nil
}

func newStatusError(code int, u string, body []byte) *StatusError {
	b := strings.TrimSpace(string(body))
	if len(b) > maxErrorBody {
		b = b[:maxErrorBody] + "…"
	}
	return &StatusError{StatusCode: code, URL: u, Body: b}
}

// observation is one valid CSV row.
type observation struct {
	line     int
	currency string
	period   string
	value    float64
}

// parseCSV reads an SDMX-CSV body, by column name. Malformed rows and rows for
// currencies that were not requested are skipped with a warning. A body with
// no data row wraps ErrNoData; a header without the needed columns is a
// (permanent) error.
func parseCSV(body []byte, freq string, currencies []string) ([]observation, []Warning, error) {
	body = bytes.TrimPrefix(body, []byte("\ufeff"))
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = -1
	r.ReuseRecord = true

	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, ErrNoData
	}
	if err != nil {
		return nil, nil, fmt.Errorf("error parsing CSV header: %w", err)
	}
	col := map[string]int{"CURRENCY": -1, "TIME_PERIOD": -1, "OBS_VALUE": -1}
	for i, name := range header {
		name = strings.TrimSpace(name)
		if j, ok := col[name]; ok && j < 0 {
			col[name] = i
		}
	}
	for _, name := range []string{"CURRENCY", "TIME_PERIOD", "OBS_VALUE"} {
		if col[name] < 0 {
			return nil, nil, fmt.Errorf("error parsing CSV header: missing column %s", name)
		}
	}
	field := func(rec []string, name string) string {
		if i := col[name]; i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}

	var (
		obs      []observation
		warnings []Warning
		rows     int
	)
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if pe, ok := errors.AsType[*csv.ParseError](err); ok {
				warnings = append(warnings, Warning{Freq: freq, Line: pe.Line, Message: "malformed CSV row, skipped: " + pe.Err.Error()})
				rows++
				continue
			}
			return nil, warnings, fmt.Errorf("error reading CSV: %w", err)
		}
		rows++
		line, _ := r.FieldPos(0)
		w := Warning{
			Freq:     freq,
			Line:     line,
			Currency: field(rec, "CURRENCY"),
			Period:   field(rec, "TIME_PERIOD"),
		}
		raw := field(rec, "OBS_VALUE")
		value, perr := strconv.ParseFloat(raw, 64)
		switch {
		case w.Currency == "":
			w.Message = "missing currency, row skipped"
		case !slices.Contains(currencies, w.Currency):
			w.Message = "currency not requested, row skipped"
		case w.Period == "":
			w.Message = "missing period, row skipped"
		case raw == "":
			w.Message = "missing value, row skipped"
		case perr != nil:
			w.Message = fmt.Sprintf("invalid value %q, row skipped", raw)
		case math.IsNaN(value) || math.IsInf(value, 0) || value <= 0:
			w.Message = fmt.Sprintf("value %q is not a positive finite number, row skipped", raw)
		default:
			obs = append(obs, observation{line: line, currency: w.Currency, period: w.Period, value: value})
			continue
		}
		warnings = append(warnings, w)
	}
	if rows == 0 {
		return nil, nil, ErrNoData
	}
	return obs, warnings, nil
}
