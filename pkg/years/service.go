package years

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/blob"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/units"
)

// Service is the home of the reporting years (docs/api.md §7, docs/domain.md
// §11): listing and reading them, creating one (with its setup pipeline),
// changing its status and configuration, re-running its setup, the
// data-management matrix, the reduction-objective files, and — on the
// worker side — the setup run itself (RunUnitSync: the unit directory,
// unit_users, the reports of the year, setting_up → ready). The HTTP
// handlers and the accred_unit_sync job are adapters over it.
type Service struct {
	DB postgres.DB
	// Enqueue inserts accred_unit_sync in the caller's transaction, linked
	// to a pipeline (the API sets it: jobs.EnqueueUnitSync); without it the
	// operations that enqueue answer 503.
	Enqueue Enqueuer
	// Blob stores the reduction-objective files; nil answers 503.
	Blob blob.Store
	// MaxBytes bounds a reduction-objective file; 0 means 100 MiB.
	MaxBytes int64
	// ReportsChanged, when set, is called in the transaction of a
	// configuration change that enables or disables modules, to refresh
	// the derived fields of the year's reports (the API sets it to
	// report.RefreshYear: package report builds on this one).
	ReportsChanged func(ctx context.Context, tx pgx.Tx, year int32) error
	// Units is the unit directory of the setup runs (UNIT_PROVIDER).
	Units units.Source
	// Now is the clock; nil is time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// Progress, when set, receives the setup run's progress instead of
	// the job's pipeline reporter (tests).
	Progress func(ctx context.Context, phase string, done, total int64, message string)
}

// Enqueuer inserts accred_unit_sync{year} (year nil: every ready and open
// year, the nightly run) in tx and links it to pipeline pipelineID.
type Enqueuer func(ctx context.Context, tx pgx.Tx, pipelineID uuid.UUID, year *int32) error

// The audit events of the years (docs/jobs.md §11.1).
const (
	EventCreate       = "year.create"
	EventUpdate       = "year.update"
	EventSetup        = "year.setup"
	EventIntegration  = "integration.trigger"
	entityYear        = keyYear
	entityIntegration = "integration"
	integrationAccred = "accred"
	defaultMaxBytes   = 100 << 20
	fieldStatus       = "status"
	codeInvalidEnum   = "invalid_enum"
	codeInvalidFormat = "invalid_format"
	codeOutOfRange    = "out_of_range"
)

// Conflict reasons of the years API (docs/api.md §1.1).
const (
	// ReasonExists refuses creating a year that exists.
	ReasonExists apperr.Reason = "year_exists"
	// ReasonInvalidTransition refuses a status change (or a setup run)
	// that docs/domain.md §11.1 does not allow.
	ReasonInvalidTransition apperr.Reason = "invalid_transition"
)

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// View is the Year object of docs/api.md §7.
type View struct {
	Year             int32           `json:"year"`
	Status           string          `json:"status"`
	Config           json.RawMessage `json:"config"`
	SetupPipelineID  *uuid.UUID      `json:"setup_pipeline_id"`
	SetupCompletedAt *time.Time      `json:"setup_completed_at"`
	OpenedAt         *time.Time      `json:"opened_at"`
	ClosedAt         *time.Time      `json:"closed_at"`
	UpdatedAt        time.Time       `json:"updated_at"`
	// ETag is the entity tag of this version (header only).
	ETag string `json:"-"`
}

// ToView converts a years row.
func ToView(y dbsqlc.Year) View {
	return View{Year: y.Year, Status: y.Status, Config: y.Config, SetupPipelineID: y.SetupPipelineID,
		SetupCompletedAt: y.SetupCompletedAt, OpenedAt: y.OpenedAt, ClosedAt: y.ClosedAt, UpdatedAt: y.UpdatedAt, ETag: ETag(y)}
}

// ETag is the entity tag of a year version: W/"y<year>-<updated_at µs>"
// (every change stamps updated_at).
func ETag(y dbsqlc.Year) string {
	return fmt.Sprintf(`W/"y%d-%d"`, y.Year, y.UpdatedAt.UnixMicro())
}

// Item is one year of the list.
type Item struct {
	Year   int32  `json:"year"`
	Status string `json:"status"`
}

// List lists the years, newest first; non-administrators see only open and
// closed ones (VisibleTo).
func (s *Service) List(ctx context.Context, admin bool) ([]Item, error) {
	rows, err := dbsqlc.New(s.DB).YearsByStatus(ctx, VisibleTo(admin))
	if err != nil {
		return nil, fmt.Errorf("error listing years: %w", err)
	}
	out := make([]Item, len(rows))
	for i, y := range rows {
		out[i] = Item{Year: y.Year, Status: y.Status}
	}
	return out, nil
}

