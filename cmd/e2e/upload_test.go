package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

const planeRows = 100_000

// planeCSV builds n distinct plane rows for cf 7918 in 2025 from the IATA
// codes of the sample plane file.
func planeCSV(t *testing.T, n int) []byte {
	t.Helper()
	return testfactory.PlaneTripsCSV(t, "../../../shared/data/samples/plane_2025.csv", "7918", 2025, n)
}

// stack is a migrated and seeded database with the api running.
type stack struct {
	bin, dbURL, base, blobDir string
	env                       []string
	admin                     *http.Client
}

func newStack(t *testing.T) *stack {
	t.Helper()
	s := &stack{bin: binaries(t), dbURL: freshDatabase(t), blobDir: t.TempDir()}
	s.env = []string{"DATABASE_URL=" + s.dbURL, "BLOB_BACKEND=local", "BLOB_LOCAL_DIR=" + s.blobDir}
	runCmd(t, s.bin+"/migrate", s.env, "up")
	runCmd(t, s.bin+"/migrate", s.env, "seed-reference", "--data", "../../../shared/data")
	runCmd(t, s.bin+"/migrate", s.env, "seed-demo", "--data", "../../../shared/data")
	httpAddr := freeAddr(t)
	s.base = "http://" + httpAddr
	api := start(t, s.bin+"/api", append(s.env, "HTTP_ADDR="+httpAddr, "ADMIN_ADDR=127.0.0.1:0",
		"PUBLIC_BASE_URL="+s.base, "DEV_OIDC_ENABLED=true", "COOKIE_SECURE=false"), "serve")
	api.waitLog("api listening", 30*time.Second)
	s.admin = login(t, s.base, "admin")
	return s
}

func (s *stack) startWorker(t *testing.T, extra ...string) *proc {
	t.Helper()
	w := start(t, s.bin+"/worker", append(append(s.env, "ADMIN_ADDR=127.0.0.1:0", "SCHEDULE_ECB="), extra...), "run")
	w.waitLog("worker started", 30*time.Second)
	return w
}

