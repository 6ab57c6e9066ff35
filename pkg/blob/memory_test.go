package blob_test

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/blob"
)

// TestPutMemory checks that a 64 MiB put streams: the heap allocated during
// the put (TotalAlloc delta, which counts every allocation, freed or not)
// stays far below the object size. Measured with -race on the reference
// machine: see the t.Logf output (about one 16 MiB part buffer for S3 and
// a few hundred KiB locally).
//
// Deliberately not parallel: top-level parallel tests only resume after
// the sequential ones return, so nothing else allocates in this process
// while it measures.
func TestPutMemory(t *testing.T) {
	const size = 64 * mib
	for _, tc := range []struct {
		name  string
		cfg   func(testing.TB) blob.Config
		bound uint64
	}{
		{"local", backends[0].config, 4 * mib},
		{"s3", backends[1].config, 32 * mib},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			store := newStore(t, tc.cfg(t))
			for _, sizeArg := range []int64{size, -1} {
				key := newKey("csv")
				alloc := measure(func() {
					_, err := store.Put(ctx, key, newGen(7, size), sizeArg, "text/csv")
					require.NoError(t, err)
				})
				t.Logf("%s: put of 64 MiB (size arg %d) allocated %d KiB", tc.name, sizeArg, alloc>>10)
				require.Less(t, alloc, tc.bound)
				sum, n, _ := readSHA(ctx, t, store, key)
				require.Equal(t, int64(size), n)
				require.Equal(t, genSHA(t, 7, size), sum)
			}
		})
	}
}

// measure returns the bytes allocated on the heap while fn runs.
func measure(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// BenchmarkPut64MiB reports throughput and bytes allocated per 64 MiB put
// (go test -run '^$' -bench Put64MiB -benchmem ./pkg/blob/).
func BenchmarkPut64MiB(b *testing.B) {
	const size = 64 * mib
	for _, bk := range backends {
		b.Run(bk.name, func(b *testing.B) {
			store := newStore(b, bk.config(b))
			key := newKey("csv")
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				_, err := store.Put(b.Context(), key, newGen(7, size), -1, "text/csv")
				require.NoError(b, err)
			}
		})
	}
}
