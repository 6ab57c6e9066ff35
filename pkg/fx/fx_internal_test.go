package fx

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMean(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		values []float64
		want   float64
	}{
		{name: "Empty", values: nil, want: math.NaN()},
		{name: "OneAndThree", values: []float64{1.0, 3.0}, want: 2.0},
		{name: "Single", values: []float64{0.936}, want: 0.936},
		{name: "Three", values: []float64{1, 2, 6}, want: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Mean(tt.values)
			if math.IsNaN(tt.want) {
				require.True(t, math.IsNaN(got))
				return
			}
			require.InDelta(t, tt.want, got, 1e-12)
		})
	}
}

func TestNewClient(t *testing.T) {
	t.Parallel()

	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()
		c := NewClient("https://ecb.example/service/", []string{" chf", "USD", "usd", "", "EUR", "GBP"}, nil)
		require.Equal(t, 10*time.Second, c.httpClient.Timeout)
		require.Equal(t, "https://ecb.example/service", c.baseURL)
		require.Equal(t, []string{"CHF", "USD", "GBP"}, c.Currencies())
	})

	t.Run("SeriesURL", func(t *testing.T) {
		t.Parallel()
		c := NewClient("https://ecb.example/service", []string{"CHF", "USD", "GBP"}, nil)
		require.Equal(t,
			"https://ecb.example/service/data/EXR/A.CHF+USD+GBP.EUR.SP00.A?endPeriod=2024&format=csvdata&startPeriod=2024",
			c.seriesURL("A", "2024", "2024"))
		require.Equal(t,
			"https://ecb.example/service/data/EXR/M.CHF+USD+GBP.EUR.SP00.A?endPeriod=2025-03&format=csvdata&startPeriod=2025-01",
			c.seriesURL("M", "2025-01", "2025-03"))
	})
}

func TestParseCSV(t *testing.T) {
	t.Parallel()

	const header = "KEY,FREQ,CURRENCY,TIME_PERIOD,OBS_VALUE,TITLE\n"
	currencies := []string{"CHF", "USD"}

	tests := []struct {
		name     string
		body     string
		wantObs  []observation
		wantWarn []Warning
		wantErr  error
		wantText string // error text, for errors without a sentinel
	}{
		{name: "Empty", body: "", wantErr: ErrNoData},
		{name: "HeaderOnly", body: header, wantErr: ErrNoData},
		{
			name: "MalformedRows",
			body: header +
				"k,A,CHF,2025,0.9360,ok\n" +
				"k,A,,2025,1.1,missing currency\n" +
				"k,A,USD,2025,abc,bad number\n" +
				"k,A,USD,2025,NaN,nan\n" +
				"k,A,USD,2025,+Inf,inf\n" +
				"k,A,USD,2025,0,zero\n" +
				"k,A,USD,2025,-1.2,negative\n" +
				"k,A,USD,2025,,empty value\n" +
				"k,A,USD,,1.1,missing period\n" +
				"k,A,JPY,2025,168.73,not requested\n" +
				"k,A,USD\n" +
				"k,A,USD,2025, 1.1295 ,ok\n",
			wantObs: []observation{
				{line: 2, currency: "CHF", period: "2025", value: 0.936},
				{line: 13, currency: "USD", period: "2025", value: 1.1295},
			},
			wantWarn: []Warning{
				{Freq: "A", Line: 3, Currency: "", Period: "2025", Message: "missing currency, row skipped"},
				{Freq: "A", Line: 4, Currency: "USD", Period: "2025", Message: `invalid value "abc", row skipped`},
				{Freq: "A", Line: 5, Currency: "USD", Period: "2025", Message: `value "NaN" is not a positive finite number, row skipped`},
				{Freq: "A", Line: 6, Currency: "USD", Period: "2025", Message: `value "+Inf" is not a positive finite number, row skipped`},
				{Freq: "A", Line: 7, Currency: "USD", Period: "2025", Message: `value "0" is not a positive finite number, row skipped`},
				{Freq: "A", Line: 8, Currency: "USD", Period: "2025", Message: `value "-1.2" is not a positive finite number, row skipped`},
				{Freq: "A", Line: 9, Currency: "USD", Period: "2025", Message: "missing value, row skipped"},
				{Freq: "A", Line: 10, Currency: "USD", Period: "", Message: "missing period, row skipped"},
				{Freq: "A", Line: 11, Currency: "JPY", Period: "2025", Message: "currency not requested, row skipped"},
				{Freq: "A", Line: 12, Currency: "USD", Period: "", Message: "missing period, row skipped"},
			},
		},
		{
			name:     "MissingColumn",
			body:     "KEY,CURRENCY,TIME_PERIOD\nk,CHF,2025\n",
			wantText: "missing column OBS_VALUE",
		},
		{
			name:    "ColumnsByName",
			body:    "OBS_VALUE,EXTRA,TIME_PERIOD,CURRENCY\n1.5,x,2025,USD\n",
			wantObs: []observation{{line: 2, currency: "USD", period: "2025", value: 1.5}},
		},
		{
			name: "QuoteError",
			body: header + "k,A,CHF,2025,0.9360,\"bad \"quote\n" + "k,A,USD,2025,1.1,ok\n",
			wantObs: []observation{
				{line: 3, currency: "USD", period: "2025", value: 1.1},
			},
			wantWarn: []Warning{{Freq: "A", Line: 2, Message: `malformed CSV row, skipped: extraneous or missing " in quoted-field`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			obs, warnings, err := parseCSV([]byte(tt.body), "A", currencies)
			switch {
			case tt.wantText != "":
				require.ErrorContains(t, err, tt.wantText)
				require.NotErrorIs(t, err, ErrNoData)
				return
			case tt.wantErr != nil:
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantObs, obs)
			require.Equal(t, tt.wantWarn, warnings)
		})
	}
}

func TestWarningString(t *testing.T) {
	t.Parallel()
	w := Warning{Freq: "M", Line: 4, Currency: "USD", Period: "2025-02", Message: "invalid value"}
	require.Equal(t, "ecb M line 4 USD 2025-02: invalid value", w.String())
	w = Warning{Freq: "A", Currency: "CHF", Message: "no value"}
	require.Equal(t, "ecb A CHF: no value", w.String())
}
