package fx_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/fakes"
	"github.com/co2-calculator/co2-calculator/pkg/fx"
)

// fixtureDir is the shared ECB fixture folder, relative to this package.
const fixtureDir = "../../../shared/data/external/ecb"

// allCurrencies is the default ECB_CURRENCIES.
var allCurrencies = []string{"AUD", "CAD", "CHF", "CNY", "GBP", "JPY", "SEK", "USD"}

// annual2024 and annual2025 are the values of exr_A_2024.csv and exr_A_2025.csv.
var (
	annual2024 = map[string]float64{
		"AUD": 1.6397, "CAD": 1.4821, "CHF": 0.9526, "CNY": 7.7875,
		"GBP": 0.84662, "JPY": 163.85, "SEK": 11.4325, "USD": 1.0824,
	}
	annual2025 = map[string]float64{
		"AUD": 1.7507, "CAD": 1.5772, "CHF": 0.9360, "CNY": 8.1193,
		"GBP": 0.85636, "JPY": 168.73, "SEK": 11.0744, "USD": 1.1295,
	}
)

type testBundle struct {
	client *fx.Client
	ecb    *fakes.ECB
	server *httptest.Server
}

type setupOpts struct {
	currencies []string // default allCurrencies
	dir        string   // default fixtureDir
}

func setup(t *testing.T, opts *setupOpts) *testBundle {
	t.Helper()
	if opts == nil {
		opts = &setupOpts{}
	}
	currencies, dir := opts.currencies, opts.dir
	if currencies == nil {
		currencies = allCurrencies
	}
	if dir == "" {
		dir = fixtureDir
	}
	ecb := fakes.NewECB(dir)
	server := httptest.NewServer(ecb)
	t.Cleanup(server.Close)
	return &testBundle{
		client: fx.NewClient(server.URL, currencies, server.Client()),
		ecb:    ecb,
		server: server,
	}
}

// fixtureSubset copies some fixture files into a temporary directory; a
// non-nil drop removes the rows of those currencies from every copied file.
func fixtureSubset(t *testing.T, files []string, drop []string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range files {
		data, err := os.ReadFile(filepath.Join(fixtureDir, name))
		require.NoError(t, err)
		var kept []string
		for _, line := range strings.SplitAfter(string(data), "\n") {
			skip := false
			for _, cur := range drop {
				skip = skip || strings.Contains(line, ".EUR.SP00.A,") && strings.Contains(line, ","+cur+",EUR,")
			}
			if !skip {
				kept = append(kept, line)
			}
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(strings.Join(kept, "")), 0o600))
	}
	return dir
}

func TestClientAnnual(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name       string
		currencies []string
		year       int
		want       map[string]float64
	}{
		{name: "CurrencyFilter", currencies: []string{"USD", "CHF"}, year: 2025, want: map[string]float64{"CHF": 0.9360, "USD": 1.1295}},
		{name: "Year2024", year: 2024, want: annual2024},
		{name: "Year2025", year: 2025, want: annual2025},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bundle := setup(t, &setupOpts{currencies: tt.currencies})

			rates, warnings, err := bundle.client.Annual(t.Context(), tt.year)
			require.NoError(t, err)
			require.Empty(t, warnings)
			require.Equal(t, tt.want, rates)
			require.Equal(t, 1, bundle.ecb.Requests())
		})
	}

	t.Run("NoData", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t, nil)
		_, _, err := bundle.client.Annual(t.Context(), 2019)
		require.ErrorIs(t, err, fx.ErrNoData)
		require.False(t, fx.IsTransient(err))
	})
}

