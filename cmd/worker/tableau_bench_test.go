package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/fakes"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/seed"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// BenchmarkTableauSync measures a Tableau travel sync of BENCH_TABLEAU_ROWS
// rows (default 100 000, over 50 units) from the fake Tableau, run by a
// real worker process (the binary, built here) so that its peak resident
// memory (VmHWM) is the worker's alone: from the commit of the sync's
// pipeline (what POST /integrations/tableau/sync commits) to its end
// (twelve month pages, spool, staging and fingerprints, 100 000 entries
// computed and COPYed, aggregate), then the nightly resync of the same
// data (nothing changes: staging and fingerprints only). Reports rows/s of
// both and the worker's peak RSS in MB.
func BenchmarkTableauSync(b *testing.B) {
	ctx := context.Background()
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("BENCH_TABLEAU_ROWS")); err == nil && v > 0 {
		n = v
	}
	const year = int32(2025)
	schema := testdb.TestSchema(ctx, b)
	pool := schema.Pool
	_, err := seed.ReferenceData(ctx, pool, sharedData)
	require.NoError(b, err)
	testfactory.Year(ctx, b, pool, &testfactory.YearOpts{Year: new(year), Status: new("open")})
	cfs := make([]string, 50)
	for i := range cfs {
		cfs[i] = *testfactory.Unit(ctx, b, pool, nil).Cf
	}

	auth := fakes.TableauAuth{ClientID: "bench-app", SecretID: "bench-kid", SecretValue: "bench-secret", Username: "bench",
		SiteContentURL: "bench", DatasourceLUID: uuid.NewString()}
	fake, err := fakes.NewTableau(sharedData+"/external/tableau", auth)
	require.NoError(b, err)
	fake.SetRows(n, int(year), cfs)
	srv := httptest.NewServer(fake)
	b.Cleanup(srv.Close)

	w := startWorkerProcess(b, map[string]string{
		"DATABASE_URL": schema.URL, "ADMIN_ADDR": "127.0.0.1:0", "LOG_LEVEL": "warn", "APP_ENV": "dev",
		"SCHEDULE_ECB": "", "SCHEDULE_ACCRED": "", "SCHEDULE_TABLEAU": "", "BLOB_LOCAL_DIR": b.TempDir(),
		"TABLEAU_SERVER_URL": srv.URL, "TABLEAU_SITE_CONTENT_URL": auth.SiteContentURL, "TABLEAU_CLIENT_ID": auth.ClientID,
		"TABLEAU_SECRET_ID": auth.SecretID, "TABLEAU_SECRET_VALUE": auth.SecretValue, "TABLEAU_USERNAME": auth.Username,
		"TABLEAU_DATASOURCE_LUID": auth.DatasourceLUID,
	})
	client := insertClient(b)
	sync := func() (time.Duration, map[string]float64) {
		start := time.Now()
		pid, err := postgres.WithTxV(ctx, pool, func(ctx context.Context, tx pgx.Tx) (uuid.UUID, error) {
			p, err := pipeline.Create(ctx, tx, pipeline.CreateParams{Kind: pipeline.KindTableauSync, Trigger: pipeline.TriggerUser, Year: new(year)})
			if err != nil {
				return uuid.Nil, err
			}
			_, err = pipeline.InsertTx(ctx, client, tx, p.ID, jobs.TableauTravelSyncArgs{Year: new(year)}, nil)
			return p.ID, err
		})
		require.NoError(b, err)
		deadline := time.Now().Add(10 * time.Minute)
		for {
			p, _, err := pipeline.Get(ctx, pool, pid)
			require.NoError(b, err)
			if pipeline.Status(p.Status).Terminal() {
				require.Equal(b, "SUCCESS", p.Status, "%v", p.LastError)
				elapsed := time.Since(start)
				logJobTimes(ctx, b, pool, pid)
				var ctrs map[string]float64
				require.NoError(b, json.Unmarshal(p.Counters, &ctrs))
				return elapsed, ctrs
			}
			require.True(b, time.Now().Before(deadline), "pipeline %s still %s", pid, p.Status)
			<-time.After(5 * time.Millisecond) // polling the worker's commits
		}
	}

	var first, resync time.Duration
	runs := 0
	for b.Loop() {
		// A different cost centre order each run: every trip changes, the
		// first run inserts them, later ones replace them.
		fake.SetRows(n, int(year), append(cfs[runs%len(cfs):], cfs[:runs%len(cfs)]...))
		d, ctrs := sync()
		require.InDelta(b, float64(n), ctrs["rows_loaded"], 0)
		first += d
		d, ctrs = sync()
		require.InDelta(b, 0, ctrs["modules_changed"], 0, "the same data: nothing changes")
		resync += d
		runs++
	}
	var trips int
	require.NoError(b, pool.QueryRow(ctx, `SELECT count(*) FROM data_entries WHERE year = $1 AND source = 'tableau'`, year).Scan(&trips))
	require.Equal(b, n, trips)
	hwm := w.peakRSS()
	b.ReportMetric(float64(n*runs)/first.Seconds(), "rows/s")
	b.ReportMetric(float64(n*runs)/resync.Seconds(), "resync-rows/s")
	b.ReportMetric(float64(hwm)/1024, "worker-peak-RSS-MB")
	fmt.Printf("tableau sync of %d rows: %.1f s (%.0f rows/s), unchanged resync %.1f s (%.0f rows/s), worker peak RSS %.0f MB\n",
		n, first.Seconds()/float64(runs), float64(n*runs)/first.Seconds(), resync.Seconds()/float64(runs),
		float64(n*runs)/resync.Seconds(), float64(hwm)/1024)
}

