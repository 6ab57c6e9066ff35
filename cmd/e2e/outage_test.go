package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// pipelineMessages is what a user sees of a pipeline while it runs: its
// status, progress message and the jobs with their messages.
type pipelineMessages struct {
	Status    string             `json:"status"`
	LastError *string            `json:"last_error"`
	Counters  map[string]float64 `json:"counters"`
	Progress  struct {
		Done    int64  `json:"done"`
		Message string `json:"message"`
	} `json:"progress"`
	Jobs []struct {
		Kind    string  `json:"kind"`
		State   string  `json:"state"`
		Attempt int     `json:"attempt"`
		Message *string `json:"message"`
	} `json:"jobs"`
}

// watchPipeline polls a pipeline every 50 ms in the background and keeps
// every message it showed (progress and job messages) until stop is called.
func watchPipeline(s *stack, id string) (seen func() []string, stop func()) {
	var (
		mu   sync.Mutex
		msgs []string
		have = map[string]bool{}
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	add := func(m string) {
		if m != "" && !have[m] {
			have[m] = true
			msgs = append(msgs, m)
		}
	}
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(50 * time.Millisecond): // polling the api
			}
			resp, err := s.admin.Get(s.base + "/api/v1/pipelines/" + id)
			if err != nil {
				continue
			}
			var p pipelineMessages
			if resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&p) == nil {
				mu.Lock()
				add(p.Progress.Message)
				for _, j := range p.Jobs {
					if j.Message != nil {
						add(*j.Message)
					}
				}
				mu.Unlock()
			}
			_ = resp.Body.Close()
		}
	})
	var once sync.Once
	stop = func() { once.Do(func() { close(done); wg.Wait() }) }
	seen = func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), msgs...)
	}
	return seen, stop
}

// connectionFailure matches what pgx reports when the database goes away.
var connectionFailure = regexp.MustCompile(`(?i)EOF|conn|connect|reset|broken pipe|closed`)

// outage is an import whose worker lost the database in the middle.
type outage struct {
	s      *stack
	w      *proc
	id     string // the pipeline
	reason string // the error of the failed attempt
	seen   []string
	final  pipelineMessages
	// from the upload: the database goes down, comes back; SUCCESS.
	downAt, upAt, doneAt time.Duration
}

