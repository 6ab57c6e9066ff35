package e2e_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/fakes"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

func TestMain(m *testing.M) { testdb.WrapTestMain(m) }

type pipelineJSON struct {
	ID       string             `json:"id"`
	Status   string             `json:"status"`
	Version  int64              `json:"version"`
	Counters map[string]float64 `json:"counters"`
	Progress struct {
		Percent int `json:"percent"`
	} `json:"progress"`
	Jobs []struct {
		Kind  string `json:"kind"`
		State string `json:"state"`
	} `json:"jobs"`
}

// The spine end to end: migrate a fresh database, start the real api and
// worker binaries with a fake ECB, start an FX sync pipeline from the CLI,
// follow it to SUCCESS over SSE, then read the rates back.
func TestFXSyncEndToEnd(t *testing.T) {
	t.Parallel()
	bin := binaries(t)
	dbURL := freshDatabase(t)
	ecb := httptest.NewServer(fakes.NewECB("../../../shared/data/external/ecb"))
	t.Cleanup(ecb.Close)

	env := []string{"DATABASE_URL=" + dbURL}
	runCmd(t, bin+"/migrate", env, "up")

	// The dev OIDC provider's issuer is PUBLIC_BASE_URL + /dev-oidc, so the
	// API gets a fixed free port whose URL it knows.
	httpAddr := freeAddr(t)
	base := "http://" + httpAddr
	api := start(t, bin+"/api", append(env, "HTTP_ADDR="+httpAddr, "ADMIN_ADDR=127.0.0.1:0",
		"PUBLIC_BASE_URL="+base, "DEV_OIDC_ENABLED=true", "COOKIE_SECURE=false"), "serve")
	api.waitLog("api listening", 30*time.Second)
	worker := start(t, bin+"/worker", append(env, "ADMIN_ADDR=127.0.0.1:0", "ECB_BASE_URL="+ecb.URL, "SCHEDULE_ECB="), "run")
	workerAdmin := "http://" + worker.waitLog("admin listener ready", 30*time.Second)["addr"].(string)
	worker.waitLog("worker started", 30*time.Second)

	require.Equal(t, http.StatusOK, getJSON(t, base+"/readyz", nil))
	require.Equal(t, http.StatusOK, getJSON(t, workerAdmin+"/readyz", nil))

	id := strings.TrimSpace(runCmd(t, bin+"/worker", env, "enqueue", "ecb_fx_sync", "--year", "2024", "--year", "2025"))
	require.Len(t, id, 36, "enqueue prints the pipeline id")

	// Log in as the admin through the real OIDC flow (login → dev provider
	// → callback), then follow the pipeline over SSE until it ends.
	admin := login(t, base, "admin")
	resp, err := admin.Get(base + "/api/v1/pipelines/" + id + "/events")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	var events []string
	var last pipelineJSON
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
			events = append(events, event)
		case strings.HasPrefix(line, "data: ") && event == "pipeline":
			require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &last))
		case strings.HasPrefix(line, "data: ") && event == "end":
			require.JSONEq(t, `{"status":"SUCCESS"}`, strings.TrimPrefix(line, "data: "))
		}
	}
	require.NoError(t, sc.Err())
	require.Equal(t, "end", events[len(events)-1], "stream ends with an end frame: %v", events)
	require.Equal(t, "SUCCESS", last.Status)
	require.Equal(t, 100, last.Progress.Percent)
	require.InDelta(t, 16, last.Counters["rows_fetched"], 0, "8 currencies x 2 years")

	// The same through GET, with ETag and 304.
	require.Equal(t, http.StatusUnauthorized, getJSON(t, base+"/api/v1/pipelines/"+id, nil), "no session, no pipeline")
	var p pipelineJSON
	require.Equal(t, http.StatusOK, getJSONWith(t, admin, base+"/api/v1/pipelines/"+id, &p))
	require.Equal(t, "SUCCESS", p.Status)
	require.Len(t, p.Jobs, 1)
	require.Equal(t, "succeeded", p.Jobs[0].State)
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/pipelines/"+id, nil)
	req.Header.Set("If-None-Match", fmt.Sprintf(`W/"p-%d"`, p.Version))
	resp304, err := admin.Do(req)
	require.NoError(t, err)
	resp304.Body.Close()
	require.Equal(t, http.StatusNotModified, resp304.StatusCode)

	var rates []struct {
		Currency string  `json:"currency"`
		PerEUR   float64 `json:"per_eur"`
		Source   string  `json:"source"`
	}
	require.Equal(t, http.StatusOK, getJSONWith(t, admin, base+"/api/v1/fx-rates?year=2025", &rates))
	require.Len(t, rates, 8)
	for _, r := range rates {
		if r.Currency == "CHF" {
			require.InDelta(t, 0.9360, r.PerEUR, 1e-12)
			require.Equal(t, "ecb_annual", r.Source)
		}
	}

	// The job's counter is incremented when the job returns, just after
	// its transaction made the pipeline SUCCESS.
	worked := `co2_river_jobs_worked_total{kind="ecb_fx_sync",outcome="completed"} 1`
	eventually(t, 10*time.Second, "job counted in the worker metrics", func() bool {
		return strings.Contains(httpBody(t, workerAdmin+"/metrics"), worked)
	})
	metrics := httpBody(t, workerAdmin+"/metrics")
	require.Contains(t, metrics, `co2_river_jobs{queue="integrations",state="available"}`)

	require.NoError(t, worker.stop(30*time.Second))
	require.NoError(t, api.stop(30*time.Second))
}

