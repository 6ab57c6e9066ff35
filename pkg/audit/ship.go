package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// Shipping the trail to Elasticsearch (docs/jobs.md §11.4): the audit_ship
// job calls Shipper.Run every minute.
//
// A run sends batches until nothing is due or its budget is spent. Each
// batch is one transaction: it locks the next pending, due events in seq
// order (at most one per entity: an event waits while an earlier event of
// its entity is pending, so the events of an entity are acknowledged in
// seq order), marks the skipped kinds, POSTs the others to _bulk and
// records each item's answer — accepted (201, or 409: already there) →
// shipped; refused → one more attempt, due again after
// min(2^attempts min, 6 h), failed after 20 attempts. A request that fails
// as a whole (network, 5xx, 429, 401…) gives every event of the batch that
// treatment and ends the run. Documents are created with _id = the event
// id, so a re-send (after a lost answer or a lost commit) is answered 409
// and never duplicates a document. Once Elasticsearch accepts a request
// again, the events that wait only because whole requests failed are due
// at once (the backlog of an outage drains in the same run); item-level
// refusals keep their backoff.

// Shipping defaults (docs/jobs.md §11.4).
const (
	DefaultShipBatch       = 500
	DefaultShipBudget      = 50 * time.Second
	DefaultShipMaxAttempts = 20
)

// ReasonNotConfigured is the failure of audit_ship without Elasticsearch
// (ES_URLS), the code other integrations use too.
const ReasonNotConfigured apperr.Reason = "integration_not_configured"

// requestFailedPrefix starts the ship_error of a failure of a whole
// request (AuditShipResume finds them by it).
const requestFailedPrefix = "request failed: "

// Integration statuses recorded in integration_state('elasticsearch').
const (
	shipStatusSuccess = "SUCCESS"
	shipStatusPartial = "PARTIAL"
	shipStatusFailed  = "FAILED"
)

// ShipConfig is the shipping configuration (ES_*, AUDIT_*).
type ShipConfig struct {
	Client *ElasticClient
	// IndexPattern is ES_INDEX_PATTERN ("": DefaultIndexPattern).
	IndexPattern string
	// Location is AUDIT_TIMEZONE, the zone of @timestamp (nil: UTC).
	Location *time.Location
	// Batch is AUDIT_SHIP_BATCH, the events per request (0: 500).
	Batch int
	// SkipEvents are AUDIT_SHIP_SKIP_EVENTS: events marked skipped,
	// never sent.
	SkipEvents []string
	// Env is APP_ENV, the "env" field of the documents.
	Env string
	// Budget bounds a run (0: 50 s; the job's timeout is 55 s).
	Budget time.Duration
	// MaxAttempts is the attempts before an event is failed (0: 20).
	MaxAttempts int
}

