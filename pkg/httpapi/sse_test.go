package httpapi_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/httpapi"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

// frame is one Server-Sent Event.
type frame struct {
	Event, ID, Data string
}

// eventStream is an open GET /pipelines/{id}/events response whose frames
// are read by a goroutine; frames is closed when the server closes.
type eventStream struct {
	resp   *http.Response
	frames chan frame
}

func openEventStream(t *testing.T, srv *httptest.Server, id uuid.UUID, lastEventID string) *eventStream {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/api/v1/pipelines/"+id.String()+"/events", nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/event-stream")
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	s := &eventStream{resp: resp, frames: make(chan frame, 16)}
	go func() {
		defer close(s.frames)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
		var f frame
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if f != (frame{}) {
					s.frames <- f
				}
				f = frame{}
			case strings.HasPrefix(line, "event: "):
				f.Event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "id: "):
				f.ID = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				f.Data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	t.Cleanup(func() {
		_ = resp.Body.Close()
		for range s.frames { // drain so that the reader goroutine ends
		}
	})
	return s
}

// next returns the next frame, failing after waitTimeout.
func (s *eventStream) next(t *testing.T) frame {
	t.Helper()
	select {
	case f, ok := <-s.frames:
		require.True(t, ok, "stream closed, want a frame")
		return f
	case <-time.After(waitTimeout):
		t.Fatal("no SSE frame within timeout")
		return frame{}
	}
}

// nextSkippingPings returns the next frame that is not a ping.
func (s *eventStream) nextSkippingPings(t *testing.T) frame {
	t.Helper()
	for {
		if f := s.next(t); f.Event != "ping" {
			return f
		}
	}
}

// requireClosed waits until the server ends the stream.
func (s *eventStream) requireClosed(t *testing.T) {
	t.Helper()
	select {
	case f, ok := <-s.frames:
		require.False(t, ok, "want end of stream, got frame %+v", f)
	case <-time.After(waitTimeout):
		t.Fatal("server did not close the stream")
	}
}

// requirePipelineFrame checks a `pipeline` frame and returns its data.
func requirePipelineFrame(t *testing.T, f frame, status string) map[string]any {
	t.Helper()
	require.Equal(t, "pipeline", f.Event, "frame %+v", f)
	var data map[string]any
	require.NoError(t, json.Unmarshal([]byte(f.Data), &data))
	require.Equal(t, status, data["status"])
	require.Equal(t, f.ID, strconv.FormatInt(int64(data["version"].(float64)), 10), "id is the version") //nolint:forcetypeassert // test
	return data
}

func newTestServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestPipelineEvents(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := testdb.TestSchema(ctx, t)
	listener := startListener(t, schema)
	deps := httpapi.Deps{Pool: schema.Pool, Listener: listener, Logger: testdb.QuietLogger(), Ready: ready}
	srv := newTestServer(t, httpapi.AsAdmin(httpapi.NewRouter(deps)))

	// Updates must come from LISTEN/NOTIFY: polling is off.
	t.Run("FramesUntilEnd", func(t *testing.T) {
		t.Parallel()
		srv := newTestServer(t, httpapi.AsAdmin(httpapi.NewRouterWithStreamTimings(deps, httpapi.StreamTimings{Ping: time.Hour, Poll: time.Hour})))
		tp := createPipeline(ctx, t, schema)
		s := openEventStream(t, srv, tp.ID, "")
		require.Equal(t, http.StatusOK, s.resp.StatusCode)
		require.Equal(t, "text/event-stream", s.resp.Header.Get("Content-Type"))
		require.Equal(t, "no-store", s.resp.Header.Get("Cache-Control"))
		require.Equal(t, "no", s.resp.Header.Get("X-Accel-Buffering"))
		require.NotEmpty(t, s.resp.Header.Get("X-Request-ID"))

		f := s.next(t)
		require.Equal(t, strconv.FormatInt(tp.Version, 10), f.ID)
		data := requirePipelineFrame(t, f, "NOT_STARTED")
		require.Equal(t, tp.ID.String(), data["id"])

		v := startJob(ctx, t, schema, tp)
		f = s.next(t)
		require.Equal(t, strconv.FormatInt(v, 10), f.ID)
		requirePipelineFrame(t, f, "RUNNING")

		v = finishJob(ctx, t, schema, tp)
		f = s.next(t)
		require.Equal(t, strconv.FormatInt(v, 10), f.ID)
		data = requirePipelineFrame(t, f, "SUCCESS")
		progress := data["progress"].(map[string]any) //nolint:forcetypeassert // test
		require.InDelta(t, 100, progress["percent"], 0)

		require.Equal(t, frame{Event: "end", Data: `{"status":"SUCCESS"}`}, s.next(t))
		s.requireClosed(t)
	})

	t.Run("LastEventIDCurrentSkipsFirstFrame", func(t *testing.T) {
		t.Parallel()
		tp := createPipeline(ctx, t, schema)
		s := openEventStream(t, srv, tp.ID, strconv.FormatInt(tp.Version, 10))
		require.Equal(t, http.StatusOK, s.resp.StatusCode)

		v := startJob(ctx, t, schema, tp)
		f := s.nextSkippingPings(t)
		require.Equal(t, strconv.FormatInt(v, 10), f.ID, "the first frame is the change after Last-Event-ID")
		requirePipelineFrame(t, f, "RUNNING")
	})

	t.Run("LastEventIDOfTerminalPipeline", func(t *testing.T) {
		t.Parallel()
		tp := createPipeline(ctx, t, schema)
		startJob(ctx, t, schema, tp)
		v := finishJob(ctx, t, schema, tp)

		s := openEventStream(t, srv, tp.ID, strconv.FormatInt(v, 10))
		require.Equal(t, http.StatusOK, s.resp.StatusCode)
		require.Equal(t, frame{Event: "end", Data: `{"status":"SUCCESS"}`}, s.next(t))
		s.requireClosed(t)
	})

	t.Run("StaleLastEventIDOfTerminalPipeline", func(t *testing.T) {
		t.Parallel()
		tp := createPipeline(ctx, t, schema)
		startJob(ctx, t, schema, tp)
		v := finishJob(ctx, t, schema, tp)

		s := openEventStream(t, srv, tp.ID, strconv.FormatInt(tp.Version, 10))
		f := s.next(t)
		require.Equal(t, strconv.FormatInt(v, 10), f.ID)
		requirePipelineFrame(t, f, "SUCCESS")
		require.Equal(t, frame{Event: "end", Data: `{"status":"SUCCESS"}`}, s.next(t))
		s.requireClosed(t)
	})

	t.Run("MalformedID", func(t *testing.T) {
		t.Parallel()
		rec := serve(t, httpapi.AsAdmin(httpapi.NewRouter(deps)), http.MethodGet, "/api/v1/pipelines/nope/events", nil)
		require.Equal(t, http.StatusNotFound, rec.Code)
		require.Equal(t, "not_found", requireErrorEnvelope(t, rec).Error.Code)
	})

	t.Run("UnknownID", func(t *testing.T) {
		t.Parallel()
		s := openEventStream(t, srv, uuid.New(), "")
		require.Equal(t, http.StatusNotFound, s.resp.StatusCode)
		require.Equal(t, "application/json; charset=utf-8", s.resp.Header.Get("Content-Type"))
		s.requireClosed(t) // a JSON body, no frame
	})
}

// Without a listener the stream falls back to polling; pings keep the
// connection alive and the stream ends after its maximum duration.
func TestPipelineEventsTimings(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := testdb.TestSchema(ctx, t)
	deps := httpapi.Deps{Pool: schema.Pool, Logger: testdb.QuietLogger(), Ready: ready}

	t.Run("MaxStreamDuration", func(t *testing.T) {
		t.Parallel()
		srv := newTestServer(t, httpapi.AsAdmin(httpapi.NewRouterWithStreamTimings(deps, httpapi.StreamTimings{Ping: time.Hour, Poll: time.Hour, Max: 50 * time.Millisecond})))
		tp := createPipeline(ctx, t, schema)
		s := openEventStream(t, srv, tp.ID, "")
		requirePipelineFrame(t, s.next(t), "NOT_STARTED")
		s.requireClosed(t)
	})

	t.Run("Ping", func(t *testing.T) {
		t.Parallel()
		srv := newTestServer(t, httpapi.AsAdmin(httpapi.NewRouterWithStreamTimings(deps, httpapi.StreamTimings{Ping: 10 * time.Millisecond, Poll: time.Hour})))
		tp := createPipeline(ctx, t, schema)
		s := openEventStream(t, srv, tp.ID, "")
		requirePipelineFrame(t, s.next(t), "NOT_STARTED")
		require.Equal(t, frame{Event: "ping", Data: "{}"}, s.next(t))
	})

	t.Run("PollingFallback", func(t *testing.T) {
		t.Parallel()
		srv := newTestServer(t, httpapi.AsAdmin(httpapi.NewRouterWithStreamTimings(deps, httpapi.StreamTimings{Ping: time.Hour, Poll: 10 * time.Millisecond})))
		tp := createPipeline(ctx, t, schema)
		s := openEventStream(t, srv, tp.ID, "")
		requirePipelineFrame(t, s.next(t), "NOT_STARTED")

		startJob(ctx, t, schema, tp)
		requirePipelineFrame(t, s.next(t), "RUNNING")
		finishJob(ctx, t, schema, tp)
		requirePipelineFrame(t, s.next(t), "SUCCESS")
		require.Equal(t, frame{Event: "end", Data: `{"status":"SUCCESS"}`}, s.next(t))
		s.requireClosed(t)
	})
}
