package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/co2-calculator/co2-calculator/pkg/buildinfo"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// DefaultHeartbeatInterval is how often a worker records itself.
const DefaultHeartbeatInterval = 15 * time.Second

// maxHostLength keeps worker ids within River's 100-character client id.
const maxHostLength = 60

// NewWorkerID returns a fresh id for this process: the host name and a
// random suffix ("worker-7d9f-abc12345"). Use it both as the heartbeat id
// and as river.Config.ID.
func NewWorkerID() string {
	host, _ := os.Hostname()
	host = strings.TrimSpace(host)
	if host == "" {
		host = "worker"
	}
	if len(host) > maxHostLength {
		host = host[:maxHostLength]
	}
	return host + "-" + uuid.NewString()[:8]
}

// HeartbeatConfig describes the worker process a Heartbeat records.
type HeartbeatConfig struct {
	// ID is the worker id (NewWorkerID), also its River client id.
	ID string
	// Queues maps each queue the worker serves to its MaxWorkers.
	Queues map[string]int
	// Running returns the number of jobs the worker is running (nil: 0).
	Running func() int64
	// Interval between two heartbeats (0: DefaultHeartbeatInterval).
	Interval time.Duration
}

// Heartbeat records a worker process in the workers table: the ops page
// lists it, and the reapers of the other workers know it is alive.
type Heartbeat struct {
	db      postgres.DBTX
	logger  *slog.Logger
	cfg     HeartbeatConfig
	host    string
	started time.Time
}

// NewHeartbeat returns the heartbeat of the worker cfg.ID.
func NewHeartbeat(db postgres.DBTX, logger *slog.Logger, cfg HeartbeatConfig) *Heartbeat {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultHeartbeatInterval
	}
	host, _ := os.Hostname()
	return &Heartbeat{db: db, logger: logger, cfg: cfg, host: host, started: time.Now()}
}

// ID is the worker id.
func (h *Heartbeat) ID() string { return h.cfg.ID }

// Beat records the worker now (creating its row on the first call).
func (h *Heartbeat) Beat(ctx context.Context) error {
	queues, err := json.Marshal(h.cfg.Queues)
	if err != nil {
		return fmt.Errorf("error encoding queues: %w", err)
	}
	var running int64
	if h.cfg.Running != nil {
		running = h.cfg.Running()
	}
	err = dbsqlc.New(h.db).WorkerHeartbeat(ctx, dbsqlc.WorkerHeartbeatParams{
		ID: h.cfg.ID, Hostname: h.host, Queues: queues, Version: buildinfo.Version, GitSha: buildinfo.SHA(),
		RunningJobs: int32(min(running, 1<<30)), StartedAt: h.started,
	})
	if err != nil {
		return fmt.Errorf("error recording heartbeat of worker %s: %w", h.cfg.ID, err)
	}
	return nil
}

// Run beats every Interval until ctx ends; call Beat once before (the
// worker must be registered before its River client fetches a job).
// Failures are logged: the next beat retries.
func (h *Heartbeat) Run(ctx context.Context) {
	t := time.NewTicker(h.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := h.Beat(ctx); err != nil && ctx.Err() == nil {
			h.logger.WarnContext(ctx, "heartbeat failed", slog.String("worker_id", h.cfg.ID), slog.String("error", err.Error()))
		}
	}
}

// Remove deletes the worker's row, once its River client has stopped (no
// job of it is `running` any more).
func (h *Heartbeat) Remove(ctx context.Context) error {
	if err := dbsqlc.New(h.db).WorkerDelete(ctx, h.cfg.ID); err != nil {
		return fmt.Errorf("error removing worker %s: %w", h.cfg.ID, err)
	}
	return nil
}
