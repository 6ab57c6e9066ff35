package ingest_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/ingest"
)

// sharedData is the repository's shared data directory (../shared/data
// next to the module root).
const sharedData = "../../../shared/data"

func openShared(t *testing.T, rel string) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join(sharedData, rel))
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("shared data not available: %v", err)
	}
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	return f
}

func TestSharedFactorFiles(t *testing.T) {
	t.Parallel()
	want := map[string]int{
		"member": 24, "student": 24, "plane": 12, "train": 11, "room": 42, "energy_combustion": 6,
		"embodied_energy": 35, "equipment": 36, "purchases": 36, "additional": 3, "facility": 6,
		"animal_facility": 2, "cloud": 18, "ai": 18, "process_gas": 14,
	}
	require.ElementsMatch(t, ingest.FactorGroups(), keys(want))
	for group, n := range want {
		t.Run(group, func(t *testing.T) {
			t.Parallel()
			tbl, err := ingest.FactorTable(group)
			require.NoError(t, err)
			r, err := ingest.NewReader(openShared(t, "factors/"+group+"_factors_2025.csv"), tbl, nil)
			require.NoError(t, err)
			require.Empty(t, r.IgnoredColumns())
			p, err := ingest.NewFactorParser(group, "")
			require.NoError(t, err)
			var factors []emission.Factor
			for {
				rec, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				require.NoError(t, err)
				row, errs := p.Parse(rec)
				require.Empty(t, errs)
				require.Contains(t, ingest.FactorGroupSubmodules(group), row.Submodule)
				factors = append(factors, row.Factor())
			}
			require.NoError(t, p.Finish())
			require.Len(t, factors, n)
			require.Equal(t, ingest.Counts{Total: n}, r.Counts())
			idx, err := emission.NewFactorIndex(factors)
			require.NoError(t, err)
			require.Equal(t, n, idx.Len())
		})
	}
}

func keys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestSharedSampleFiles(t *testing.T) {
	t.Parallel()
	want := map[string]int{
		"member": 20, "student": 1, "plane": 30, "train": 20, "room": 10, "energy_combustion": 3,
		"equipment": 40, "purchases": 60, "additional": 3, "facility": 7, "animal_facility": 2,
		"cloud": 6, "ai": 6, "process_gas": 6,
	}
	require.ElementsMatch(t, ingest.DataGroups(), keys(want))
	for group, n := range want {
		t.Run(group, func(t *testing.T) {
			t.Parallel()
			tbl, err := ingest.DataTable(group, true)
			require.NoError(t, err)
			r, err := ingest.NewReader(openShared(t, "samples/"+group+"_2025.csv"), tbl, nil)
			require.NoError(t, err)
			require.Empty(t, r.IgnoredColumns())
			p, err := ingest.NewDataParser(group, ingest.DataOptions{PerYear: true, Unit: onlyUnit7918, Year: 2025})
			require.NoError(t, err)
			// The validate pass's parser: the same rows, without their data.
			v, err := ingest.NewDataParser(group, ingest.DataOptions{PerYear: true, Unit: onlyUnit7918, Year: 2025, NoData: true})
			require.NoError(t, err)
			loaded := 0
			for {
				rec, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				require.NoError(t, err)
				vrow, verrs := v.Parse(rec)
				row, errs := p.Parse(rec)
				require.Empty(t, errs, "row %d", rec.Row)
				require.Empty(t, verrs, "row %d", rec.Row)
				require.Nil(t, vrow.Data)
				require.NotEmpty(t, row.Data)
				vrow.Data = row.Data
				require.Equal(t, row, vrow)
				require.Equal(t, "7918", row.UnitCF)
				// The payload is exactly what its data decodes to: imports
				// compute the parsed payload (calc.ComputeDecoded), the
				// recalculation the stored data.
				decoded, err := emission.DecodePayload(row.Submodule, row.Data)
				require.NoError(t, err)
				require.Equal(t, row.Payload, decoded, "row %d", rec.Row)
				loaded++
			}
			require.Equal(t, n, loaded)
		})
	}
}

func TestSharedReferenceFiles(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		dataset, file string
		n             int
	}{
		{ingest.DatasetLocationsPlane, "locations/locations_plane.csv", 4517},
		{ingest.DatasetLocationsTrain, "locations/locations_train.csv", 1021},
		{ingest.DatasetBuildingRooms, "reference/building_rooms.csv", 50},
	} {
		t.Run(tt.dataset, func(t *testing.T) {
			t.Parallel()
			tbl, err := ingest.ReferenceTable(tt.dataset)
			require.NoError(t, err)
			r, err := ingest.NewReader(openShared(t, tt.file), tbl, nil)
			require.NoError(t, err)
			var parse func(*ingest.Record) []ingest.RowError
			var count func() int
			if tt.dataset == ingest.DatasetBuildingRooms {
				p := ingest.NewRoomParser()
				parse, count = p.Parse, func() int { return len(p.Rows()) }
			} else {
				p, err := ingest.NewLocationParser(tt.dataset)
				require.NoError(t, err)
				parse, count = p.Parse, func() int { return len(p.Rows()) }
			}
			for {
				rec, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				require.NoError(t, err)
				require.Empty(t, parse(rec), "row %d", rec.Row)
			}
			require.Equal(t, tt.n, count())
		})
	}
}

func TestSharedECBFile(t *testing.T) {
	t.Parallel()
	r, err := ingest.NewReader(openShared(t, "external/ecb/exr_A_2025.csv"), ingest.ECBTable(), nil)
	require.NoError(t, err)
	rates := map[string]float64{}
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		v, err := ingest.ParseNumber(rec.Get("obs_value"), false)
		require.NoError(t, err)
		rates[rec.Get("currency")] = v
	}
	require.Len(t, rates, 8)
	require.InDelta(t, 0.9360, rates["CHF"], 0)
	require.InDelta(t, 1.1295, rates["USD"], 0)
}