// upload posts a year-scope data file as the admin; returns the pipeline id.
func (s *stack) upload(t *testing.T, module, submodule string, year int, body []byte) string {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, kv := range [][2]string{{"kind", "data"}, {"module", module}, {"submodule", submodule}, {"year", strconv.Itoa(year)}, {"scope", "year"}} {
		require.NoError(t, mw.WriteField(kv[0], kv[1]))
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="`+submodule+`.csv"`)
	h.Set("Content-Type", "text/csv")
	fw, err := mw.CreatePart(h)
	require.NoError(t, err)
	_, err = fw.Write(body)
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	req, err := http.NewRequest(http.MethodPost, s.base+"/api/v1/uploads", &buf)
	require.NoError(t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	u, _ := url.Parse(s.base + "/api/v1/uploads")
	for _, c := range s.admin.Jar.Cookies(u) {
		if c.Name == "csrf_token" {
			req.Header.Set("X-Csrf-Token", c.Value)
		}
	}
	resp, err := s.admin.Do(req)
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

type pipelineProgress struct {
	Status   string             `json:"status"`
	Counters map[string]float64 `json:"counters"`
	Progress struct {
		Phase string `json:"phase"`
		Done  int64  `json:"done"`
	} `json:"progress"`
	Jobs []struct {
		Kind    string `json:"kind"`
		State   string `json:"state"`
		Attempt int    `json:"attempt"`
	} `json:"jobs"`
}

func (s *stack) pipeline(t *testing.T, id string) pipelineProgress {
	t.Helper()
	var p pipelineProgress
	require.Equal(t, http.StatusOK, getJSONWith(t, s.admin, s.base+"/api/v1/pipelines/"+id, &p))
	return p
}

// vmHWM is the peak resident set size of a process in KiB (Linux).
func vmHWM(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
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

// kill -9 of the worker in the middle of a 100 000-row import: the next
// worker's reaper sees that the worker running the job stopped
// heartbeating, hands the job back at once (River's own rescuer would wait
// for the job's 30-minute timeout), the new worker imports the file from
// the start and the pipeline ends SUCCESS with every row exactly once (the
// import is one transaction: the killed attempt left nothing). The workers
// heartbeat every 500 ms and call a worker dead after 1.5 s of silence
// (WORKER_DEAD_AFTER defaults to 3 heartbeats) so that the test is quick.
func TestUploadSurvivesWorkerKill(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	body := planeCSV(t, planeRows)
	fastFleet := "WORKER_HEARTBEAT_INTERVAL=500ms"
	w1 := s.startWorker(t, fastFleet)
	w1ID, _ := w1.waitLog("worker started", time.Second)["worker_id"].(string)
	require.NotEmpty(t, w1ID)

	t0 := time.Now()
	id := s.upload(t, "professional_travel", "plane", 2025, body)
	eventually(t, 60*time.Second, "import running with progress", func() bool {
		p := s.pipeline(t, id)
		return p.Status == "RUNNING" && len(p.Jobs) > 0 && p.Jobs[0].State == "running" && p.Progress.Done > 0
	})
	hwm1 := vmHWM(w1.cmd.Process.Pid)
	require.NoError(t, w1.cmd.Process.Kill())
	<-w1.done
	killedAt := time.Since(t0)
	killedWall := time.Now()

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var attemptedBy []string
	require.NoError(t, conn.QueryRow(ctx, `SELECT attempted_by FROM river_job WHERE kind = 'upload_import' AND state = 'running'`).
		Scan(&attemptedBy))
	require.Equal(t, []string{w1ID}, attemptedBy, "the killed attempt is still 'running' for River, on the killed worker")

	w2 := s.startWorker(t, fastFleet)
	var p pipelineProgress
	eventually(t, 120*time.Second, "pipeline terminal after the rescue", func() bool {
		p = s.pipeline(t, id)
		return p.Status == "SUCCESS" || p.Status == "PARTIAL" || p.Status == "FAILED"
	})
	total := time.Since(t0)
	require.Equal(t, "SUCCESS", p.Status, "%+v", p)
	require.InDelta(t, planeRows, p.Counters["rows_loaded"], 0)
	for _, j := range p.Jobs {
		if j.Kind == "upload_import" {
			require.GreaterOrEqual(t, j.Attempt, 2, "the rescued job ran again")
		}
	}
	hwm2 := vmHWM(w2.cmd.Process.Pid)
	reaped := w2.waitLog("job of a dead worker handed back", time.Second)
	require.Equal(t, w1ID, reaped["dead_worker_id"])
	require.Equal(t, "upload_import", reaped["kind"])
	reapedAt, err := time.Parse(time.RFC3339Nano, fmt.Sprint(reaped["time"]))
	require.NoError(t, err)
	var attemptErr string
	require.NoError(t, conn.QueryRow(ctx, `SELECT errors[1] ->> 'error' FROM river_job WHERE kind = 'upload_import'`).Scan(&attemptErr))
	require.Contains(t, attemptErr, "Worker "+w1ID+" died", "the killed attempt's error, as River records one")

	var n, distinct int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT e.data) FROM data_entries e
		JOIN report_modules rm ON rm.id = e.report_module_id JOIN units u ON u.id = rm.unit_id
		WHERE u.cf = '7918' AND rm.year = 2025 AND rm.module = 'professional_travel' AND e.submodule = 'plane' AND e.source = 'csv_year'`).
		Scan(&n, &distinct))
	require.Equal(t, planeRows, n)
	require.Equal(t, n, distinct, "no duplicate entry")
	t.Logf("kill -9 after %s; job handed back %s after the kill; SUCCESS %s after the upload; worker VmHWM: killed %d KiB, second %d KiB",
		killedAt.Round(time.Millisecond), reapedAt.Sub(killedWall).Round(time.Millisecond), total.Round(time.Millisecond), hwm1, hwm2)
	require.NoError(t, w2.stop(30*time.Second))
}
