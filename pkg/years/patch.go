package years

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// Patch is the body of PATCH /years/{year}: a target status and a
// configuration patch, both optional.
type Patch struct {
	Status *string
	// Config is the JSON object deep-merged into the configuration (nil:
	// unchanged).
	Config json.RawMessage
	// IfMatch is the entity tag the caller read (nil: last write wins).
	IfMatch *string
}

// transitions are the status changes an administrator makes
// (docs/domain.md §11.1); the others are the setup's.
var transitions = map[Status][]Status{
	StatusReady:  {StatusOpen},
	StatusOpen:   {StatusClosed},
	StatusClosed: {StatusOpen},
}

// Update applies a Patch to year y in one transaction (docs/api.md §7):
//
//   - If-Match, when given, must be the year's current ETag (else 412);
//   - the configuration patch is deep-merged (objects merge, arrays and
//     scalars replace), then the whole result is validated (422, each
//     detail naming its path under "config"); a closed year's
//     configuration is frozen (409 year_closed) unless the same request
//     reopens it;
//   - the status moves only along docs/domain.md §11.1 (ready → open, open →
//     closed, closed → open; else 409 invalid_transition); the current
//     status is accepted as a no-op;
//   - a change is audited year.update (the audit trail diffs the snapshot
//     with the previous one), and the year's reports are refreshed when
//     the enabled modules changed.
func (s *Service) Update(ctx context.Context, y int32, in Patch, by *int64) (View, error) {
	var target Status
	if in.Status != nil {
		target = Status(*in.Status)
		if !slices.Contains(Statuses(), target) {
			return View{}, apperr.Validation("1 field is invalid", apperr.FieldError{Field: fieldStatus, Code: codeInvalidEnum,
				Message: "must be open or closed"})
		}
	}
	var patch map[string]any
	if in.Config != nil {
		var err error
		if patch, err = decodeObject(in.Config); err != nil {
			return View{}, apperr.Validation("1 field is invalid", apperr.FieldError{Field: "config", Code: codeInvalidFormat,
				Message: "must be an object"})
		}
	}
	return postgres.WithTxV(ctx, s.DB, func(ctx context.Context, tx pgx.Tx) (View, error) {
		q := dbsqlc.New(tx)
		row, err := getForUpdate(ctx, q, y)
		if err != nil {
			return View{}, err
		}
		if in.IfMatch != nil && *in.IfMatch != "*" && *in.IfMatch != ETag(row) {
			return View{}, apperr.New(apperr.CodePrecondition, "year %d changed since it was read (If-Match)", y)
		}
		before := row
		current := Status(row.Status)
		if target != "" && target != current && !slices.Contains(transitions[current], target) {
			return View{}, invalidTransition("year %d cannot go from %s to %s", y, current, target)
		}
		if patch != nil {
			if current == StatusClosed && target != StatusOpen {
				return View{}, refuse(ReasonClosed, "year %d is closed: its configuration is frozen", y)
			}
			if row, err = s.mergeConfig(ctx, q, row, patch); err != nil {
				return View{}, err
			}
		}
		if target != "" && target != current {
			row, err = q.YearUpdateStatus(ctx, dbsqlc.YearUpdateStatusParams{Status: string(target), Year: y, FromStatuses: []string{string(current)}})
			if err != nil {
				return View{}, fmt.Errorf("error moving year %d to %s: %w", y, target, err)
			}
		}
		if row.Status == before.Status && bytes.Equal(row.Config, before.Config) {
			return ToView(row), nil // nothing changed
		}
		payload := map[string]any{}
		if in.Status != nil {
			payload[fieldStatus] = *in.Status
		}
		if patch != nil {
			payload["config"] = patch
		}
		if err := audit.Record(ctx, tx, by, audit.Event{Action: audit.ActionUpdate, Event: EventUpdate,
			EntityType: entityYear, EntityID: strconv.Itoa(int(y)), Snapshot: snapshot(row), RequestPayload: payload}); err != nil {
			return View{}, fmt.Errorf("error auditing year.update: %w", err)
		}
		if s.ReportsChanged != nil && !slices.Equal(EnabledModules(before.Config), EnabledModules(row.Config)) {
			if err := s.ReportsChanged(ctx, tx, y); err != nil {
				return View{}, err
			}
		}
		return ToView(row), nil
	})
}

// mergeConfig merges patch into the year's configuration, validates the
// result and stores it.
func (s *Service) mergeConfig(ctx context.Context, q *dbsqlc.Queries, row dbsqlc.Year, patch map[string]any) (dbsqlc.Year, error) {
	cfg, err := decodeObject(row.Config)
	if err != nil {
		cfg = map[string]any{}
	}
	was, err := json.Marshal(cfg)
	if err != nil {
		return row, fmt.Errorf("error encoding the configuration: %w", err)
	}
	merge(cfg, patch)
	now, err := json.Marshal(cfg)
	if err != nil {
		return row, fmt.Errorf("error encoding the configuration: %w", err)
	}
	if bytes.Equal(was, now) {
		return row, nil // the patch changes nothing
	}
	return s.storeConfig(ctx, q, row.Year, cfg)
}

// storeConfig validates a whole configuration and stores it (422 with the
// field paths when invalid).
func (s *Service) storeConfig(ctx context.Context, q *dbsqlc.Queries, y int32, cfg map[string]any) (dbsqlc.Year, error) {
	b, err := json.Marshal(cfg)
	if err != nil {
		return dbsqlc.Year{}, fmt.Errorf("error encoding the configuration: %w", err)
	}
	// Validated as stored: the JSON form, whatever Go types built it.
	if cfg, err = decodeObject(b); err != nil {
		return dbsqlc.Year{}, fmt.Errorf("error decoding the configuration: %w", err)
	}
	if errs := ValidateConfig(cfg, y); len(errs) > 0 {
		return dbsqlc.Year{}, apperr.Validation(fieldsInvalid(len(errs)), errs...)
	}
	row, err := q.YearUpdateConfig(ctx, dbsqlc.YearUpdateConfigParams{Config: b, Year: y})
	if err != nil {
		return row, fmt.Errorf("error storing the configuration of %d: %w", y, err)
	}
	return row, nil
}

func fieldsInvalid(n int) string {
	if n == 1 {
		return "1 field is invalid"
	}
	return fmt.Sprintf("%d fields are invalid", n)
}