// SIGTERM while a job runs: the worker stops fetching, lets the job finish,
// then exits 0; the job is completed.
func TestWorkerGracefulShutdownFinishesRunningJob(t *testing.T) {
	t.Parallel()
	bin := binaries(t)
	dbURL := freshDatabase(t)
	env := []string{"DATABASE_URL=" + dbURL}
	runCmd(t, bin+"/migrate", env, "up")
	pool := newPool(t, dbURL)

	worker := start(t, bin+"/worker", append(env, "ADMIN_ADDR=127.0.0.1:0", "SCHEDULE_ECB=", "WORKER_SHUTDOWN_TIMEOUT=30s"), "run")
	worker.waitLog("worker started", 30*time.Second)

	job := insertNoop(t, pool, jobs.NoopArgs{SleepMS: 1500})
	waitJobState(t, pool, job.ID, rivertype.JobStateRunning)
	require.NoError(t, worker.stop(30*time.Second), "clean exit after the running job finished")
	require.Equal(t, rivertype.JobStateCompleted, jobState(t, pool, job.ID))
}

// SIGTERM with a job that outlives the shutdown timeout: the job is
// cancelled, nothing is lost, and a restarted worker completes it.
func TestWorkerShutdownTimeoutRetriesJobLater(t *testing.T) {
	t.Parallel()
	bin := binaries(t)
	dbURL := freshDatabase(t)
	env := []string{"DATABASE_URL=" + dbURL}
	runCmd(t, bin+"/migrate", env, "up")
	pool := newPool(t, dbURL)
	wenv := append(env, "ADMIN_ADDR=127.0.0.1:0", "SCHEDULE_ECB=", "WORKER_SHUTDOWN_TIMEOUT=300ms")

	worker := start(t, bin+"/worker", wenv, "run")
	worker.waitLog("worker started", 30*time.Second)
	job := insertNoop(t, pool, jobs.NoopArgs{SleepMS: 60_000})
	waitJobState(t, pool, job.ID, rivertype.JobStateRunning)
	require.NoError(t, worker.stop(30*time.Second))
	state := jobState(t, pool, job.ID)
	require.Contains(t, []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStateRetryable}, state,
		"interrupted job is kept for a retry")

	// River hands an interrupted job back without using up an attempt; make
	// the second run quick, and due now.
	_, err := pool.Exec(context.Background(), `UPDATE river_job SET args = '{"sleep_ms": 0}' WHERE id = $1`, job.ID)
	require.NoError(t, err)
	if state == rivertype.JobStateRetryable {
		client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Workers: jobs.Workers(jobs.Deps{})})
		require.NoError(t, err)
		_, err = client.JobRetry(context.Background(), job.ID)
		require.NoError(t, err)
	}
	worker2 := start(t, bin+"/worker", wenv, "run")
	worker2.waitLog("worker started", 30*time.Second)
	waitJobState(t, pool, job.ID, rivertype.JobStateCompleted)
	require.NoError(t, worker2.stop(30*time.Second))
}

// The database is down at start: both binaries start, report not ready, and
// become ready once the database answers.
func TestDatabaseDownAtStart(t *testing.T) {
	t.Parallel()
	bin := binaries(t)
	dbURL := freshDatabase(t)
	runCmd(t, bin+"/migrate", []string{"DATABASE_URL=" + dbURL}, "up")
	cfg, err := pgx.ParseConfig(dbURL)
	require.NoError(t, err)
	proxy := newToggleProxy(t, fmt.Sprintf("%s:%d", cfg.Host, cfg.Port))
	proxied := fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable&connect_timeout=2", cfg.User, proxy.addr(), cfg.Database)
	env := []string{"DATABASE_URL=" + proxied}

	api := start(t, bin+"/api", append(env, "HTTP_ADDR=127.0.0.1:0", "ADMIN_ADDR=127.0.0.1:0"), "serve")
	base := "http://" + api.waitLog("api listening", 30*time.Second)["http"].(string)
	worker := start(t, bin+"/worker", append(env, "ADMIN_ADDR=127.0.0.1:0", "SCHEDULE_ECB="), "run")
	workerAdmin := "http://" + worker.waitLog("admin listener ready", 30*time.Second)["addr"].(string)
	worker.waitLog("database not reachable, retrying", 30*time.Second)

	require.Equal(t, http.StatusOK, getJSON(t, base+"/healthz", nil), "liveness needs no database")
	require.Equal(t, http.StatusServiceUnavailable, getJSON(t, base+"/readyz", nil))
	require.Equal(t, http.StatusServiceUnavailable, getJSON(t, workerAdmin+"/readyz", nil))

	proxy.enable()
	eventually(t, 30*time.Second, "api ready", func() bool { return getJSON(t, base+"/readyz", nil) == http.StatusOK })
	eventually(t, 30*time.Second, "worker ready", func() bool { return getJSON(t, workerAdmin+"/readyz", nil) == http.StatusOK })
	require.NoError(t, worker.stop(30*time.Second))
	require.NoError(t, api.stop(30*time.Second))
}

