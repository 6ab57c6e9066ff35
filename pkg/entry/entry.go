// Package entry is the module data service: validation of entry payloads
// per submodule (docs/domain.md §7), the interactive create / get / list /
// update / delete of data entries with their emissions (docs/domain.md §9), and
// the reference lookups the entry forms use (taxonomies, locations,
// distance preview, building rooms, check-unique). It is pure business
// logic over a database handle (a pool or a transaction); the HTTP adapter
// is package httpapi.
//
// Every write runs in one transaction: scope and year checks (D5, R2.7),
// validation and system fields, the entry row, the emission rows and entry
// totals (calc.ComputeAndStore), the module status and dirty stats (D6),
// then the audit hook.
package entry

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// DefaultCurrencies is the default ECB_CURRENCIES list (docs/architecture.md §5).
var DefaultCurrencies = []string{"AUD", "CAD", "CHF", "CNY", "GBP", "JPY", "SEK", "USD"}

// Actor is the caller of a service method.
type Actor struct {
	// UserID is stored as created_by / updated_by (nil for anonymous
	// callers in tests).
	UserID *int64
	// OwnSciper, when not empty, restricts the caller to its own trips
	// (own-scope rules, docs/domain.md §9.3, D7): lists of plane/train show only
	// its trips, other trips are 404 and creates for others are refused.
	OwnSciper string
}

// Scope is the report module and submodule named by a URL
// (/units/{unit}/years/{year}/modules/{module}/{submodule}).
type Scope struct {
	UnitID    int64
	Year      int32
	Module    emission.ModuleKey
	Submodule emission.SubmoduleKey
}

// UserRef names a user (created_by).
type UserRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Entry is an entry as the API shows it.
type Entry struct {
	Row dbsqlc.DataEntry
	// Data holds every field of the submodule (nil when absent).
	Data map[string]any
	// Details are the engine's derived values (docs/api.md §2 computed keys).
	Details        emission.Details
	ReadOnly       bool
	AboveThreshold bool
	CreatedBy      *UserRef
	// TravelerName is the member of the unit's headcount with the trip's
	// SCIPER (plane, train), else nil.
	TravelerName *string
	// Emissions are set by Get, Create and Update.
	Emissions []dbsqlc.Emission
	// ModuleReopened is set by Create and Update when the write moved a
	// validated module back to in_progress (D6, docs/domain.md §10).
	ModuleReopened bool
}

// Service is the module data service.
type Service struct {
	DB postgres.DB
	// Now stamps computed_at of emission rows; nil is time.Now.
	Now func() time.Time
	// Currencies are the configured ECB currencies (ECB_CURRENCIES); nil
	// is DefaultCurrencies.
	Currencies []string
	// EnqueueAggregate inserts the aggregate job of a year in the write's
	// transaction (whoever changes emissions enqueues aggregate{year},
	// docs/jobs.md §2.3; a unique duplicate is fine); nil enqueues nothing.
	EnqueueAggregate AggregateEnqueuer
}

// AggregateEnqueuer inserts aggregate{year} in tx (package jobs is not
// imported here: the job packages use this one).
type AggregateEnqueuer func(ctx context.Context, tx pgx.Tx, year int32) error

// New returns a service over db (a pool, or a transaction in tests).
func New(db postgres.DB) *Service { return &Service{DB: db} }

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) currencies() []string {
	if s.Currencies != nil {
		return s.Currencies
	}
	return DefaultCurrencies
}

// Errors.

func errEntryNotFound() error { return apperr.NotFound("entry not found") }

func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

func isUniqueViolation(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && pg.Code == "23505"
}
