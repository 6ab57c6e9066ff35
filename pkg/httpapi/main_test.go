package httpapi_test

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/telemetry"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

func TestMain(m *testing.M) { testdb.WrapTestMain(m) }

// waitTimeout bounds every wait for an asynchronous event.
const waitTimeout = 10 * time.Second

func readyOK(context.Context) error { return nil }

var ready = telemetry.Checks{{Name: "database", Fn: readyOK}}

// httpCase is one row of a table-driven HTTP test through the real router.
type httpCase struct {
	name   string
	method string
	url    string
	header http.Header
	status int
	want   string // expected JSON body; empty means "no body"
}

// serve runs one request through h and checks the conventions every
// response follows (X-Request-Id, JSON error envelope).
func serve(t *testing.T, h http.Handler, method, url string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, url, nil)
	maps.Copy(req.Header, header)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.NotEmpty(t, rec.Header().Get("X-Request-ID"), "every response carries X-Request-Id")
	if rec.Code >= 400 && req.URL.Path != "/readyz" {
		requireErrorEnvelope(t, rec)
	}
	return rec
}

func runHTTPCases(t *testing.T, h http.Handler, cases []httpCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := serve(t, h, tt.method, tt.url, tt.header)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			if tt.want == "" {
				require.Empty(t, rec.Body.String())
				return
			}
			require.JSONEq(t, tt.want, rec.Body.String())
		})
	}
}

type errorEnvelope struct {
	Error struct {
		Code    string           `json:"code"`
		Message string           `json:"message"`
		Details []map[string]any `json:"details"`
	} `json:"error"`
}

// requireErrorEnvelope checks the docs/api.md §1.1 error body and returns it.
func requireErrorEnvelope(t *testing.T, rec *httptest.ResponseRecorder) errorEnvelope {
	t.Helper()
	require.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
	var raw map[string]map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &raw), rec.Body.String())
	require.Contains(t, raw, "error")
	for _, k := range []string{"code", "message", "details"} {
		require.Contains(t, raw["error"], k, rec.Body.String())
	}
	require.True(t, strings.HasPrefix(string(raw["error"]["details"]), "["), "details is always an array: %s", rec.Body.String())
	var env errorEnvelope
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &env))
	require.NotEmpty(t, env.Error.Code)
	require.NotEmpty(t, env.Error.Message)
	return env
}

// testPipeline is a committed pipeline with one root job (insert-only River
// client, as in cmd/api).
type testPipeline struct {
	ID      uuid.UUID
	JobID   int64
	Version int64
}

func createPipeline(ctx context.Context, t *testing.T, schema testdb.Schema) testPipeline {
	t.Helper()
	client, err := river.NewClient(riverpgxv5.New(nil), &river.Config{Workers: jobs.Workers(jobs.Deps{})})
	require.NoError(t, err)
	year := int32(2025)
	tp, err := postgres.WithTxV(ctx, schema.Pool, func(ctx context.Context, tx pgx.Tx) (testPipeline, error) {
		p, err := pipeline.Create(ctx, tx, pipeline.CreateParams{Kind: pipeline.KindRecalculation, Trigger: pipeline.TriggerUser, Year: &year})
		if err != nil {
			return testPipeline{}, err
		}
		var job *rivertype.JobRow
		if job, err = pipeline.InsertTx(ctx, client, tx, p.ID, jobs.NoopArgs{}, nil); err != nil {
			return testPipeline{}, err
		}
		pv, err := dbsqlc.New(tx).PipelineVersion(ctx, p.ID)
		return testPipeline{ID: p.ID, JobID: job.ID, Version: pv.Version}, err
	})
	require.NoError(t, err)
	return tp
}

// startJob marks the job running, as the worker middleware does.
func startJob(ctx context.Context, t *testing.T, schema testdb.Schema, tp testPipeline) int64 {
	t.Helper()
	v, err := postgres.WithTxV(ctx, schema.Pool, func(ctx context.Context, tx pgx.Tx) (int64, error) {
		if _, err := dbsqlc.New(tx).PipelineJobStart(ctx, dbsqlc.PipelineJobStartParams{Attempt: 1, JobID: tp.JobID}); err != nil {
			return 0, err
		}
		return pipeline.Refresh(ctx, tx, tp.ID, time.Now())
	})
	require.NoError(t, err)
	return v
}

// finishJob records the job's success.
func finishJob(ctx context.Context, t *testing.T, schema testdb.Schema, tp testPipeline) int64 {
	t.Helper()
	v, err := postgres.WithTxV(ctx, schema.Pool, func(ctx context.Context, tx pgx.Tx) (int64, error) {
		if err := pipeline.FinishTx(ctx, tx, tp.JobID, pipeline.Result{Message: "done"}); err != nil {
			return 0, err
		}
		pv, err := dbsqlc.New(tx).PipelineVersion(ctx, tp.ID)
		return pv.Version, err
	})
	require.NoError(t, err)
	return v
}

// startListener runs a pipeline.Listener on the schema's database until the
// test ends, and returns once it is LISTENing.
func startListener(t *testing.T, schema testdb.Schema) *pipeline.Listener {
	t.Helper()
	return startListenerWith(t, schema, "", nil)
}

// startListenerWith is startListener with the listener's connection named
// appName (application_name, when not empty) and wire called before it
// runs (Handle, OnState).
func startListenerWith(t *testing.T, schema testdb.Schema, appName string, wire func(*pipeline.Listener)) *pipeline.Listener {
	t.Helper()
	cc := schema.Pool.Config().ConnConfig.Copy()
	if appName != "" {
		cc.RuntimeParams["application_name"] = appName
	}
	l := pipeline.NewListener(cc, testdb.QuietLogger())
	if wire != nil {
		wire(l)
	}
	// Run wakes every subscriber once LISTEN is in place.
	probe, unsubscribe := l.Subscribe(uuid.New())
	defer unsubscribe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case <-probe:
	case <-time.After(waitTimeout):
		t.Fatal("pipeline listener did not start")
	}
	return l
}