// GetVisible reads year y; a year a non-administrator may not see is 404
// like a missing one.
func (s *Service) GetVisible(ctx context.Context, y int32, admin bool) (View, error) {
	row, err := Get(ctx, dbsqlc.New(s.DB), y)
	if err != nil {
		return View{}, err
	}
	if !slices.Contains(VisibleTo(admin), row.Status) {
		return View{}, &apperr.Error{Code: apperr.CodeNotFound, Message: fmt.Sprintf("year %d not found", y), Cause: ErrNotFound}
	}
	return ToView(row), nil
}

// Created is the answer of Create: the new year and its setup pipeline.
type Created struct {
	Year     View          `json:"year"`
	Pipeline pipeline.View `json:"pipeline"`
}

func (s *Service) enqueuer() (Enqueuer, error) {
	if s.Enqueue == nil {
		return nil, apperr.New(apperr.CodeUnavailable, "the job queue is not configured")
	}
	return s.Enqueue, nil
}

// Create creates year y in setting_up with the configuration of the latest
// earlier year (its reduction-objective files left out: they belong to
// that year) or the defaults, and starts its setup: a year_setup pipeline
// with accred_unit_sync{y}, in one transaction with the year.create audit
// event. An existing year is 409 year_exists.
func (s *Service) Create(ctx context.Context, y int32, by *int64) (Created, error) {
	enqueue, err := s.enqueuer()
	if err != nil {
		return Created{}, err
	}
	if !Valid(int64(y)) {
		return Created{}, apperr.Validation("1 field is invalid", apperr.FieldError{Field: keyYear, Code: codeOutOfRange,
			Message: fmt.Sprintf("must be a year between %d and %d", Min, Max)})
	}
	out, err := postgres.WithTxV(ctx, s.DB, func(ctx context.Context, tx pgx.Tx) (Created, error) {
		q := dbsqlc.New(tx)
		if _, err := q.YearGet(ctx, y); err == nil {
			return Created{}, exists(y)
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return Created{}, fmt.Errorf("error reading year %d: %w", y, err)
		}
		cfg, err := initialConfig(ctx, q, y)
		if err != nil {
			return Created{}, err
		}
		if _, err := q.YearCreate(ctx, dbsqlc.YearCreateParams{Year: y, Status: new(string(StatusSettingUp)), Config: cfg, CreatedBy: by}); err != nil {
			return Created{}, fmt.Errorf("error creating year %d: %w", y, err)
		}
		p, err := s.startSetup(ctx, tx, enqueue, y, by)
		if err != nil {
			return Created{}, err
		}
		row, err := q.YearStartSetup(ctx, dbsqlc.YearStartSetupParams{SetupPipelineID: &p.ID, Year: y})
		if err != nil {
			return Created{}, fmt.Errorf("error recording the setup pipeline: %w", err)
		}
		if err := audit.Record(ctx, tx, by, audit.Event{Action: audit.ActionCreate, Event: EventCreate,
			EntityType: entityYear, EntityID: strconv.Itoa(int(y)), Snapshot: snapshot(row),
			RequestPayload: map[string]any{keyYear: y}}); err != nil {
			return Created{}, fmt.Errorf("error auditing year.create: %w", err)
		}
		return Created{Year: ToView(row), Pipeline: p}, nil
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.TableName == "years" {
		return Created{}, exists(y) // a concurrent create won
	}
	return out, err
}

func exists(y int32) error {
	return apperr.WithReason(apperr.CodeConflict, ReasonExists, "year %d exists", y)
}

// initialConfig is the configuration of a new year.
func initialConfig(ctx context.Context, q *dbsqlc.Queries, y int32) (json.RawMessage, error) {
	prev, err := q.YearLatestBefore(ctx, y)
	if errors.Is(err, pgx.ErrNoRows) {
		return json.Marshal(DefaultConfig())
	}
	if err != nil {
		return nil, fmt.Errorf("error reading the year before %d: %w", y, err)
	}
	cfg, err := decodeObject(prev.Config)
	if err != nil {
		return json.Marshal(DefaultConfig())
	}
	if ro, ok := cfg[keyObjectives].(map[string]any); ok {
		ro[keyFiles] = noFiles()
	}
	return json.Marshal(cfg)
}

// startSetup creates a year_setup pipeline and enqueues its job in tx.
func (s *Service) startSetup(ctx context.Context, tx pgx.Tx, enqueue Enqueuer, y int32, by *int64) (pipeline.View, error) {
	p, err := pipeline.Create(ctx, tx, pipeline.CreateParams{Kind: pipeline.KindYearSetup, Trigger: pipeline.TriggerUser, Year: &y, CreatedBy: by})
	if err != nil {
		return pipeline.View{}, err
	}
	if err := enqueue(ctx, tx, p.ID, &y); err != nil {
		return pipeline.View{}, err
	}
	pl, jobs, err := pipeline.Get(ctx, tx, p.ID)
	if err != nil {
		return pipeline.View{}, err
	}
	return pipeline.ToView(pl, jobs), nil
}

// snapshot is the audited state of a year.
func snapshot(y dbsqlc.Year) map[string]any {
	return map[string]any{keyYear: y.Year, fieldStatus: y.Status, "config": y.Config, "setup_pipeline_id": y.SetupPipelineID}
}

// Setup re-runs the setup of year y (docs/api.md §7): a setup_failed year
// goes back to setting_up, a ready or open year is resynchronised (it keeps
// its status), and so is a setting_up year whose setup pipeline ended
// without completing it (cancelled before it ran, or its worker lost). A
// setup still running, or a closed year, is 409 invalid_transition.
// Audited year.setup.
func (s *Service) Setup(ctx context.Context, y int32, by *int64) (pipeline.View, error) {
	enqueue, err := s.enqueuer()
	if err != nil {
		return pipeline.View{}, err
	}
	return postgres.WithTxV(ctx, s.DB, func(ctx context.Context, tx pgx.Tx) (pipeline.View, error) {
		q := dbsqlc.New(tx)
		row, err := getForUpdate(ctx, q, y)
		if err != nil {
			return pipeline.View{}, err
		}
		switch Status(row.Status) {
		case StatusSetupFailed, StatusReady, StatusOpen:
		case StatusSettingUp:
			if running, id, err := setupRunning(ctx, q, row); err != nil {
				return pipeline.View{}, err
			} else if running {
				return pipeline.View{}, invalidTransition("the setup of %d is running (pipeline %s)", y, id)
			}
		default:
			return pipeline.View{}, invalidTransition("year %d is %s: its setup cannot run", y, row.Status)
		}
		p, err := s.startSetup(ctx, tx, enqueue, y, by)
		if err != nil {
			return pipeline.View{}, err
		}
		after, err := q.YearStartSetup(ctx, dbsqlc.YearStartSetupParams{SetupPipelineID: &p.ID, Year: y})
		if err != nil {
			return pipeline.View{}, fmt.Errorf("error recording the setup pipeline: %w", err)
		}
		if err := audit.Record(ctx, tx, by, audit.Event{Action: audit.ActionUpdate, Event: EventSetup,
			EntityType: entityYear, EntityID: strconv.Itoa(int(y)), Snapshot: snapshot(after),
			RequestPayload: map[string]any{"previous_status": row.Status}}); err != nil {
			return pipeline.View{}, fmt.Errorf("error auditing year.setup: %w", err)
		}
		return p, nil
	})
}

// setupRunning tells whether the setup pipeline of a setting_up year is
// still unfinished.
func setupRunning(ctx context.Context, q *dbsqlc.Queries, y dbsqlc.Year) (bool, uuid.UUID, error) {
	if y.SetupPipelineID == nil {
		return false, uuid.Nil, nil
	}
	p, err := q.PipelineGet(ctx, *y.SetupPipelineID)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, uuid.Nil, nil
	}
	if err != nil {
		return false, uuid.Nil, fmt.Errorf("error reading the setup pipeline: %w", err)
	}
	return !pipeline.Status(p.Status).Terminal(), p.ID, nil
}

func getForUpdate(ctx context.Context, q *dbsqlc.Queries, y int32) (dbsqlc.Year, error) {
	row, err := q.YearGetForUpdate(ctx, y)
	if errors.Is(err, pgx.ErrNoRows) {
		return row, &apperr.Error{Code: apperr.CodeNotFound, Message: fmt.Sprintf("year %d not found", y), Cause: ErrNotFound}
	}
	if err != nil {
		return row, fmt.Errorf("error locking year %d: %w", y, err)
	}
	return row, nil
}

func invalidTransition(format string, args ...any) error {
	return apperr.WithReason(apperr.CodeConflict, ReasonInvalidTransition, format, args...)
}

// SyncUnits starts the unit sync of POST /integrations/accred/sync: the
// same run as the nightly one (every ready and open year), in an
// accred_sync pipeline. Audited integration.trigger.
func (s *Service) SyncUnits(ctx context.Context, by *int64) (pipeline.View, error) {
	enqueue, err := s.enqueuer()
	if err != nil {
		return pipeline.View{}, err
	}
	return postgres.WithTxV(ctx, s.DB, func(ctx context.Context, tx pgx.Tx) (pipeline.View, error) {
		p, err := pipeline.Create(ctx, tx, pipeline.CreateParams{Kind: pipeline.KindAccredSync, Trigger: pipeline.TriggerUser, CreatedBy: by})
		if err != nil {
			return pipeline.View{}, err
		}
		if err := enqueue(ctx, tx, p.ID, nil); err != nil {
			return pipeline.View{}, err
		}
		if err := audit.Record(ctx, tx, by, audit.Event{Action: audit.ActionCreate, Event: EventIntegration,
			EntityType: entityIntegration, EntityID: integrationAccred,
			Snapshot: map[string]any{"integration": integrationAccred, "pipeline_id": p.ID.String()}}); err != nil {
			return pipeline.View{}, fmt.Errorf("error auditing integration.trigger: %w", err)
		}
		pl, jobs, err := pipeline.Get(ctx, tx, p.ID)
		if err != nil {
			return pipeline.View{}, err
		}
		return pipeline.ToView(pl, jobs), nil
	})
}
