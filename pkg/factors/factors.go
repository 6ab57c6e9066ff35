// Package factors is the curation of emission factors through the API
// (docs/api.md §8): list and get them, create, edit and delete one, list
// the stale ones and purge them, and refresh the computed
// research-facility factors (docs/domain.md §7.6, the computed path of the
// factor_import job).
//
// A factor given through the API is validated exactly like a row of its
// factor CSV file (docs/jobs.md §5.4): its classification and values are
// laid out as one row and parsed by package ingest (ingest.ParseFactor),
// which derives the emission type with package emission and compiles the
// factor with the engine, so that the API and an upload accept and refuse
// the same factors.
//
// Every change requests, in its own transaction, the recalculation of the
// module-year it affects (calc.RequestTx: module_year_state bumped with
// reason factors, the coalesced emission_recalc{year, module} inserted,
// which chains aggregate{year}), in a pipeline the answer carries, and
// writes its audit event (factor.create, factor.update, factor.delete,
// factor.purge, factor.compute). A closed year refuses every change (409
// year_closed: its numbers are frozen); the other statuses accept them,
// like a recalculation (years.OpRecalc).
package factors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/calc"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// Service curates factors. The API sets every field; the factor_import
// job's computed path only needs DB.
type Service struct {
	DB postgres.DB
	// Recalc enqueues the emission_recalc a change requests; without it
	// changes answer 503.
	Recalc calc.RecalcEnqueuer
	// EnqueueCompute enqueues the computed factor_import of POST
	// /factors/compute; without it that request answers 503.
	EnqueueCompute ComputeEnqueuer
}

// ComputeEnqueuer inserts factor_import{year, submodule, method:
// "computed"} in tx, linked to pipeline pipelineID as a root job.
type ComputeEnqueuer func(ctx context.Context, tx pgx.Tx, pipelineID uuid.UUID, year int32, sub emission.SubmoduleKey) error

// Factor is a factor as the API shows it (docs/api.md §2).
type Factor struct {
	ID             int64
	Year           int32
	Module         emission.ModuleKey
	Submodule      emission.SubmoduleKey
	EmissionType   emission.EmissionType
	Classification map[string]string
	// ClassKey is the canonical classification (emission.ClassKey): with
	// the year and submodule, the factor's identity.
	ClassKey string
	Values   map[string]any
	// Source is csv, api or computed.
	Source string
	// Stale: the factor's group had a successful factor upload that did
	// not assert it (view factor_staleness).
	Stale        bool
	LastUploadID *uuid.UUID
	UpdatedAt    time.Time
	// Version is 1 when created, +1 on every change (the ETag).
	Version int64
}

// The sources of a factor (factors.source).
const (
	SourceCSV      = "csv"
	SourceAPI      = "api"
	SourceComputed = "computed"
)

// Reasons of the refusals specific to factors.
const (
	// ReasonFactorExists (409): another factor of the year and submodule
	// has the same classification (the identity, docs/domain.md §6.2).
	ReasonFactorExists apperr.Reason = "factor_exists"
	// ReasonNothingToPurge (400): no stale factor to purge.
	ReasonNothingToPurge apperr.Reason = "nothing_to_purge"
)

// toFactor converts a stored factor.
func toFactor(r dbsqlc.Factor, stale *bool) (Factor, error) {
	f := Factor{ID: r.ID, Year: r.Year, Module: emission.ModuleKey(r.Module), Submodule: emission.SubmoduleKey(r.Submodule),
		EmissionType: emission.EmissionType(r.EmissionType), ClassKey: r.ClassKey, Source: r.Source, Stale: stale != nil && *stale,
		LastUploadID: r.LastUploadID, UpdatedAt: r.UpdatedAt, Version: r.Version}
	if err := json.Unmarshal(r.Classification, &f.Classification); err != nil {
		return f, fmt.Errorf("error decoding the classification of factor %d: %w", r.ID, err)
	}
	if err := json.Unmarshal(r.Values, &f.Values); err != nil {
		return f, fmt.Errorf("error decoding the values of factor %d: %w", r.ID, err)
	}
	return f, nil
}

func errNotFound(id int64) error { return apperr.NotFound("factor %d not found", id) }

// Get returns factor id (404 when it does not exist).
func (s *Service) Get(ctx context.Context, id int64) (Factor, error) {
	r, err := dbsqlc.New(s.DB).FactorGetWithStale(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Factor{}, errNotFound(id)
	}
	if err != nil {
		return Factor{}, fmt.Errorf("error reading factor %d: %w", id, err)
	}
	return toFactor(r.Factor, r.Stale)
}

// SortKeys are the sort keys of List (docs/api.md §8).
var SortKeys = []string{"id", "submodule", "emission_type", "updated_at", "class_key"} //nolint:goconst // the API's names

// SortKey is one key of a sort parameter.
type SortKey struct {
	Field string
	Desc  bool
}

// maxSortKeys bounds the keys of one sort parameter (the query sorts by
// two keys, then by id).
const maxSortKeys = 2

