package ingest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/ingest"
)

func TestParseNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in    string
		comma bool
		want  float64
		ok    bool
	}{
		{"12.5", false, 12.5, true},
		{" -3 ", false, -3, true},
		{"1e3", false, 1000, true},
		{".5", false, 0.5, true},
		{"12,5", true, 12.5, true},
		{"0,8", true, 0.8, true},
		{"12,5", false, 0, false},
		{"1,000.5", true, 0, false},
		{"1,000,5", true, 0, false},
		{"1 000", false, 0, false},
		{"NaN", false, 0, false},
		{"Inf", false, 0, false},
		{"-infinity", false, 0, false},
		{"0x10", false, 0, false},
		{"1_000", false, 0, false},
		{"1e999", false, 0, false},
		{"", false, 0, false},
		{"e5", false, 0, false},
		{"5e", false, 0, false},
	}
	for _, tt := range tests {
		got, err := ingest.ParseNumber(tt.in, tt.comma)
		if !tt.ok {
			require.ErrorIs(t, err, ingest.ErrInvalidNumber, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		require.InDelta(t, tt.want, got, 1e-12, tt.in)
	}
}

func TestParseInt(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{"3": 3, "3.0": 3, "-2": -2, "1e2": 100} {
		got, err := ingest.ParseInt(in, false)
		require.NoError(t, err, in)
		require.Equal(t, want, got)
	}
	for _, in := range []string{"3.5", "x", "1e300", ""} {
		_, err := ingest.ParseInt(in, false)
		require.ErrorIs(t, err, ingest.ErrInvalidInteger, in)
	}
	got, err := ingest.ParseInt("4,0", true)
	require.NoError(t, err)
	require.Equal(t, int64(4), got)
}

func TestParseDate(t *testing.T) {
	t.Parallel()
	want := time.Date(2025, 3, 7, 0, 0, 0, 0, time.UTC)
	for _, in := range []string{"2025-03-07", "2025/03/07", "07.03.2025", "20250307", " 2025-03-07 "} {
		got, err := ingest.ParseDate(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"2025-02-30", "7.3.2025", "03/07/2025", "2025-3-7", "", "202503071"} {
		_, err := ingest.ParseDate(in)
		require.ErrorIs(t, err, ingest.ErrInvalidDate, in)
	}
}

func TestParseBool(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{"true": true, "YES": true, "1": true, "Oui": true,
		"false": false, "no": false, "0": false, "NON": false} {
		got, err := ingest.ParseBool(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	_, err := ingest.ParseBool("maybe")
	require.ErrorIs(t, err, ingest.ErrInvalidBool)
}

func TestParseEnum(t *testing.T) {
	t.Parallel()
	got, err := ingest.ParseEnum(" Economy ", "economy", "business")
	require.NoError(t, err)
	require.Equal(t, "economy", got)
	_, err = ingest.ParseEnum("premium", "economy", "business")
	require.ErrorIs(t, err, ingest.ErrInvalidEnum)
}

func TestNormalizeUnitCF(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"F0828": "0828", "7918": "7918", " f7918 ": "7918", "FX12": "FX12", "F": "F", "AB12": "AB12", "": ""} {
		require.Equal(t, want, ingest.NormalizeUnitCF(in), in)
	}
}
