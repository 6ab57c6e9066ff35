package jobs

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// MetricsMiddleware counts worked jobs by kind and outcome and observes
// their duration.
type MetricsMiddleware struct {
	river.MiddlewareDefaults
	worked   *prometheus.CounterVec
	duration *prometheus.HistogramVec
	running  atomic.Int64
}

// Running is the number of jobs this process is working right now.
func (m *MetricsMiddleware) Running() int64 { return m.running.Load() }

// NewMetricsMiddleware registers the job metrics on reg.
func NewMetricsMiddleware(reg prometheus.Registerer) *MetricsMiddleware {
	m := &MetricsMiddleware{
		worked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "co2_river_jobs_worked_total",
			Help: "Job attempts worked by this process, by kind and outcome (completed, failed, cancelled, snoozed).",
		}, []string{"kind", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "co2_river_job_duration_seconds",
			Help:    "Duration of job attempts by kind.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}, []string{"kind"}),
	}
	reg.MustRegister(m.worked, m.duration)
	return m
}

var _ rivertype.WorkerMiddleware = (*MetricsMiddleware)(nil)

// Work implements rivertype.WorkerMiddleware.
func (m *MetricsMiddleware) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	start := time.Now()
	m.running.Add(1)
	err := doInner(ctx)
	m.running.Add(-1)
	m.duration.WithLabelValues(job.Kind).Observe(time.Since(start).Seconds())
	var cancelErr *rivertype.JobCancelError
	var snoozeErr *rivertype.JobSnoozeError
	outcome := "completed"
	switch {
	case err == nil:
	case errors.As(err, &snoozeErr):
		outcome = "snoozed"
	case errors.As(err, &cancelErr):
		outcome = "cancelled"
	default:
		outcome = "failed"
	}
	m.worked.WithLabelValues(job.Kind, outcome).Inc()
	return err
}

// QueueDepthCollector exports co2_river_jobs{queue,state} from river_job,
// refreshed at most every 15 s whatever the scrape rate (the worker HPA
// scales on state="available").
type QueueDepthCollector struct {
	db     postgres.DBTX
	logger *slog.Logger
	desc   *prometheus.Desc
	maxAge time.Duration
	queues []string

	mu      sync.Mutex
	at      time.Time
	samples []dbsqlc.RiverQueueDepthRow
}

// NewQueueDepthCollector builds the collector; every state of the listed
// queues is exported, with 0 when no job is in it.
func NewQueueDepthCollector(db postgres.DBTX, logger *slog.Logger, queues []string) *QueueDepthCollector {
	return &QueueDepthCollector{
		db: db, logger: logger, maxAge: 15 * time.Second, queues: queues,
		desc: prometheus.NewDesc("co2_river_jobs", "River jobs by queue and state (available, running, retryable, scheduled, pending).",
			[]string{"queue", "state"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *QueueDepthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *QueueDepthCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.at) > c.maxAge {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		rows, err := dbsqlc.New(c.db).RiverQueueDepth(ctx)
		cancel()
		if err != nil {
			c.logger.Warn("queue depth query failed", slog.String("error", err.Error()))
		} else {
			c.samples, c.at = rows, time.Now()
		}
	}
	values := map[[2]string]float64{}
	for _, q := range c.queues {
		for _, st := range []string{"available", "running", "retryable", "scheduled", "pending"} {
			values[[2]string{q, st}] = 0
		}
	}
	for _, s := range c.samples {
		values[[2]string{s.Queue, s.State}] = float64(s.Jobs)
	}
	for k, v := range values {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, k[0], k[1])
	}
}
