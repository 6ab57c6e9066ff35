package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// pipelineStreams holds what the pipeline reads and streams need.
type pipelineStreams struct {
	pool     *pgxpool.Pool
	listener *pipeline.Listener
	logger   *slog.Logger

	// Stream timings (overridable in tests).
	pingEvery, pollEvery, maxStream time.Duration
	// streams counts the open streams per user (Limits.SSEPerUser).
	streams streamCounter
}

func etag(version int64) string { return `W/"p-` + strconv.FormatInt(version, 10) + `"` }

func pathPipelineID(r *http.Request) (uuid.UUID, error) { return pathUUID(r, "pipeline") }

// getPipeline answers GET /pipelines/{id}. A matching If-None-Match is
// answered 304 from the pipeline's head: the listener's cache, kept current
// by the notifications, or one indexed read (pipeline.Listener.Head).
func (s *Server) getPipeline(r *http.Request) (response, error) {
	h := s.pipelines
	id, err := pathPipelineID(r)
	if err != nil {
		return response{}, err
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		head, err := h.listener.Head(r.Context(), h.pool, id)
		if err != nil {
			return response{}, err
		}
		if tag := etag(head.Version); inm == tag {
			return notModified().with("ETag", tag), nil
		}
	}
	p, jobs, err := pipeline.Get(r.Context(), h.pool, id)
	if err != nil {
		return response{}, err
	}
	return ok(pipeline.ToView(p, jobs)).with("ETag", etag(p.Version)).with("Cache-Control", "no-cache"), nil
}

// pipelineEvents streams the pipeline as Server-Sent Events (docs/api.md
// §10.1). Existence is checked before the stream opens (404 as JSON); a
// user holding Limits.SSEPerUser streams already gets 429.
func (s *Server) pipelineEvents(r *http.Request) (response, error) {
	id, err := pathPipelineID(r)
	if err != nil {
		return response{}, err
	}
	h := s.pipelines
	release, err := h.streams.acquire(principalFrom(r.Context()).User.ID, s.Limits.SSEPerUser)
	if err != nil {
		return response{}, err
	}
	var changed <-chan struct{}
	unsubscribe := func() {}
	if h.listener != nil {
		changed, unsubscribe = h.listener.Subscribe(id) // before the first read: no update is missed
	}
	p, jobs, err := pipeline.Get(r.Context(), h.pool, id)
	if err != nil {
		unsubscribe()
		release()
		return response{}, err
	}
	return stream(func(w http.ResponseWriter, r *http.Request) {
		defer release()
		defer unsubscribe()
		h.events(w, r, id, changed, p, jobs)
	}), nil
}

// events writes the stream of pipeline id from its first state.
func (h *pipelineStreams) events(w http.ResponseWriter, r *http.Request, id uuid.UUID, changed <-chan struct{},
	p dbsqlc.Pipeline, jobs []dbsqlc.PipelineJob,
) {
	ctx := r.Context()
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, r, h.logger, errors.New("streaming unsupported by the response writer"))
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	pingEvery, pollEvery, maxStream := orDefault(h.pingEvery, 15*time.Second), orDefault(h.pollEvery, 2*time.Second), orDefault(h.maxStream, 30*time.Minute)
	ctx, cancel := context.WithTimeout(ctx, maxStream)
	defer cancel()

	var sent int64 = -1
	if lei, err := strconv.ParseInt(r.Header.Get("Last-Event-ID"), 10, 64); err == nil {
		sent = lei
	}
	send := func(p dbsqlc.Pipeline, jobs []dbsqlc.PipelineJob) bool {
		if p.Version != sent {
			b, _ := json.Marshal(pipeline.ToView(p, jobs)) //nolint:errchkjson // plain structs
			if _, err := fmt.Fprintf(w, "event: pipeline\nid: %d\ndata: %s\n\n", p.Version, b); err != nil {
				return false
			}
			sent = p.Version
		}
		if pipeline.Status(p.Status).Terminal() {
			_, _ = fmt.Fprintf(w, "event: end\ndata: {\"status\":%q}\n\n", p.Status)
			flusher.Flush()
			return false
		}
		flusher.Flush()
		return true
	}
	if !send(p, jobs) {
		return
	}
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	poll := time.NewTicker(pollEvery)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ping.C:
			if _, err := fmt.Fprint(w, "event: ping\ndata: {}\n\n"); err != nil {
				return
			}
			flusher.Flush()
			continue
		case <-changed:
		case <-poll.C:
			head, err := h.listener.Head(ctx, h.pool, id)
			if err != nil || head.Version == sent {
				continue
			}
		}
		p, jobs, err := pipeline.Get(ctx, h.pool, id)
		if err != nil {
			h.logger.WarnContext(ctx, "pipeline stream read failed", slog.String("error", err.Error()))
			return
		}
		if !send(p, jobs) {
			return
		}
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