func TestClientMonthly(t *testing.T) {
	t.Parallel()

	t.Run("AverageEqualsAnnual", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t, nil)

		monthly, warnings, err := bundle.client.Monthly(t.Context(), 2025, 12)
		require.NoError(t, err)
		require.Empty(t, warnings)
		require.Len(t, monthly, len(allCurrencies))
		for cur, values := range monthly {
			require.Len(t, values, 12, cur)
			v := make([]float64, len(values))
			for i, m := range values {
				require.Equal(t, time.Month(i+1), m.Month, cur)
				v[i] = m.PerEUR
			}
			require.InDelta(t, annual2025[cur], fx.Mean(v), 1e-9, cur)
		}
	})

	t.Run("FirstMonths", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t, &setupOpts{currencies: []string{"CHF"}})

		monthly, warnings, err := bundle.client.Monthly(t.Context(), 2025, 3)
		require.NoError(t, err)
		require.Empty(t, warnings)
		require.Len(t, monthly, 1)
		require.Len(t, monthly["CHF"], 3)
		require.Equal(t, time.March, monthly["CHF"][2].Month)
	})

	t.Run("InvalidLastMonth", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t, nil)
		_, _, err := bundle.client.Monthly(t.Context(), 2025, 13)
		require.ErrorContains(t, err, "invalid last month 13")
		require.Equal(t, 0, bundle.ecb.Requests())
	})
}

