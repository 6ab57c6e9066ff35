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

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

type pipelineHandlers struct {
	pool     *pgxpool.Pool
	listener *pipeline.Listener
	logger   *slog.Logger

	// Stream timings (overridable in tests).
	pingEvery, pollEvery, maxStream time.Duration
}

func etag(version int64) string { return fmt.Sprintf(`W/"p-%d"`, version) }

func parsePipelineID(r *http.Request) (uuid.UUID, error) {
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		return uuid.Nil, apperr.NotFound("pipeline %q not found", chi.URLParam(r, "id"))
	}
	return id, nil
}

// get answers GET /pipelines/{id}. A matching If-None-Match is answered 304
// after one indexed read of the version.
func (h *pipelineHandlers) get(w http.ResponseWriter, r *http.Request) {
	id, err := parsePipelineID(r)
	if err != nil {
		writeError(w, r, h.logger, err)
		return
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		pv, err := dbsqlc.New(h.pool).PipelineVersion(r.Context(), id)
		if errors.Is(err, pgx.ErrNoRows) {
			writeError(w, r, h.logger, apperr.NotFound("pipeline %s not found", id))
			return
		}
		if err != nil {
			writeError(w, r, h.logger, err)
			return
		}
		if inm == etag(pv.Version) {
			w.Header().Set("ETag", etag(pv.Version))
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	p, jobs, err := pipeline.Get(r.Context(), h.pool, id)
	if err != nil {
		writeError(w, r, h.logger, err)
		return
	}
	w.Header().Set("ETag", etag(p.Version))
	w.Header().Set("Cache-Control", "no-cache")
	writeJSON(w, http.StatusOK, pipeline.ToView(p, jobs))
}

// events streams the pipeline as Server-Sent Events (api.md §10.1).
func (h *pipelineHandlers) events(w http.ResponseWriter, r *http.Request) {
	id, err := parsePipelineID(r)
	if err != nil {
		writeError(w, r, h.logger, err)
		return
	}
	ctx := r.Context()
	var changed <-chan struct{}
	if h.listener != nil {
		ch, unsubscribe := h.listener.Subscribe(id) // before the first read: no update is missed
		defer unsubscribe()
		changed = ch
	}
	p, jobs, err := pipeline.Get(ctx, h.pool, id)
	if err != nil {
		writeError(w, r, h.logger, err)
		return
	}
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
			pv, err := dbsqlc.New(h.pool).PipelineVersion(ctx, id)
			if err != nil || pv.Version == sent {
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