// runOutage uploads a 100 000-row plane file to a stack whose worker
// reaches the database through a proxy, takes the database down for the
// worker once the import runs (the api keeps its own connection), calls
// hold (which waits for the worker's log lines) until the database comes
// back, and follows the pipeline to
// its end, keeping every message it showed meanwhile. It checks what every
// outage must end with: the pipeline SUCCESS with every row exactly once
// (an attempt is one transaction: the failed one left nothing), one retry
// recorded by River with the database error, run by the same live worker,
// and no job handed back by a reaper.
func runOutage(t *testing.T, hold func(w *proc)) *outage {
	t.Helper()
	o := &outage{s: newStack(t)}
	body := planeCSV(t, planeRows)
	cfg, err := pgx.ParseConfig(o.s.dbURL)
	require.NoError(t, err)
	proxy := newToggleProxy(t, fmt.Sprintf("%s:%d", cfg.Host, cfg.Port))
	proxy.enable()
	proxied := fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable&connect_timeout=2", cfg.User, proxy.addr(), cfg.Database)
	o.w = o.s.startWorker(t, "WORKER_HEARTBEAT_INTERVAL=500ms", "DATABASE_URL="+proxied)

	t0 := time.Now()
	o.id = o.s.upload(t, "professional_travel", "plane", 2025, body)
	seen, stopWatching := watchPipeline(o.s, o.id)
	defer stopWatching()
	eventually(t, 60*time.Second, "import running with progress", func() bool {
		p := o.s.pipeline(t, o.id)
		return p.Status == "RUNNING" && len(p.Jobs) > 0 && p.Jobs[0].State == "running" && p.Progress.Done > 0
	})

	proxy.down()
	o.downAt = time.Since(t0)
	hold(o.w)
	proxy.enable()
	o.upAt = time.Since(t0)
	// River logs the error once the attempt, bookkeeping included, returned.
	failed := o.w.waitLog("jobexecutor.JobExecutor: Job errored; retrying", 30*time.Second)
	o.reason, _ = failed["error"].(string)
	require.Regexp(t, connectionFailure, o.reason, "the attempt failed on the lost connection")

	eventually(t, 90*time.Second, "pipeline terminal after the outage", func() bool {
		require.Equal(t, http.StatusOK, getJSONWith(t, o.s.admin, o.s.base+"/api/v1/pipelines/"+o.id, &o.final))
		return o.final.Status == "SUCCESS" || o.final.Status == "PARTIAL" || o.final.Status == "FAILED"
	})
	o.doneAt = time.Since(t0)
	stopWatching()
	o.seen = seen()
	require.Equal(t, "SUCCESS", o.final.Status, "%+v", o.final)
	require.InDelta(t, planeRows, o.final.Counters["rows_loaded"], 0)
	require.Nil(t, o.final.LastError)

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, o.s.dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var (
		state       string
		attempt     int
		attemptedBy []string
		errs        []struct {
			Attempt int    `json:"attempt"`
			Error   string `json:"error"`
		}
	)
	require.NoError(t, conn.QueryRow(ctx, `SELECT state, attempt, attempted_by, to_json(errors)
		FROM river_job WHERE kind = 'upload_import'`).Scan(&state, &attempt, &attemptedBy, &errs))
	require.Equal(t, "completed", state)
	require.Equal(t, 2, attempt, "one retry: the job never ran twice")
	require.Len(t, errs, 1)
	require.Equal(t, 1, errs[0].Attempt)
	require.Equal(t, o.reason, errs[0].Error, "River recorded the failed attempt with the database error")
	require.Len(t, attemptedBy, 2)
	require.Equal(t, attemptedBy[0], attemptedBy[1], "the same live worker ran both attempts")

	var n, distinct int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT e.data) FROM data_entries e
		JOIN report_modules rm ON rm.id = e.report_module_id JOIN units u ON u.id = rm.unit_id
		WHERE u.cf = '7918' AND rm.year = 2025 AND rm.module = 'professional_travel' AND e.submodule = 'plane' AND e.source = 'csv_year'`).
		Scan(&n, &distinct))
	require.Equal(t, planeRows, n)
	require.Equal(t, n, distinct, "no duplicate entry")

	for _, msg := range []string{"orphaned job of this worker handed back", "job of a dead worker handed back"} {
		require.False(t, o.w.logged(msg), "River kept the job: nobody handed it back (%s)", msg)
	}
	return o
}

// waitLogs waits until the process logged msg n times.
func (p *proc) waitLogs(msg string, n int, timeout time.Duration) {
	p.t.Helper()
	eventually(p.t, timeout, fmt.Sprintf("%d log lines %q", n, msg), func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		count := 0
		for _, l := range p.logs {
			if l["msg"] == msg {
				count++
			}
		}
		return count >= n
	})
}

// logged tells whether the process logged msg.
func (p *proc) logged(msg string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.logs {
		if l["msg"] == msg {
			return true
		}
	}
	return false
}

// shown returns the messages the pipeline showed that contain s.
func (o *outage) shown(s string) []string {
	var out []string
	for _, m := range o.seen {
		if strings.Contains(m, s) {
			out = append(out, m)
		}
	}
	return out
}

// A short outage (about 3 s): the worker records the failed attempt as soon
// as the database answers again (it retries for about 12 s), so the pipeline
// shows "attempt 1 of 3 failed, will retry: <the database error>" while
// River's backoff runs, then the retry succeeds.
func TestUploadShortDatabaseOutage(t *testing.T) {
	t.Parallel()
	o := runOutage(t, func(w *proc) {
		w.waitLog("pipeline bookkeeping failed at job end, retrying", 10*time.Second)
		w.waitLogs("heartbeat failed", 6, 10*time.Second) // about 3 s
	})
	require.NotEmpty(t, o.shown("attempt 1 of 3 failed, will retry: "+o.reason), "the pipeline showed the retry and why: %q", o.seen)
	require.NotEmpty(t, o.shown("retrying after attempt 1 of 3 failed: "+o.reason), "and the retry too: %q", o.seen)
	o.w.waitLog("pipeline bookkeeping recorded at job end after the database came back", time.Second)
	t.Logf("database down %s after the upload for %s; SUCCESS %s after the upload",
		o.downAt.Round(time.Millisecond), (o.upAt - o.downAt).Round(time.Millisecond), o.doneAt.Round(time.Millisecond))
	require.NoError(t, o.w.stop(30*time.Second))
}

// A long outage: the pipeline bookkeeping gives up (after about 12 s) and
// so does a round of River's completer (three tries over about 7 s). River
// keeps the outcome and records it when the database answers (the job
// does not stay `running` with nobody working it, and the worker's reaper
// leaves it alone); the retry runs after its backoff and shows why the
// first attempt failed, from its start and after each progress message.
func TestUploadDatabaseOutage(t *testing.T) {
	t.Parallel()
	o := runOutage(t, func(w *proc) {
		w.waitLog("pipeline bookkeeping failed at job end, retrying", 10*time.Second)
		w.waitLog("pipeline bookkeeping failed at job end", 30*time.Second) // gave up
		w.waitLog("jobcompleter.BatchCompleter: Too many errors; giving up", 30*time.Second)
	})
	shown := o.shown("retrying after attempt 1 of 3 failed: " + o.reason)
	require.NotEmpty(t, shown, "the pipeline showed the reason: %q", o.seen)
	t.Logf("database down %s after the upload for %s; SUCCESS %s after the upload; the pipeline showed %q",
		o.downAt.Round(time.Millisecond), (o.upAt - o.downAt).Round(time.Millisecond), o.doneAt.Round(time.Millisecond), shown[0])
	require.NoError(t, o.w.stop(30*time.Second))
}
