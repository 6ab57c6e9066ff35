package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// TestServeLoad measures the API under read load on loopback (docs/api.md
// §1, issue 17): the 304 path of GET /pipelines/{id} with If-None-Match
// and GET .../results/summary at 16 and 64 connections with two load tools,
// each bounded in time (CO2_BENCH_DURATION, default 10 s a run): runLoad, a
// closed-loop Go client in this process that checks every status, then
// wrk in a process of its own when it is installed (scripts/tools.sh); the
// API's peak RSS and database connections under that load; then 500 SSE
// streams of one pipeline held
// for 60 s (CO2_BENCH_SSE_HOLD shortens it): RSS, connections, and how long
// a version change takes to reach every stream. Opt-in (CO2_E2E_BENCH=1,
// run by make bench; the binaries of CO2_E2E_BIN, else built): it reports
// figures and asserts only correctness (every answer is the expected one,
// every stream stays open).
func TestServeLoad(t *testing.T) {
	if os.Getenv("CO2_E2E_BENCH") != "1" {
		t.Skip("set CO2_E2E_BENCH=1 to measure the API under load")
	}
	duration := 10 * time.Second
	if d, err := time.ParseDuration(os.Getenv("CO2_BENCH_DURATION")); err == nil && d > 0 {
		duration = d
	}
	hold := 60 * time.Second
	if d, err := time.ParseDuration(os.Getenv("CO2_BENCH_SSE_HOLD")); err == nil && d > 0 {
		hold = d
	}

	s := &stack{bin: binaries(t), dbURL: freshDatabase(t), blobDir: t.TempDir()}
	s.env = []string{"DATABASE_URL=" + s.dbURL, "BLOB_BACKEND=local", "BLOB_LOCAL_DIR=" + s.blobDir}
	runCmd(t, s.bin+"/migrate", s.env, "up")
	runCmd(t, s.bin+"/migrate", s.env, "seed-reference", "--data", "../../../shared/data")
	runCmd(t, s.bin+"/migrate", s.env, "seed-demo", "--data", "../../../shared/data")
	httpAddr := freeAddr(t)
	s.base = "http://" + httpAddr
	api := start(t, s.bin+"/api", append(s.env, "HTTP_ADDR="+httpAddr, "ADMIN_ADDR=127.0.0.1:0", "LOG_LEVEL=info",
		"PUBLIC_BASE_URL="+s.base, "DEV_OIDC_ENABLED=true", "COOKIE_SECURE=false", "SSE_MAX_STREAMS_PER_USER=1000"), "serve")
	api.waitLog("api listening", 30*time.Second)
	pid := api.cmd.Process.Pid

	// The principal of LAB-DEMO uploads a file on a module page: the
	// pipeline it follows is its own (no worker runs: it stays NOT_STARTED).
	principal := login(t, s.base, "principal")
	var units []struct {
		Unit struct {
			ID int64  `json:"id"`
			CF string `json:"cf"`
		} `json:"unit"`
	}
	require.Equal(t, http.StatusOK, getJSONWith(t, principal, s.base+"/api/v1/me/units", &units))
	var unitID int64
	for _, u := range units {
		if u.Unit.CF == "7918" {
			unitID = u.Unit.ID
		}
	}
	require.NotZero(t, unitID, "the principal's LAB-DEMO")
	pipelineID := moduleUpload(t, s.base, principal, unitID)
	pipelineURL := s.base + "/api/v1/pipelines/" + pipelineID
	resp, err := principal.Get(pipelineURL)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	tag := resp.Header.Get("ETag")
	require.NotEmpty(t, tag)
	summaryURL := fmt.Sprintf("%s/api/v1/units/%d/years/2025/results/summary", s.base, unitID)
	require.Equal(t, http.StatusOK, getJSONWith(t, principal, summaryURL, nil))
	cookie := "Cookie: " + cookieHeader(t, principal, s.base+"/api/v1/")

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	dbName := conn.Config().Database
	// The API's connections: open (its pool and its listener) and busy
	// (running a statement or in a transaction) at the sample, read on a
	// connection of the sampler's own (a pgx.Conn serves one caller).
	statConn, err := pgx.Connect(ctx, s.dbURL)
	require.NoError(t, err)
	defer statConn.Close(ctx)
	apiConns := func() conns {
		var c conns
		_ = statConn.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE state <> 'idle') FROM pg_stat_activity
			WHERE datname = $1 AND application_name = 'co2-api'`, dbName).Scan(&c.open, &c.busy)
		return c
	}

	type run struct {
		name, url string
		headers   []string
		want      int // the status every answer must have
	}
	runs := []run{
		{name: "pipeline 304", url: pipelineURL, headers: []string{cookie, "If-None-Match: " + tag}, want: http.StatusNotModified},
		{name: "results summary", url: summaryURL, headers: []string{cookie}, want: http.StatusOK},
	}
	for _, r := range runs {
		for _, c := range []int{16, 64} {
			sample := sampler(pid, apiConns)
			res := runLoad(t, r.url, r.headers, r.want, c, duration)
			rss, dbc := sample()
			t.Logf("%-15s c=%-3d %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %d  api RSS max %d MiB  api db conns max %d open, %d busy (in-process client)",
				r.name, c, res.rps, res.p50, res.p99, res.errors, rss/1024, dbc.open, dbc.busy)
			require.Zero(t, res.errors, "every answer is the expected one (last unexpected: %s)", res.firstBadAnswers)
			if wrk, err := exec.LookPath("wrk"); err == nil {
				sample := sampler(pid, apiConns)
				res := runWrk(t, wrk, r.url, r.headers, c, duration)
				rss, dbc := sample()
				t.Logf("%-15s c=%-3d %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %d  api RSS max %d MiB  api db conns max %d open, %d busy (wrk)",
					r.name, c, res.rps, res.p50, res.p99, res.errors, rss/1024, dbc.open, dbc.busy)
				require.Zero(t, res.errors, "wrk: every answer is a 2xx or 3xx (the in-process run above checked the exact status)")
				// The status after the wrk run is still the expected one.
				require.Zero(t, runLoad(t, r.url, r.headers, r.want, 1, 100*time.Millisecond).errors)
			}
		}
	}

	// 500 SSE streams of the pipeline, held for `hold`.
	const streams = 500
	rss0 := vmRSS(pid)
	sse := openStreams(t, pipelineURL+"/events", principal, streams)
	defer sse.close()
	require.Eventually(t, func() bool { return sse.first.Load() == streams }, 30*time.Second, 20*time.Millisecond,
		"every stream got its first frame (%d/%d)", sse.first.Load(), streams)
	sample := sampler(pid, apiConns)
	deadline := time.After(hold)
	var bumped time.Duration
	select {
	case <-deadline:
	case <-time.After(hold / 2):
		// Half way: a version change must reach every stream.
		t0 := time.Now()
		_, err := conn.Exec(ctx, `WITH p AS (UPDATE pipelines SET version = version + 1 WHERE id = $1 RETURNING id, version)
			SELECT pg_notify('pipeline_updates', id::text || ':' || version) FROM p`, pipelineID)
		require.NoError(t, err)
		require.Eventually(t, func() bool { return sse.second.Load() == streams }, 30*time.Second, 5*time.Millisecond)
		bumped = time.Since(t0)
		<-deadline
	}
	rss, dbc := sample()
	require.Equal(t, int64(streams), sse.open.Load(), "every stream is still open after %s", hold)
	t.Logf("SSE: %d streams held %s; API RSS %d MiB before, max %d MiB while held; api db conns max %d open, %d busy; a version change reached every stream in %s",
		streams, hold, rss0/1024, rss/1024, dbc.open, dbc.busy, bumped.Round(time.Millisecond))
	require.NoError(t, api.stop(30*time.Second))
}

// moduleUpload posts a small process-gas file on the module page of unit
// as client and returns the pipeline id.
func moduleUpload(t *testing.T, base string, client *http.Client, unitID int64) string {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	require.NoError(t, mw.WriteField("submodule", "process_gas"))
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="gas.csv"`)
	h.Set("Content-Type", "text/csv")
	fw, err := mw.CreatePart(h)
	require.NoError(t, err)
	_, err = io.WriteString(fw, "category,quantity\nco2,4\n")
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	u := fmt.Sprintf("%s/api/v1/units/%d/years/2025/modules/process_emissions/uploads", base, unitID)
	req, err := http.NewRequest(http.MethodPost, u, &buf)
	require.NoError(t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-Csrf-Token", cookieValue(t, client, base+"/api/v1/", "csrf_token"))
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusAccepted, resp.StatusCode, string(b))
	var out struct {
		Pipeline struct {
			ID string `json:"id"`
		} `json:"pipeline"`
	}
	require.NoError(t, json.Unmarshal(b, &out))
	return out.Pipeline.ID
}

