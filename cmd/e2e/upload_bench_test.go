package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

// replaceRows is the size of the uploads of the replace measurement.
const replaceRows = 50_000

// TestUploadThroughput measures, end to end (202 accepted → pipeline
// SUCCESS) with the binaries of make build:
//   - a 100 000-row plane CSV against the ceiling of a bare COPY of the same
//     rows into a table, in the same run (issue 17 goal: ≥ 25 %);
//   - then, the entries gone, a 50 000-row per-year upload and a second one
//     of 50 000 other rows that replaces it, with autovacuum off on the
//     entry tables so that the replace runs on the statistics the import
//     itself leaves (the replace must cost about what the first import
//     costs).
//
// Opt-in (CO2_E2E_BENCH=1): it reports figures, it asserts only
// correctness.
func TestUploadThroughput(t *testing.T) {
	if os.Getenv("CO2_E2E_BENCH") != "1" {
		t.Skip("set CO2_E2E_BENCH=1 to measure upload throughput")
	}
	s := newStack(t)
	body := planeCSV(t, planeRows)
	w := s.startWorker(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)

	e2e, phases := s.timedUpload(t, w, 2025, body, 1)
	hwm := vmHWM(w.cmd.Process.Pid)

	// The ceiling: COPY of the same rows (one jsonb document each).
	copyRate := testdb.BareCopyRate(ctx, t, conn, body)

	e2eRate := float64(planeRows) / e2e.Seconds()
	t.Logf("upload of %d plane rows: end to end %s = %.0f rows/s (%s); bare COPY %.0f rows/s; ratio %.1f %%; worker VmHWM %d KiB",
		planeRows, e2e.Round(time.Millisecond), e2eRate, phases, copyRate, 100*e2eRate/copyRate, hwm)

	// Replace: the entries of the first measurement go (vacuumed away),
	// then the statistics stay as the imports leave them.
	_, err = conn.Exec(ctx, `DELETE FROM data_entries WHERE year = 2025 AND submodule = 'plane'`)
	require.NoError(t, err)
	for _, tbl := range []string{"data_entries", "emission_rows"} {
		_, err := conn.Exec(ctx, "VACUUM "+tbl)
		require.NoError(t, err)
		_, err = conn.Exec(ctx, "ALTER TABLE "+tbl+" SET (autovacuum_enabled = off)")
		require.NoError(t, err)
	}
	header := body[:bytes.IndexByte(body, '\n')+1]
	half := len(header)
	for range replaceRows {
		half += bytes.IndexByte(body[half:], '\n') + 1
	}
	first := body[:half]
	second := append(slices.Clone(header), body[half:]...)
	tFirst, pFirst := s.timedUpload(t, w, 2025, first, 2)
	tReplace, pReplace := s.timedUpload(t, w, 2025, second, 3)
	var n int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM data_entries WHERE year = 2025 AND submodule = 'plane'`).Scan(&n))
	require.Equal(t, replaceRows, n, "the second upload replaced the first")
	t.Logf("replace of %d rows: first import %s (%s); replacing upload %s (%s); ratio %.2f",
		replaceRows, tFirst.Round(time.Millisecond), pFirst, tReplace.Round(time.Millisecond), pReplace, tReplace.Seconds()/tFirst.Seconds())
	require.NoError(t, w.stop(30*time.Second))
}

// timedUpload uploads a per-year plane file, waits for SUCCESS and returns
// the time from the upload to SUCCESS with the phases of the worker's nth
// "upload imported" log line.
func (s *stack) timedUpload(t *testing.T, w *proc, year int, body []byte, nth int) (time.Duration, string) {
	t.Helper()
	t0 := time.Now()
	id := s.upload(t, "professional_travel", "plane", year, body)
	var p pipelineProgress
	eventually(t, 300*time.Second, "pipeline terminal", func() bool {
		p = s.pipeline(t, id)
		return p.Status == "SUCCESS" || p.Status == "PARTIAL" || p.Status == "FAILED"
	})
	d := time.Since(t0)
	require.Equal(t, "SUCCESS", p.Status)
	w.waitLogs("upload imported", nth, 30*time.Second)
	w.mu.Lock()
	defer w.mu.Unlock()
	seen := 0
	for _, l := range w.logs {
		if l["msg"] != "upload imported" {
			continue
		}
		if seen++; seen == nth {
			return d, fmt.Sprintf("validate %v, replace %v, load %v, commit %v", l["validate"], l["replace"], l["load"], l["commit"])
		}
	}
	return d, ""
}