// Shipper ships the pending events of the trail.
type Shipper struct {
	DB postgres.DB
	ShipConfig
	// Now is the clock of the shipping columns (nil: time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// ShipReport is the outcome of one run.
type ShipReport struct {
	Shipped, Skipped, Refused int // events of this run: acknowledged, skipped, refused (item or request)
	Requests                  int // _bulk requests sent
	// Pending and Failed are the counts after the run.
	Pending, Failed int64
	// Err is the failure of a whole request that ended the run (nil when
	// Elasticsearch answered every request).
	Err error
}

func (s *Shipper) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// errBudget ends a batch whose request the run's budget cut, and
// errProbeFailed a probe Elasticsearch did not accept: both are rolled
// back, their events stay as they were.
var (
	errBudget      = errors.New("shipping budget spent")
	errProbeFailed = errors.New("probe failed")
)

// Run ships batches until nothing is due, a request fails or the budget is
// spent, then records the outcome in integration_state('elasticsearch').
// The error is a database error (or ctx's); a failed request is in
// ShipReport.Err.
//
// When nothing is due but events wait because whole requests failed, the
// run sends the oldest of them alone (once per run): if Elasticsearch
// accepts it, the others are due at once and the backlog drains in this
// run; if not, nothing changes (the probe costs the event no attempt).
func (s *Shipper) Run(ctx context.Context) (ShipReport, error) {
	budget := s.Budget
	if budget <= 0 {
		budget = DefaultShipBudget
	}
	sendCtx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	var rep ShipReport
	resumed, probed := false, false
	for sendCtx.Err() == nil {
		mode := batchMode{resume: !resumed}
		b, err := s.batch(ctx, sendCtx, mode)
		if err == nil && b.selected == 0 && !resumed && !probed {
			probed, mode.probe = true, true
			b, err = s.batch(ctx, sendCtx, mode)
		}
		rep.add(b)
		switch {
		case errors.Is(err, errBudget), errors.Is(err, errProbeFailed):
			return s.finish(ctx, rep)
		case err != nil:
			return rep, err
		case b.requestErr != nil, b.selected == 0:
			return s.finish(ctx, rep)
		}
		resumed = resumed || b.request
	}
	return s.finish(ctx, rep)
}

// finish records the run and returns its report.
func (s *Shipper) finish(ctx context.Context, rep ShipReport) (ShipReport, error) {
	if err := s.record(ctx, &rep); err != nil {
		return rep, err
	}
	return rep, nil
}

// batchMode says what a batch does: resume makes the events held back by
// failed requests due again once a request is answered; probe sends only
// the oldest of them, and rolls back if Elasticsearch does not answer.
type batchMode struct {
	resume, probe bool
}

// batchOutcome is what one batch did.
type batchOutcome struct {
	selected         int
	shipped, skipped []int64
	refused          []int64
	errors           []string // the error of each refused event
	request          bool     // a _bulk request was answered
	requestErr       error    // the request failed as a whole
}

func (rep *ShipReport) add(b batchOutcome) {
	rep.Shipped += len(b.shipped)
	rep.Skipped += len(b.skipped)
	rep.Refused += len(b.refused)
	if b.request || b.requestErr != nil {
		rep.Requests++
	}
	if b.requestErr != nil {
		rep.Err = b.requestErr
	}
}

// selectBatch locks the events of a batch, or the one of a probe. The
// pending events are walked in windows of 4 × size (at least 1 000), from
// the oldest, until the batch is full or the pending events end: a batch
// costs the same whatever the backlog (and the planner's statistics).
func selectBatch(ctx context.Context, q *dbsqlc.Queries, now time.Time, size int, probe bool) ([]dbsqlc.AuditShipBatchRow, error) {
	if probe {
		rows, err := q.AuditShipProbe(ctx, dbsqlc.AuditShipProbeParams{Now: now, RequestPrefix: requestFailedPrefix})
		out := make([]dbsqlc.AuditShipBatchRow, len(rows))
		for i, r := range rows {
			out[i] = dbsqlc.AuditShipBatchRow(r)
		}
		return out, err
	}
	window := int32(max(4*size, 1000))
	var out []dbsqlc.AuditShipBatchRow
	for after := int64(0); len(out) < size; {
		w, err := q.AuditShipWindow(ctx, dbsqlc.AuditShipWindowParams{AfterSeq: after, WindowSize: window})
		if err != nil || w.Size == 0 {
			return out, err
		}
		rows, err := q.AuditShipBatch(ctx, dbsqlc.AuditShipBatchParams{Now: now, AfterSeq: after, UntilSeq: w.LastSeq,
			MaxRows: int32(size - len(out))})
		if err != nil {
			return out, err
		}
		out = append(out, rows...)
		if w.Size < window {
			return out, nil
		}
		after = w.LastSeq
	}
	return out, nil
}

// batch ships one batch in one transaction. Requests are sent with sendCtx
// (the run's budget).
func (s *Shipper) batch(ctx, sendCtx context.Context, mode batchMode) (batchOutcome, error) {
	size := s.Batch
	if size <= 0 {
		size = DefaultShipBatch
	}
	var b batchOutcome
	err := postgres.WithTx(ctx, s.DB, func(ctx context.Context, tx pgx.Tx) error {
		b = batchOutcome{}
		q := dbsqlc.New(tx)
		now := s.now()
		rows, err := selectBatch(ctx, q, now, size, mode.probe)
		if err != nil {
			return fmt.Errorf("error selecting audit events to ship: %w", err)
		}
		b.selected = len(rows)
		body, sent := s.encode(rows, &b)
		if len(b.skipped) > 0 {
			if err := q.AuditShipMarkSkipped(ctx, b.skipped); err != nil {
				return fmt.Errorf("error marking skipped audit events: %w", err)
			}
		}
		if len(sent) > 0 {
			results, err := s.Client.bulk(sendCtx, body, len(sent))
			switch {
			case err != nil && ctx.Err() != nil:
				return ctx.Err()
			case err != nil && sendCtx.Err() != nil:
				return errBudget
			case err != nil && mode.probe:
				b.requestErr = err
				return errProbeFailed
			case err != nil:
				b.requestErr = err
				for _, id := range sent {
					b.refused, b.errors = append(b.refused, id), append(b.errors, requestFailedPrefix+err.Error())
				}
			default:
				b.request = true
				for i, res := range results {
					if res.accepted() {
						b.shipped = append(b.shipped, sent[i])
					} else {
						b.refused, b.errors = append(b.refused, sent[i]), append(b.errors, res.Err)
					}
				}
			}
		}
		return s.store(ctx, q, now, b, mode)
	})
	if b.requestErr != nil {
		s.logger().WarnContext(ctx, "audit shipping: Elasticsearch did not accept the request",
			slog.Int("events", b.selected), slog.Bool("probe", mode.probe), slog.String("error", b.requestErr.Error()))
	}
	if err != nil { // rolled back: nothing was recorded
		b.shipped, b.skipped, b.refused, b.request = nil, nil, nil, false
	}
	return b, err
}

// encode builds the _bulk body of rows: the skipped kinds go to b.skipped,
// a document that cannot be built to b.refused; sent are the ids of the
// documents in the body, in order.
func (s *Shipper) encode(rows []dbsqlc.AuditShipBatchRow, b *batchOutcome) ([]byte, []int64) {
	pattern := s.IndexPattern
	if pattern == "" {
		pattern = DefaultIndexPattern
	}
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	var body bytes.Buffer
	var sent []int64
	for _, r := range rows {
		if slices.Contains(s.SkipEvents, r.Event) {
			b.skipped = append(b.skipped, r.ID)
			continue
		}
		doc, err := document(r, loc, s.Env)
		if err == nil {
			err = appendBulk(&body, IndexName(pattern, r.OccurredAt), r.ID, doc)
		}
		if err != nil {
			b.refused, b.errors = append(b.refused, r.ID), append(b.errors, "document: "+err.Error())
			continue
		}
		sent = append(sent, r.ID)
	}
	return body.Bytes(), sent
}

// store records the answers of a batch: shipped, refused (one more
// attempt), and — once a request is answered — the end of the backoff of
// the events held back by failed requests.
func (s *Shipper) store(ctx context.Context, q *dbsqlc.Queries, now time.Time, b batchOutcome, mode batchMode) error {
	maxAttempts := s.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = DefaultShipMaxAttempts
	}
	if len(b.shipped) > 0 {
		if err := q.AuditShipMarkShipped(ctx, dbsqlc.AuditShipMarkShippedParams{Now: now, Ids: b.shipped}); err != nil {
			return fmt.Errorf("error marking shipped audit events: %w", err)
		}
	}
	if len(b.refused) > 0 {
		if err := q.AuditShipMarkFailed(ctx, dbsqlc.AuditShipMarkFailedParams{Ids: b.refused, Errors: b.errors,
			MaxAttempts: int32(maxAttempts), Now: now}); err != nil {
			return fmt.Errorf("error recording refused audit events: %w", err)
		}
	}
	if mode.resume && b.request {
		if _, err := q.AuditShipResume(ctx, dbsqlc.AuditShipResumeParams{Now: now, RequestPrefix: requestFailedPrefix}); err != nil {
			return fmt.Errorf("error resuming audit events after an outage: %w", err)
		}
	}
	return nil
}