func cookieValue(t *testing.T, c *http.Client, rawURL, name string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	require.NoError(t, err)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	t.Fatalf("no cookie %s for %s", name, rawURL)
	return ""
}

// cookieHeader is the Cookie header value the client sends to rawURL.
func cookieHeader(t *testing.T, c *http.Client, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	require.NoError(t, err)
	var parts []string
	for _, ck := range c.Jar.Cookies(u) {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	return strings.Join(parts, "; ")
}

// vmRSS is the resident set size of a process in KiB (Linux).
func vmRSS(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return -1
}

// conns counts database connections.
type conns struct{ open, busy int }

// sampler samples the RSS of pid and db() every 250 ms until the returned
// function is called, which returns the maxima.
func sampler(pid int, db func() conns) func() (int, conns) {
	var maxRSS int
	var maxConns conns
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			c := db()
			maxRSS, maxConns = max(maxRSS, vmRSS(pid)), conns{open: max(maxConns.open, c.open), busy: max(maxConns.busy, c.busy)}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	return func() (int, conns) {
		close(done)
		wg.Wait()
		return maxRSS, maxConns
	}
}

type loadResult struct {
	requests        int
	rps, p50, p99   float64 // p50 and p99 in ms
	errors          int
	firstBadAnswers string
}

// runLoad is the load tool: c keep-alive connections to target, each
// sending GET target with headers and reading the answer before the next
// (closed loop, like wrk and hey), for d. It counts an answer whose status
// is not want, or a failed connection, as an error. The requests are
// written by hand and the answers read with http.ReadResponse, so the
// client costs little CPU next to the server on the same machine.
func runLoad(t *testing.T, target string, headers []string, want, c int, d time.Duration) loadResult {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	var req strings.Builder
	fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: co2-load\r\n", u.RequestURI(), u.Host)
	for _, h := range headers {
		req.WriteString(h + "\r\n")
	}
	req.WriteString("\r\n")
	raw := []byte(req.String())

	type worker struct {
		lat    []time.Duration
		errors int
		bad    string
	}
	workers := make([]worker, c)
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for i := range workers {
		w := &workers[i]
		w.lat = make([]time.Duration, 0, 1<<16)
		wg.Go(func() {
			var conn net.Conn
			var br *bufio.Reader
			defer func() {
				if conn != nil {
					_ = conn.Close()
				}
			}()
			for time.Now().Before(stop) {
				if conn == nil {
					nc, err := net.Dial("tcp", u.Host)
					if err != nil {
						w.errors++
						continue
					}
					conn, br = nc, bufio.NewReaderSize(nc, 16<<10)
				}
				t0 := time.Now()
				_ = conn.SetDeadline(t0.Add(5 * time.Second))
				var resp *http.Response
				_, err := conn.Write(raw)
				if err == nil {
					resp, err = http.ReadResponse(br, nil)
				}
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
				if err != nil {
					w.errors++
					_ = conn.Close()
					conn = nil
					continue
				}
				w.lat = append(w.lat, time.Since(t0))
				if resp.StatusCode != want {
					w.errors++
					w.bad = resp.Status
				}
				if resp.Close {
					_ = conn.Close()
					conn = nil
				}
			}
		})
	}
	wg.Wait()
	var all []time.Duration
	var res loadResult
	for _, w := range workers {
		all = append(all, w.lat...)
		res.errors += w.errors
		if w.bad != "" {
			res.firstBadAnswers = w.bad
		}
	}
	require.NotEmpty(t, all, "no answer at all")
	slices.Sort(all)
	pct := func(p float64) float64 {
		return float64(all[min(len(all)-1, int(p*float64(len(all))))]) / float64(time.Millisecond)
	}
	res.requests = len(all)
	res.rps = float64(len(all)) / d.Seconds()
	res.p50, res.p99 = pct(0.50), pct(0.99)
	return res
}

// runWrk runs the same load with wrk (Debian's package, installed by
// scripts/tools.sh), a load tool in a process of its own written in C: one
// thread, c connections, for d, latencies from its --latency distribution.
// wrk only tells answers outside 2xx/3xx apart, counted as errors with the
// socket errors; runLoad checks the exact status.
func runWrk(t *testing.T, wrk, target string, headers []string, c int, d time.Duration) loadResult {
	t.Helper()
	args := []string{"-t1", "-c" + strconv.Itoa(c), "-d" + strconv.Itoa(int(d.Seconds())) + "s", "--latency", "--timeout", "5s"}
	for _, h := range headers {
		args = append(args, "-H", h)
	}
	out, err := exec.Command(wrk, append(args, target)...).CombinedOutput()
	require.NoError(t, err, "wrk: %s", out)
	var res loadResult
	field := func(re string) string {
		m := regexp.MustCompile(re).FindSubmatch(out)
		if m == nil {
			return ""
		}
		return string(m[1])
	}
	ms := func(v string) float64 {
		v = strings.TrimSpace(v)
		for _, u := range []struct {
			suffix string
			scale  float64
		}{{"us", 1e-3}, {"ms", 1}, {"s", 1e3}, {"m", 60e3}} {
			if n, ok := strings.CutSuffix(v, u.suffix); ok {
				f, err := strconv.ParseFloat(n, 64)
				require.NoError(t, err, "wrk latency %q", v)
				return f * u.scale
			}
		}
		require.Failf(t, "wrk output", "latency %q in %s", v, out)
		return 0
	}
	rps, err := strconv.ParseFloat(field(`Requests/sec:\s+([0-9.]+)`), 64)
	require.NoError(t, err, "wrk output: %s", out)
	res.rps = rps
	res.p50, res.p99 = ms(field(`(?m)^\s+50%\s+(\S+)`)), ms(field(`(?m)^\s+99%\s+(\S+)`))
	res.requests, _ = strconv.Atoi(field(`(\d+) requests in`))
	for _, re := range []string{`Non-2xx or 3xx responses: (\d+)`, `Socket errors: connect (\d+)`, `read (\d+), write`, `write (\d+), timeout`, `timeout (\d+)`} {
		if n, err := strconv.Atoi(field(re)); err == nil {
			res.errors += n
		}
	}
	require.Positive(t, res.requests, "wrk output: %s", out)
	return res
}

// sseStreams are open event streams of one pipeline.
type sseStreams struct {
	first, second, open atomic.Int64
	cancel              context.CancelFunc
	wg                  sync.WaitGroup
}

// openStreams opens n event streams of url with the client's cookies and
// counts, per stream, the first and second pipeline frames.
func openStreams(t *testing.T, target string, client *http.Client, n int) *sseStreams {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &sseStreams{cancel: cancel}
	tr := &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: 0}
	c := &http.Client{Jar: client.Jar, Transport: tr}
	for range n {
		s.wg.Go(func() {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
			if err != nil {
				return
			}
			resp, err := c.Do(req)
			if err != nil {
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return
			}
			s.open.Add(1)
			defer s.open.Add(-1)
			frames := 0
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				if sc.Text() != "event: pipeline" {
					continue
				}
				frames++
				switch frames {
				case 1:
					s.first.Add(1)
				case 2:
					s.second.Add(1)
				}
			}
		})
	}
	return s
}

func (s *sseStreams) close() {
	s.cancel()
	s.wg.Wait()
}