// workerProcess is a worker binary started by a benchmark.
type workerProcess struct {
	cmd  *exec.Cmd
	done chan error
}

// startWorkerProcess builds the worker and runs `worker run` with env,
// waiting for its heartbeat; it is stopped (SIGTERM) at cleanup.
func startWorkerProcess(b *testing.B, env map[string]string) *workerProcess {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "worker")
	build := exec.CommandContext(b.Context(), "go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(b, err, "go build: %s", out)
	cmd := exec.CommandContext(context.Background(), bin, "run")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = os.Stdout, &stderr
	if os.Getenv("BENCH_DEBUG") != "" {
		cmd.Env = append(cmd.Env, "LOG_LEVEL=debug", "LOG_FORMAT=text")
		cmd.Stderr = os.Stderr
	}
	require.NoError(b, cmd.Start())
	w := &workerProcess{cmd: cmd, done: make(chan error, 1)}
	go func() { w.done <- cmd.Wait() }()
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-w.done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-w.done
		}
		if b.Failed() {
			b.Logf("worker stderr:\n%s", stderr.String())
		}
	})
	// Started: its heartbeat row is written at start-up.
	pool := testdb.Pool(b)
	deadline := time.Now().Add(time.Minute)
	for {
		var n int
		require.NoError(b, pool.QueryRow(context.Background(),
			`SELECT count(*) FROM `+pgx.Identifier{schemaOf(env["DATABASE_URL"]), "workers"}.Sanitize()).Scan(&n))
		if n > 0 {
			return w
		}
		select {
		case err := <-w.done:
			b.Fatalf("worker exited: %v\n%s", err, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		require.True(b, time.Now().Before(deadline), "worker not started")
	}
}

// schemaOf is the search_path of a test schema's URL.
func schemaOf(url string) string {
	_, q, _ := strings.Cut(url, "search_path=")
	q, _, _ = strings.Cut(q, "&")
	return q
}

// peakRSS is the process's peak resident set size in KiB (VmHWM, Linux).
func (w *workerProcess) peakRSS() int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", w.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return -1
}