// ParseSort parses a sort parameter ("submodule,-updated_at"): 400
// invalid_sort for an unknown key or more than two keys.
// A key has at most one prefix, "-" (descending) or "+" (ascending; also
// the space a query string decodes "+" to): "+-key", "++key", a blank or an
// empty key are unknown keys.
func ParseSort(raw string) ([]SortKey, error) {
	if raw == "" {
		return nil, nil
	}
	var out []SortKey
	for part := range strings.SplitSeq(raw, ",") {
		k := SortKey{Field: part}
		switch {
		case strings.HasPrefix(part, "-"):
			k = SortKey{Field: part[1:], Desc: true}
		case strings.HasPrefix(part, "+"), strings.HasPrefix(part, " "):
			k.Field = part[1:]
		}
		if !slices.Contains(SortKeys, k.Field) {
			return nil, invalidSort(fmt.Sprintf("unknown sort key %q", k.Field))
		}
		out = append(out, k)
	}
	if len(out) > maxSortKeys {
		return nil, invalidSort(fmt.Sprintf("at most %d sort keys", maxSortKeys))
	}
	return out, nil
}

func invalidSort(msg string) error {
	e := apperr.WithReason(apperr.CodeInvalid, "invalid_sort", "%s", msg)
	e.Fields = []apperr.FieldError{{Field: "sort", Code: "invalid_sort", Message: "allowed keys: " + strings.Join(SortKeys, ", ")}}
	return e
}

func invalidFilter(name, format string, args ...any) error {
	e := apperr.WithReason(apperr.CodeInvalid, "invalid_filter", "invalid filter %s", name)
	e.Fields = []apperr.FieldError{{Field: name, Code: "invalid_filter", Message: fmt.Sprintf(format, args...)}}
	return e
}

// ListParams are the filters, sort and page of List.
type ListParams struct {
	Year      *int32
	Module    string
	Submodule string
	Stale     *bool
	// Q is a case-insensitive substring of the class key (at most 100
	// characters; "*" or "%" alone mean no filter).
	Q             string
	Sort          []SortKey // default: submodule, class_key
	Limit, Offset int32
}

const maxQ = 100

// List returns one page of factors and the number of factors matching the
// filters. Unknown modules and submodules are 400 invalid_filter.
func (s *Service) List(ctx context.Context, p ListParams) ([]Factor, int64, error) {
	if p.Module != "" {
		if _, ok := emission.LookupModule(emission.ModuleKey(p.Module)); !ok {
			return nil, 0, invalidFilter("module", "unknown module %q", p.Module)
		}
	}
	if p.Submodule != "" {
		if _, ok := emission.LookupSubmodule(emission.SubmoduleKey(p.Submodule)); !ok {
			return nil, 0, invalidFilter("submodule", "unknown submodule %q", p.Submodule)
		}
	}
	q := strings.TrimSpace(p.Q)
	if utf8.RuneCountInString(q) > maxQ {
		return nil, 0, invalidFilter("q", "must be at most %d characters", maxQ)
	}
	if q == "*" || q == "%" {
		q = ""
	}
	sort := p.Sort
	if len(sort) == 0 {
		sort = []SortKey{{Field: "submodule"}, {Field: "class_key"}}
	}
	params := dbsqlc.FactorsListParams{Year: p.Year, Module: nonEmpty(p.Module), Submodule: nonEmpty(p.Submodule), Stale: p.Stale,
		Q: nonEmpty(q), Sort1: sort[0].Field, Sort1Desc: sort[0].Desc, Limit: p.Limit, Offset: p.Offset}
	if len(sort) > 1 {
		params.Sort2, params.Sort2Desc = sort[1].Field, sort[1].Desc
	}
	db := dbsqlc.New(s.DB)
	rows, err := db.FactorsList(ctx, params)
	if err != nil {
		return nil, 0, fmt.Errorf("error listing factors: %w", err)
	}
	total, err := db.FactorsCount(ctx, dbsqlc.FactorsCountParams{Year: params.Year, Module: params.Module,
		Submodule: params.Submodule, Stale: params.Stale, Q: params.Q})
	if err != nil {
		return nil, 0, fmt.Errorf("error counting factors: %w", err)
	}
	out := make([]Factor, 0, len(rows))
	for _, r := range rows {
		f, err := toFactor(r.Factor, r.Stale)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, f)
	}
	return out, total, nil
}

// Stale lists the stale factors of a year (every year when nil) and
// submodule (every one when empty; unknown → 400 invalid_filter): those
// whose last_upload_id is not the latest successful factor upload of their
// group; none when the group never had one.
func (s *Service) Stale(ctx context.Context, year *int32, submodule string) ([]Factor, error) {
	if submodule != "" {
		if _, ok := emission.LookupSubmodule(emission.SubmoduleKey(submodule)); !ok {
			return nil, invalidFilter("submodule", "unknown submodule %q", submodule)
		}
	}
	rows, err := dbsqlc.New(s.DB).FactorsStale(ctx, dbsqlc.FactorsStaleParams{Year: year, Submodule: nonEmpty(submodule)})
	if err != nil {
		return nil, fmt.Errorf("error listing stale factors: %w", err)
	}
	out := make([]Factor, 0, len(rows))
	for _, r := range rows {
		f, err := toFactor(r.Factor, r.Stale)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
