package emission_test

import (
	"testing"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
)

// reportEntriesPerSecond reports the entries computed per second (one core:
// benchmarks run in a single goroutine).
func reportEntriesPerSecond(b *testing.B, entriesPerOp int) {
	b.Helper()
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N*entriesPerOp)/s, "entries/s")
	}
}

// BenchmarkComputeSingleFactor measures single-factor submodules (one factor
// resolution, one row) on the demo lab's data (target ≥ 1 M entries/s per
// core).
func BenchmarkComputeSingleFactor(b *testing.B) {
	lk := demoLookup(b)
	bySub := map[emission.SubmoduleKey][]emission.Entry{}
	for _, s := range loadSamples(b) {
		bySub[s.entry.Submodule] = append(bySub[s.entry.Submodule], s.entry)
	}
	for _, sub := range []emission.SubmoduleKey{
		"plane", "train", "energy_combustion", "scientific", "it_equipment", "additional",
		"facility", "animal_facility", "cloud", "ai", "process_gas",
	} {
		entries := bySub[sub]
		b.Run(string(sub), func(b *testing.B) {
			rows := make([]emission.Row, 0, 64)
			b.ReportAllocs()
			for b.Loop() {
				for i := range entries {
					rows, _ = emission.Compute(&entries[i], lk, rows[:0])
				}
			}
			reportEntriesPerSecond(b, len(entries))
		})
	}
}

// BenchmarkComputeMix computes the whole demo lab (214 entries, 776 rows:
// headcount entries produce 24 rows each, rooms 9) as a realistic mix.
func BenchmarkComputeMix(b *testing.B) {
	lk := demoLookup(b)
	samples := loadSamples(b)
	entries := make([]emission.Entry, len(samples))
	for i, s := range samples {
		entries[i] = s.entry
	}
	rows := make([]emission.Row, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		rows = rows[:0]
		for i := range entries {
			rows, _ = emission.Compute(&entries[i], lk, rows)
		}
	}
	reportEntriesPerSecond(b, len(entries))
	b.ReportMetric(float64(b.N*len(rows))/b.Elapsed().Seconds(), "rows/s")
}
