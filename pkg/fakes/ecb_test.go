package fakes_test

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/fakes"
)

// ecbFixtureDir is the shared ECB fixture folder, relative to this package.
const ecbFixtureDir = "../../../shared/data/external/ecb"

func TestECB(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		ecb    *fakes.ECB
		server *httptest.Server
	}

	setup := func(t *testing.T) *testBundle {
		t.Helper()
		ecb := fakes.NewECB(ecbFixtureDir)
		server := httptest.NewServer(ecb)
		t.Cleanup(server.Close)
		return &testBundle{ecb: ecb, server: server}
	}

	get := func(t *testing.T, url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(body)
	}

	fixtureHeader := func(t *testing.T) string {
		t.Helper()
		f, err := os.Open(filepath.Join(ecbFixtureDir, "exr_A_2025.csv"))
		require.NoError(t, err)
		defer f.Close()
		line, err := bufio.NewReader(f).ReadString('\n')
		require.NoError(t, err)
		return strings.TrimSuffix(line, "\n")
	}

	t.Run("FailNext", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		url := bundle.server.URL + "/data/EXR/A.CHF.EUR.SP00.A?startPeriod=2025&endPeriod=2025&format=csvdata"

		bundle.ecb.FailNext(2, http.StatusServiceUnavailable)
		for range 2 {
			status, _ := get(t, url)
			require.Equal(t, http.StatusServiceUnavailable, status)
		}
		status, _ := get(t, url)
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, 3, bundle.ecb.Requests())

		bundle.ecb.FailNext(1, http.StatusUnauthorized)
		status, _ = get(t, url)
		require.Equal(t, http.StatusUnauthorized, status)
		require.Equal(t, 4, bundle.ecb.Requests())
	})

	t.Run("FailNextConcurrent", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		url := bundle.server.URL + "/data/EXR/A.CHF.EUR.SP00.A?startPeriod=2025&endPeriod=2025&format=csvdata"
		const requests, failures = 20, 5
		bundle.ecb.FailNext(failures, http.StatusTooManyRequests)

		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			counted = map[int]int{}
		)
		for range requests {
			wg.Go(func() {
				resp, err := http.Get(url)
				if err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				counted[resp.StatusCode]++
				mu.Unlock()
			})
		}
		wg.Wait()
		require.Equal(t, map[int]int{http.StatusTooManyRequests: failures, http.StatusOK: requests - failures}, counted)
		require.Equal(t, requests, bundle.ecb.Requests())
	})

	t.Run("HeaderIdenticalToFixture", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		status, body := get(t, bundle.server.URL+"/data/EXR/A.USD.EUR.SP00.A?startPeriod=2025&endPeriod=2025&format=csvdata")
		require.Equal(t, http.StatusOK, status)
		lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
		require.Len(t, lines, 2)
		require.Equal(t, fixtureHeader(t), lines[0])
		require.Contains(t, lines[1], "EXR.A.USD.EUR.SP00.A,A,USD,EUR,SP00,A,2025,1.1295,")
		require.Contains(t, lines[1], `"ECB reference exchange rate, US dollar/Euro, 2:15 pm (C.E.T.)"`)
	})

	t.Run("Requests", func(t *testing.T) {
		t.Parallel()

		const all = "AUD+CAD+CHF+CNY+GBP+JPY+SEK+USD"
		tests := []struct {
			name    string
			method  string
			path    string
			status  int
			rows    int      // data rows, when status is 200
			periods []string // expected TIME_PERIOD values in order, when set
			body    string   // substring of the body, when set
		}{
			{name: "AnnualAllCurrencies", path: "/data/EXR/A." + all + ".EUR.SP00.A?startPeriod=2025&endPeriod=2025&format=csvdata", status: 200, rows: 8},
			{name: "AnnualCurrencyFilter", path: "/data/EXR/A.CHF+USD.EUR.SP00.A?startPeriod=2024&endPeriod=2024&format=csvdata", status: 200, rows: 2, body: ",CHF,EUR,SP00,A,2024,0.9526,"},
			{name: "AnnualSeveralYears", path: "/data/EXR/A.CHF.EUR.SP00.A?startPeriod=2023&endPeriod=2026&format=csvdata", status: 200, periods: []string{"2024", "2025"}},
			{name: "AnnualUnknownCurrency", path: "/data/EXR/A.XXX.EUR.SP00.A?startPeriod=2025&endPeriod=2025&format=csvdata", status: 404, body: "No data"},
			{name: "AnnualWildcardCurrency", path: "/data/EXR/A..EUR.SP00.A?startPeriod=2025&endPeriod=2025&format=csvdata", status: 200, rows: 8},
			{name: "AnnualYearWithoutFile", path: "/data/EXR/A.CHF.EUR.SP00.A?startPeriod=2019&endPeriod=2019&format=csvdata", status: 404, body: "No data"},
			{name: "BadCurrency", path: "/data/EXR/A.chf.EUR.SP00.A?startPeriod=2025&endPeriod=2025&format=csvdata", status: 400},
			{name: "BadDimensions", path: "/data/EXR/A.CHF.EUR.SP00?startPeriod=2025&endPeriod=2025&format=csvdata", status: 400},
			{name: "BadFormat", path: "/data/EXR/A.CHF.EUR.SP00.A?startPeriod=2025&endPeriod=2025&format=jsondata", status: 400},
			{name: "BadFrequency", path: "/data/EXR/D.CHF.EUR.SP00.A?startPeriod=2025&endPeriod=2025&format=csvdata", status: 400},
			{name: "BadPath", path: "/data/OTHER/A.CHF.EUR.SP00.A?startPeriod=2025&endPeriod=2025&format=csvdata", status: 400},
			{name: "BadPeriodForFrequency", path: "/data/EXR/M.CHF.EUR.SP00.A?startPeriod=2025&endPeriod=2025&format=csvdata", status: 400},
			{name: "BadSeriesKey", path: "/data/EXR/A.CHF.USD.SP00.A?startPeriod=2025&endPeriod=2025&format=csvdata", status: 400},
			{name: "MissingPeriods", path: "/data/EXR/A.CHF.EUR.SP00.A?format=csvdata", status: 400},
			{name: "MonthlyAcrossYearEnd", path: "/data/EXR/M.CHF.EUR.SP00.A?startPeriod=2025-11&endPeriod=2026-02&format=csvdata", status: 200, periods: []string{"2025-11", "2025-12"}},
			{name: "MonthlyFullYear", path: "/data/EXR/M." + all + ".EUR.SP00.A?startPeriod=2025-01&endPeriod=2025-12&format=csvdata", status: 200, rows: 96},
			{name: "MonthlyPrefix", path: "/data/EXR/M.USD.EUR.SP00.A?startPeriod=2025-01&endPeriod=2025-03&format=csvdata", status: 200, periods: []string{"2025-01", "2025-02", "2025-03"}},
			{name: "MonthlyStartAfterEnd", path: "/data/EXR/M.USD.EUR.SP00.A?startPeriod=2025-04&endPeriod=2025-03&format=csvdata", status: 400},
			{name: "MountedUnderPrefix", path: "/ecb/service/data/EXR/A.CHF.EUR.SP00.A?startPeriod=2025&endPeriod=2025&format=csvdata", status: 200, rows: 1},
			{name: "PostNotAllowed", method: http.MethodPost, path: "/data/EXR/A.CHF.EUR.SP00.A?startPeriod=2025&endPeriod=2025&format=csvdata", status: 405},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				bundle := setup(t)

				method := tt.method
				if method == "" {
					method = http.MethodGet
				}
				req, err := http.NewRequestWithContext(t.Context(), method, bundle.server.URL+tt.path, nil)
				require.NoError(t, err)
				resp, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				defer resp.Body.Close()
				raw, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				body := string(raw)

				require.Equal(t, tt.status, resp.StatusCode, body)
				require.Equal(t, 1, bundle.ecb.Requests())
				if tt.body != "" {
					require.Contains(t, body, tt.body)
				}
				if tt.status != http.StatusOK {
					return
				}
				require.Equal(t, "text/csv; charset=utf-8", resp.Header.Get("Content-Type"))
				lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
				require.Equal(t, fixtureHeader(t), lines[0])
				if tt.rows > 0 {
					require.Len(t, lines[1:], tt.rows)
				}
				if tt.periods != nil {
					var periods []string
					for _, l := range lines[1:] {
						periods = append(periods, strings.Split(l, ",")[6]) // TIME_PERIOD
					}
					require.Equal(t, tt.periods, periods)
				}
			})
		}
	})
}