func (s *Shipper) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// record counts the pending and failed events and records the run in
// integration_state('elasticsearch').
func (s *Shipper) record(ctx context.Context, rep *ShipReport) error {
	q := dbsqlc.New(s.DB)
	counts, err := q.AuditShipCounts(ctx)
	if err != nil {
		return fmt.Errorf("error counting unshipped audit events: %w", err)
	}
	rep.Pending, rep.Failed = counts.Pending, counts.Failed
	status, msg := shipStatusSuccess, fmt.Sprintf("shipped %d events in %d requests; %d pending, %d failed",
		rep.Shipped, rep.Requests, rep.Pending, rep.Failed)
	switch {
	case rep.Err != nil:
		status, msg = shipStatusFailed, rep.Err.Error()
	case rep.Refused > 0:
		status, msg = shipStatusPartial, fmt.Sprintf("shipped %d events, %d refused (re-sent later); %d pending, %d failed",
			rep.Shipped, rep.Refused, rep.Pending, rep.Failed)
	}
	details, err := json.Marshal(map[string]any{
		"pending": rep.Pending, "failed": rep.Failed,
		"last_run": map[string]any{"shipped": rep.Shipped, "skipped": rep.Skipped, "refused": rep.Refused, "requests": rep.Requests},
	})
	if err != nil {
		return err
	}
	if err := q.AuditShipRecordState(ctx, dbsqlc.AuditShipRecordStateParams{Now: s.now(), Success: rep.Err == nil,
		LastStatus: &status, LastMessage: &msg, Details: details}); err != nil {
		return fmt.Errorf("error recording the shipping state: %w", err)
	}
	return nil
}