// Missing or invalid configuration: non-zero exit with one line naming the
// variable and the problem.
func TestInvalidConfigExits(t *testing.T) {
	t.Parallel()
	bin := binaries(t)
	tests := []struct {
		name    string
		binary  string
		args    []string
		env     []string
		wantErr string
	}{
		{"APIMissingDatabaseURL", "api", []string{"serve"}, nil, "DATABASE_URL: is required"},
		{"APIBadPoolSize", "api", []string{"serve"}, []string{"DATABASE_URL=postgres://x@127.0.0.1/db", "DB_MAX_CONNS=abc"}, `DB_MAX_CONNS: invalid integer "abc"`},
		{"WorkerBadQueues", "worker", []string{"run"}, []string{"DATABASE_URL=postgres://x@127.0.0.1/db", "WORKER_QUEUES=imports=zero"}, "WORKER_QUEUES"},
		{"WorkerBadCron", "worker", []string{"run"}, []string{"DATABASE_URL=postgres://x@127.0.0.1/db", "SCHEDULE_ECB=every day"}, "SCHEDULE_ECB: invalid cron expression"},
		{"MigrateMissingDatabaseURL", "migrate", []string{"up"}, nil, "DATABASE_URL: is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(bin+"/"+tt.binary, tt.args...)
			cmd.Env = append(baseEnv(), tt.env...)
			out, err := cmd.CombinedOutput()
			var exitErr *exec.ExitError
			require.ErrorAs(t, err, &exitErr, "must exit non-zero: %s", out)
			require.NotEqual(t, 0, exitErr.ExitCode())
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			require.Len(t, lines, 1, "exactly one line: %q", out)
			require.Contains(t, lines[0], tt.wantErr)
		})
	}
}

func TestHelpListsEnvironment(t *testing.T) {
	t.Parallel()
	bin := binaries(t)
	for _, b := range []string{"api", "worker", "migrate"} {
		out, err := exec.Command(bin+"/"+b, "--help").CombinedOutput()
		require.NoError(t, err, b)
		require.Contains(t, string(out), "DATABASE_URL", b)
	}
	out, err := exec.Command(bin+"/worker", "--help").CombinedOutput()
	require.NoError(t, err)
	require.Contains(t, string(out), "WORKER_QUEUES")
}

func newPool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

func insertNoop(t *testing.T, pool *pgxpool.Pool, args jobs.NoopArgs) *rivertype.JobRow {
	t.Helper()
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Workers: jobs.Workers(jobs.Deps{})})
	require.NoError(t, err)
	res, err := client.Insert(context.Background(), args, nil)
	require.NoError(t, err)
	return res.Job
}

func jobState(t *testing.T, pool *pgxpool.Pool, id int64) rivertype.JobState {
	t.Helper()
	var s string
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT state::text FROM river_job WHERE id = $1", id).Scan(&s))
	return rivertype.JobState(s)
}

func waitJobState(t *testing.T, pool *pgxpool.Pool, id int64, want rivertype.JobState) {
	t.Helper()
	eventually(t, 30*time.Second, fmt.Sprintf("job %d %s", id, want), func() bool { return jobState(t, pool, id) == want })
}

func httpBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// A second signal cancels running jobs at once instead of waiting for the
// shutdown timeout; the job is handed back for a retry.
func TestWorkerSecondSignalCancelsRunningJobs(t *testing.T) {
	t.Parallel()
	bin := binaries(t)
	dbURL := freshDatabase(t)
	env := []string{"DATABASE_URL=" + dbURL}
	runCmd(t, bin+"/migrate", env, "up")
	pool := newPool(t, dbURL)

	worker := start(t, bin+"/worker", append(env, "ADMIN_ADDR=127.0.0.1:0", "SCHEDULE_ECB=", "WORKER_SHUTDOWN_TIMEOUT=10m"), "run")
	worker.waitLog("worker started", 30*time.Second)
	job := insertNoop(t, pool, jobs.NoopArgs{SleepMS: 600_000})
	waitJobState(t, pool, job.ID, rivertype.JobStateRunning)

	require.NoError(t, worker.cmd.Process.Signal(syscall.SIGTERM))
	worker.waitLog("shutting down: no new jobs are fetched; waiting for running jobs", 30*time.Second)
	require.NoError(t, worker.cmd.Process.Signal(syscall.SIGTERM))
	worker.waitLog("second signal: cancelling running jobs", 30*time.Second)
	require.NoError(t, worker.wait(30*time.Second), "exits well before the 10 min shutdown timeout")
	require.Contains(t, []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStateRetryable}, jobState(t, pool, job.ID))
}
