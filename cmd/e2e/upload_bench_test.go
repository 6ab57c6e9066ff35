package e2e_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

// TestUploadThroughput measures a 100 000-row plane CSV end to end (202
// accepted → pipeline SUCCESS, emissions and aggregates included) against
// the ceiling of a bare COPY of the same rows into a table. Opt-in
// (CO2_E2E_BENCH=1): it reports figures, it asserts only correctness.
func TestUploadThroughput(t *testing.T) {
	if os.Getenv("CO2_E2E_BENCH") != "1" {
		t.Skip("set CO2_E2E_BENCH=1 to measure upload throughput")
	}
	s := newStack(t)
	body := planeCSV(t, planeRows)
	w := s.startWorker(t)

	t0 := time.Now()
	id := s.upload(t, "professional_travel", "plane", 2025, body)
	accepted := time.Since(t0)
	var p pipelineProgress
	eventually(t, 120*time.Second, "pipeline terminal", func() bool {
		p = s.pipeline(t, id)
		return p.Status == "SUCCESS" || p.Status == "PARTIAL" || p.Status == "FAILED"
	})
	e2e := time.Since(t0)
	require.Equal(t, "SUCCESS", p.Status)
	hwm := vmHWM(w.cmd.Process.Pid)

	// The ceiling: COPY of the same rows (one jsonb document each).
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	copyRate := testdb.BareCopyRate(ctx, t, conn, body)

	e2eRate := float64(planeRows) / e2e.Seconds()
	t.Logf("upload accepted in %s; end to end %s = %.0f rows/s; bare COPY %.0f rows/s; ratio %.1f %%; worker VmHWM %d KiB",
		accepted.Round(time.Millisecond), e2e.Round(time.Millisecond), e2eRate, copyRate, 100*e2eRate/copyRate, hwm)
	require.NoError(t, w.stop(30*time.Second))
}