func TestRatesForYear(t *testing.T) {
	t.Parallel()

	// ratesOf builds the expected slice from a map (sorted by currency).
	ratesOf := func(year int, values map[string]float64, source string, months int) []fx.Rate {
		var out []fx.Rate
		for _, cur := range allCurrencies {
			out = append(out, fx.Rate{Year: year, Currency: cur, PerEUR: values[cur], Source: source, MonthsCovered: months})
		}
		return out
	}
	requireRates := func(t *testing.T, want, got []fx.Rate) {
		t.Helper()
		require.Len(t, got, len(want))
		for i := range want {
			require.Equal(t, want[i].Year, got[i].Year, i)
			require.Equal(t, want[i].Currency, got[i].Currency, i)
			require.Equal(t, want[i].Source, got[i].Source, want[i].Currency)
			require.Equal(t, want[i].MonthsCovered, got[i].MonthsCovered, want[i].Currency)
			require.InDelta(t, want[i].PerEUR, got[i].PerEUR, 1e-9, want[i].Currency)
		}
	}
	date := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, time.UTC) }

	// Mean of CHF and USD over January–March 2025, from exr_M_2025.csv.
	q1 := func(t *testing.T) map[string]float64 {
		t.Helper()
		bundle := setup(t, nil)
		monthly, _, err := bundle.client.Monthly(t.Context(), 2025, 3)
		require.NoError(t, err)
		out := map[string]float64{}
		for cur, values := range monthly {
			require.Len(t, values, 3)
			out[cur] = (values[0].PerEUR + values[1].PerEUR + values[2].PerEUR) / 3
		}
		return out
	}

	tests := []struct {
		name     string
		dir      func(t *testing.T) string // fixture dir, default fixtureDir
		year     int
		now      time.Time
		want     func(t *testing.T) []fx.Rate
		requests int
		warnings int
		wantErr  error
		errText  string
	}{
		{
			name: "CurrentYearJanuaryNoData", year: 2026, now: date(2026, time.January, 10),
			want:     func(*testing.T) []fx.Rate { return []fx.Rate{} },
			requests: 1,
		},
		{
			name: "CurrentYearMarch", year: 2025, now: date(2025, time.March, 15),
			want:     func(t *testing.T) []fx.Rate { return ratesOf(2025, q1(t), fx.SourceMonthlyAvg, 3) },
			requests: 1,
		},
		{
			name: "FutureYear", year: 2027, now: date(2026, time.June, 1),
			wantErr: fx.ErrFutureYear, errText: "no ECB rates for 2027, the current year is 2026",
		},
		{
			name: "PastYearAnnual2024", year: 2024, now: date(2026, time.February, 1),
			want:     func(*testing.T) []fx.Rate { return ratesOf(2024, annual2024, fx.SourceAnnual, 0) },
			requests: 1,
		},
		{
			name: "PastYearAnnual2025", year: 2025, now: date(2026, time.February, 1),
			want:     func(*testing.T) []fx.Rate { return ratesOf(2025, annual2025, fx.SourceAnnual, 0) },
			requests: 1,
		},
		{
			name: "PastYearAnnualMissingCurrency", year: 2025, now: date(2026, time.February, 1),
			dir: func(t *testing.T) string {
				dir := fixtureSubset(t, []string{"exr_A_2025.csv"}, []string{"CHF"})
				data, err := os.ReadFile(filepath.Join(fixtureDir, "exr_M_2025.csv"))
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(filepath.Join(dir, "exr_M_2025.csv"), data, 0o600))
				return dir
			},
			want: func(*testing.T) []fx.Rate {
				rates := ratesOf(2025, annual2025, fx.SourceAnnual, 0)
				rates[2] = fx.Rate{Year: 2025, Currency: "CHF", PerEUR: 0.9360, Source: fx.SourceMonthlyAvg, MonthsCovered: 12}
				return rates
			},
			requests: 2,
		},
		{
			name: "PastYearMonthlyFallback", year: 2025, now: date(2026, time.February, 1),
			dir: func(t *testing.T) string { return fixtureSubset(t, []string{"exr_M_2025.csv"}, nil) },
			want: func(*testing.T) []fx.Rate {
				return ratesOf(2025, annual2025, fx.SourceMonthlyAvg, 12)
			},
			requests: 2,
		},
		{
			name: "PastYearNoData", year: 2019, now: date(2026, time.February, 1),
			wantErr: fx.ErrNoData, errText: "ECB has no data for 2019 (annual and monthly)",
			requests: 2,
			warnings: len(allCurrencies),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := &setupOpts{}
			if tt.dir != nil {
				opts.dir = tt.dir(t)
			}
			bundle := setup(t, opts)

			rates, warnings, err := bundle.client.RatesForYear(t.Context(), tt.year, tt.now)
			require.Equal(t, tt.requests, bundle.ecb.Requests())
			require.Len(t, warnings, tt.warnings, "%v", warnings)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				require.ErrorContains(t, err, tt.errText)
				require.False(t, fx.IsTransient(err))
				require.Nil(t, rates)
				return
			}
			require.NoError(t, err)
			want := tt.want(t)
			requireRates(t, want, rates)
			if len(want) == 0 {
				require.NotNil(t, rates)
			}
		})
	}

	t.Run("SortedByCurrency", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t, &setupOpts{currencies: []string{"USD", "JPY", "CHF"}})

		rates, _, err := bundle.client.RatesForYear(t.Context(), 2025, date(2026, time.January, 5))
		require.NoError(t, err)
		var got []string
		for _, r := range rates {
			got = append(got, r.Currency)
		}
		require.Equal(t, []string{"CHF", "JPY", "USD"}, got)
	})

	t.Run("UnknownCurrencyWarned", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t, &setupOpts{currencies: []string{"CHF", "XXX"}})

		rates, warnings, err := bundle.client.RatesForYear(t.Context(), 2025, date(2026, time.January, 5))
		require.NoError(t, err)
		require.Equal(t, []fx.Rate{{Year: 2025, Currency: "CHF", PerEUR: 0.9360, Source: fx.SourceAnnual}}, rates)
		require.Len(t, warnings, 1)
		require.Equal(t, "XXX", warnings[0].Currency)
		require.Equal(t, 2, bundle.ecb.Requests()) // annual, then monthly for XXX
	})
}

func TestClientErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name      string
		status    int
		transient bool
		noData    bool
	}{
		{name: "BadRequest", status: http.StatusBadRequest},
		{name: "BadGateway", status: http.StatusBadGateway, transient: true},
		{name: "Forbidden", status: http.StatusForbidden},
		{name: "InternalServerError", status: http.StatusInternalServerError, transient: true},
		{name: "NotFound", status: http.StatusNotFound, noData: true},
		{name: "ServiceUnavailable", status: http.StatusServiceUnavailable, transient: true},
		{name: "TooManyRequests", status: http.StatusTooManyRequests, transient: true},
		{name: "Unauthorized", status: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bundle := setup(t, nil)
			bundle.ecb.FailNext(1, tt.status)

			_, _, err := bundle.client.Annual(t.Context(), 2025)
			require.Error(t, err)
			require.Equal(t, tt.transient, fx.IsTransient(err), err.Error())
			require.Equal(t, tt.noData, errors.Is(err, fx.ErrNoData), err.Error())
			if !tt.noData {
				var se *fx.StatusError
				require.ErrorAs(t, err, &se)
				require.Equal(t, tt.status, se.StatusCode)
			}

			// The failure was one-off: the next call succeeds.
			rates, _, err := bundle.client.Annual(t.Context(), 2025)
			require.NoError(t, err)
			require.Equal(t, annual2025, rates)
			require.Equal(t, 2, bundle.ecb.Requests())
		})
	}

	t.Run("BodyNoData", func(t *testing.T) {
		t.Parallel()
		for _, body := range []string{"", "\n", "No data for data request.", "KEY,CURRENCY,TIME_PERIOD,OBS_VALUE\n"} {
			server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte(body))
			}))
			t.Cleanup(server.Close)
			client := fx.NewClient(server.URL, []string{"CHF"}, server.Client())

			_, _, err := client.Annual(t.Context(), 2025)
			require.ErrorIs(t, err, fx.ErrNoData, "body %q", body)
		}
	})

	t.Run("Cancelled", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t, nil)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()

		_, _, err := bundle.client.Annual(ctx, 2025)
		require.ErrorIs(t, err, context.Canceled)
		require.True(t, fx.IsTransient(err))
	})

	t.Run("MalformedRows", func(t *testing.T) {
		t.Parallel()
		const body = "KEY,FREQ,CURRENCY,TIME_PERIOD,OBS_VALUE\n" +
			"EXR.A.CHF.EUR.SP00.A,A,CHF,2025,0.9360\n" +
			"EXR.A.USD.EUR.SP00.A,A,USD,2025,not-a-number\n" +
			"EXR.A..EUR.SP00.A,A,,2025,1.5\n" +
			"EXR.A.GBP.EUR.SP00.A,A,GBP,2025,-0.85\n" +
			"EXR.A.GBP.EUR.SP00.A,A,GBP,2024,0.85\n"
		server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(body))
		}))
		t.Cleanup(server.Close)
		client := fx.NewClient(server.URL, []string{"CHF", "USD", "GBP"}, server.Client())

		rates, warnings, err := client.Annual(t.Context(), 2025)
		require.NoError(t, err)
		require.Equal(t, map[string]float64{"CHF": 0.9360}, rates)
		require.Len(t, warnings, 4)
		var lines []int
		for _, w := range warnings {
			lines = append(lines, w.Line)
		}
		require.Equal(t, []int{3, 4, 5, 6}, lines)
		require.Contains(t, warnings[3].Message, "period outside the requested year 2025")
	})

	t.Run("NetworkError", func(t *testing.T) {
		t.Parallel()
		server := httptest.NewServer(http.NotFoundHandler())
		url := server.URL
		server.Close()
		client := fx.NewClient(url, []string{"CHF"}, nil)

		_, _, err := client.Annual(t.Context(), 2025)
		require.Error(t, err)
		require.True(t, fx.IsTransient(err))
		require.NotErrorIs(t, err, fx.ErrNoData)
	})

	t.Run("NoCurrencies", func(t *testing.T) {
		t.Parallel()
		client := fx.NewClient("http://127.0.0.1:1", []string{"EUR", " "}, nil)
		_, _, err := client.RatesForYear(t.Context(), 2025, time.Date(2025, time.March, 1, 0, 0, 0, 0, time.UTC))
		require.ErrorContains(t, err, "no currencies configured")
		require.False(t, fx.IsTransient(err))
	})

	t.Run("TransientThroughRatesForYear", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t, nil)
		bundle.ecb.FailNext(1, http.StatusServiceUnavailable)

		_, _, err := bundle.client.RatesForYear(t.Context(), 2025, time.Date(2025, time.March, 15, 0, 0, 0, 0, time.UTC))
		require.True(t, fx.IsTransient(err))
		require.ErrorContains(t, err, "ecb M 2025-01..2025-03: unexpected HTTP status 503")
	})
}
