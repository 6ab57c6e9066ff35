// Package years is the home of the reporting years (docs/domain.md §11,
// docs/api.md §7). It holds the one rule of the year lifecycle (this file):
// which operations a year accepts in each of its statuses, and the refusal
// every other status gets — the API (409 with the refusal code) and every
// job (a permanent failure with the same code) ask Allow or Load; nothing
// else compares year statuses. Service (service.go and the files next to
// it) is everything else about years: list and read them, create one with
// its setup pipeline, change its status along §11.1 and its configuration
// (config.go: deep merge, validation by path), re-run its setup, the
// data-management matrix (datastatus.go), the reduction-objective files
// (objectives.go), and the setup run of the accred_unit_sync job (setup.go,
// on the unit directory of package units).
package years

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// Status is years.status.
type Status string

// The statuses of docs/domain.md §11.1.
const (
	StatusSettingUp   Status = "setting_up"
	StatusSetupFailed Status = "setup_failed"
	StatusReady       Status = "ready"
	StatusOpen        Status = "open"
	StatusClosed      Status = "closed"
)

// Statuses lists every status in lifecycle order.
func Statuses() []Status {
	return []Status{StatusSettingUp, StatusSetupFailed, StatusReady, StatusOpen, StatusClosed}
}

// Op is what a caller wants to do with a year's data.
type Op int

const (
	// OpDataEntry covers the writes of lab members: entry create, update
	// and delete, module status changes, report creation and module-page
	// (unit-scope) uploads and their imports. Only an open year accepts
	// them (D5).
	OpDataEntry Op = iota
	// OpImport covers back-office uploads (data for all units, factors,
	// reference data), their imports, and the years whose emissions follow
	// a reference or exchange-rate change: ready or open years.
	OpImport
	// OpRecalc covers recomputing stored emissions: every year but a
	// closed one, whose numbers are frozen.
	OpRecalc
)

func (o Op) String() string {
	switch o {
	case OpDataEntry:
		return "data entry"
	case OpImport:
		return "import"
	case OpRecalc:
		return "recalculation"
	}
	return fmt.Sprintf("Op(%d)", int(o))
}

// The refusal codes: the 409 code of the API and the failure code of a job.
const (
	ReasonNotOpen  apperr.Reason = "year_not_open"
	ReasonNotReady apperr.Reason = "year_not_ready"
	ReasonClosed   apperr.Reason = "year_closed"
)

// Bounds of a year in paths, queries and bodies; outside them no year can
// exist.
const (
	Min = 2000
	Max = 2100
)

// Valid reports whether y is within [Min, Max].
func Valid(y int64) bool { return y >= Min && y <= Max }

// Allow is the rule: nil when a year in status st accepts op, else a
// conflict (409) whose Reason is the refusal code.
func Allow(y int32, st Status, op Op) error {
	switch op {
	case OpDataEntry:
		switch st {
		case StatusOpen:
			return nil
		case StatusClosed:
			return refuse(ReasonClosed, "year %d is closed", y)
		default:
			return refuse(ReasonNotOpen, "year %d is not open", y)
		}
	case OpImport:
		switch st {
		case StatusReady, StatusOpen:
			return nil
		case StatusClosed:
			return refuse(ReasonClosed, "year %d is closed", y)
		default:
			return refuse(ReasonNotReady, "year %d is not ready (%s)", y, st)
		}
	case OpRecalc:
		if st == StatusClosed {
			return refuse(ReasonClosed, "year %d is closed", y)
		}
		return nil
	}
	return fmt.Errorf("unknown year operation %d", int(op))
}

// Accepting lists the statuses that accept op, for queries that select
// years by status.
func Accepting(op Op) []string {
	var out []string
	for _, st := range Statuses() {
		if Allow(0, st, op) == nil {
			out = append(out, string(st))
		}
	}
	return out
}

func refuse(reason apperr.Reason, format string, args ...any) error {
	return apperr.WithReason(apperr.CodeConflict, reason, format, args...)
}

// ErrNotFound is the cause of the 404 of a year that does not exist.
var ErrNotFound = errors.New("year not found")

// Reader reads a year row (*dbsqlc.Queries is one).
type Reader interface {
	YearGet(ctx context.Context, year int32) (dbsqlc.Year, error)
}

// Load reads year y and applies Allow for op. A missing year is a 404
// (apperr not_found wrapping ErrNotFound).
func Load(ctx context.Context, q Reader, y int32, op Op) (dbsqlc.Year, error) {
	row, err := Get(ctx, q, y)
	if err != nil {
		return row, err
	}
	return row, Allow(y, Status(row.Status), op)
}

// Get reads year y; a missing year is a 404 (apperr not_found wrapping
// ErrNotFound).
func Get(ctx context.Context, q Reader, y int32) (dbsqlc.Year, error) {
	row, err := q.YearGet(ctx, y)
	if errors.Is(err, pgx.ErrNoRows) {
		return row, &apperr.Error{Code: apperr.CodeNotFound, Message: fmt.Sprintf("year %d not found", y), Cause: ErrNotFound}
	}
	if err != nil {
		return row, fmt.Errorf("error reading year %d: %w", y, err)
	}
	return row, nil
}

// VisibleTo lists the statuses of the years a user sees (docs/domain.md
// §11.1): administrators see every year, others only open and closed ones.
func VisibleTo(admin bool) []string {
	if admin {
		out := make([]string, 0, len(Statuses()))
		for _, st := range Statuses() {
			out = append(out, string(st))
		}
		return out
	}
	return []string{string(StatusOpen), string(StatusClosed)}
}
