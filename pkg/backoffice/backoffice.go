// Package backoffice is the back-office reporting across units
// (docs/api.md §11, docs/domain.md §12.4): the years and affiliations a
// caller may report on, the per-report rows of the units table and of the
// results table, the aggregated overview and the module usage, all clamped
// to the caller's reporting scope (Scope, from the caller's permissions).
//
// Every figure is read from the statistics the aggregate job maintains
// (carbon_reports.stats, report_modules.status), never from entries or
// emission rows: one query applies the filters and the scope and returns the
// ordered report ids (BackofficeReportIDs), and one more reads what the
// endpoint shows of those reports. Values are rounded at the edge
// (docs/domain.md §1), like every results endpoint.
//
// Units and Results are also what the back-office exports write
// (docs/jobs.md §7): call them with a zero Page.Limit for every row.
package backoffice

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

// The specific codes of the 400 answers (docs/api.md §1).
const (
	ReasonInvalidFilter apperr.Reason = "invalid_filter"
	ReasonInvalidSort   apperr.Reason = "invalid_sort"
)

// Scope is the reach of a caller's reporting grant
// (backoffice.reporting:view, docs/domain.md §2.3): every unit, or the
// subtrees of some affiliations; and the statuses of the years the caller
// sees (administrators: all; others: open and closed, years.VisibleTo).
type Scope struct {
	Global         bool
	AffiliationCFs []string
	YearStatuses   []string
}

// ScopeOf is the reporting scope of a caller's permissions. A caller
// without the reporting grant reaches nothing.
func ScopeOf(p *perm.Set) Scope {
	if p == nil {
		return Scope{YearStatuses: []string{}}
	}
	global, cfs := p.ReportingScope()
	return Scope{Global: global, AffiliationCFs: cfs, YearStatuses: years.VisibleTo(p.IsAdmin())}
}

// covers reports whether a unit (by the cfs of its path) is in the scope.
func (s Scope) covers(pathCFs []string) bool {
	return s.Global || slices.ContainsFunc(pathCFs, func(cf string) bool { return cf != "" && slices.Contains(s.AffiliationCFs, cf) })
}

func (s Scope) cfs() []string {
	if s.AffiliationCFs == nil {
		return []string{}
	}
	return s.AffiliationCFs
}

func (s Scope) yearStatuses() []string {
	if s.YearStatuses == nil {
		return []string{}
	}
	return s.YearStatuses
}

// Filters are the common reporting filters (docs/api.md §11); the JSON
// names are the query parameters'. Empty means no filter. Several values of
// one filter match any of them.
type Filters struct {
	// Years of the reports.
	Years []int32 `json:"year"`
	// Affiliations are unit ids of level 1–3: the reports of their
	// subtrees (themselves included).
	Affiliations []int64 `json:"affiliation"`
	// Units are unit ids (exact).
	Units []int64 `json:"unit"`
	// Statuses are overall statuses (not_started, in_progress, validated).
	Statuses []string `json:"status"`
	// ModuleStatuses are "<module>" (the module has entries) or
	// "<module>:<status>".
	ModuleStatuses []string `json:"module_status"`
	// Q is a case-insensitive substring of the unit's name, cf or
	// institutional code (at most 100 characters; "*" or "%" alone: none).
	Q string `json:"q"`
}

// Page selects rows: Limit rows after Offset; a zero Limit is every row.
type Page struct {
	Limit, Offset int
}

func (p Page) bounds(n int) (int, int) {
	from := min(max(p.Offset, 0), n)
	if p.Limit <= 0 {
		return from, n
	}
	return from, min(from+p.Limit, n)
}

func (p Page) sql() (limit, offset int32) {
	limit = math.MaxInt32
	if p.Limit > 0 {
		limit = int32(min(p.Limit, math.MaxInt32))
	}
	return limit, int32(min(max(p.Offset, 0), math.MaxInt32))
}

// Query is a filtered, sorted page of reports.
type Query struct {
	Filters
	// Sort keys (at most two, SortKeys); then unit name, year (newest
	// first) and report id.
	Sort []SortKey
	Page Page
}

// SortKeys are the sort keys of the report lists (docs/api.md §11).
var SortKeys = []string{"unit_name", "affiliation", "overall_status", "data_updated_at", "t_co2eq", "fte", "completion_percent"}

// SortKey is one key of a sort parameter.
type SortKey struct {
	Field string
	Desc  bool
}

const maxSortKeys = 2

// ParseSort parses a sort parameter ("-t_co2eq,unit_name"): 400
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
	e := apperr.WithReason(apperr.CodeInvalid, ReasonInvalidSort, "%s", msg)
	e.Fields = []apperr.FieldError{{Field: "sort", Code: "invalid_sort", Message: "allowed keys: " + strings.Join(SortKeys, ", ")}}
	return e
}

// InvalidFilter is the 400 invalid_filter of a filter; detail is the field
// code (invalid_enum, invalid_format, required, unknown_field …).
func InvalidFilter(field, detail, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	e := apperr.WithReason(apperr.CodeInvalid, ReasonInvalidFilter, "%s", msg)
	e.Fields = []apperr.FieldError{{Field: field, Code: detail, Message: msg}}
	return e
}

// outOfScope is the 403 of a filter naming a unit outside the caller's
// reporting scope.
func outOfScope(field string, u dbsqlc.Unit) error {
	msg := fmt.Sprintf("unit %d (%s) is outside your reporting scope", u.ID, u.Name)
	return &apperr.Error{Code: apperr.CodeForbidden, Message: msg, Fields: []apperr.FieldError{{
		Field: field, Code: "forbidden", Message: msg, Context: map[string]any{"permission": "backoffice." + perm.BOReporting + ":" + perm.ActionView},
	}}}
}

// Overall and module statuses (docs/domain.md §10).
var statuses = []string{report.StatusNotStarted, report.StatusInProgress, report.StatusValidated}

const maxQ = 100

// query normalises q: trimmed, "*" and "%" alone mean none (nil).
func query(q string) (*string, error) {
	q = strings.TrimSpace(q)
	if utf8.RuneCountInString(q) > maxQ {
		return nil, InvalidFilter("q", "too_long", "q must be at most %d characters", maxQ)
	}
	if q == "" || q == "*" || q == "%" {
		return nil, nil //nolint:nilnil // no filter
	}
	return &q, nil
}

// selection checks the filters and the sort against the scope and builds
// the parameters of BackofficeReportIDs: 400 invalid_filter for a malformed
// or unknown value, 403 for an affiliation or unit outside the scope.
func (s Scope) selection(ctx context.Context, q *dbsqlc.Queries, f Filters, sort []SortKey) (dbsqlc.BackofficeReportIDsParams, error) {
	p := dbsqlc.BackofficeReportIDsParams{
		YearStatuses: s.yearStatuses(), Global: s.Global, ScopeCfs: s.cfs(),
		Years: []int32{}, AffiliationCodes: []string{}, UnitIds: []int64{}, Statuses: []string{},
		ModuleStatuses: []string{}, ModulesWithData: []string{},
	}
	for _, y := range f.Years {
		if !years.Valid(int64(y)) {
			return p, InvalidFilter("year", "out_of_range", "year must be between %d and %d", years.Min, years.Max)
		}
		p.Years = append(p.Years, y)
	}
	for _, st := range f.Statuses {
		if !slices.Contains(statuses, st) {
			return p, InvalidFilter("status", "invalid_enum", "unknown status %q (not_started, in_progress, validated)", st)
		}
		p.Statuses = append(p.Statuses, st)
	}
	for _, ms := range f.ModuleStatuses {
		module, status, hasStatus := strings.Cut(ms, ":")
		if !report.IsModule(module) {
			return p, InvalidFilter("module_status", "invalid_enum", "unknown module %q", module)
		}
		switch {
		case !hasStatus:
			p.ModulesWithData = append(p.ModulesWithData, module)
		case slices.Contains(statuses, status):
			p.ModuleStatuses = append(p.ModuleStatuses, ms)
		default:
			return p, InvalidFilter("module_status", "invalid_enum", "unknown module status %q (not_started, in_progress, validated)", status)
		}
	}
	var err error
	if p.Q, err = query(f.Q); err != nil {
		return p, err
	}
	affiliations, err := s.units(ctx, q, "affiliation", f.Affiliations)
	if err != nil {
		return p, err
	}
	for _, u := range affiliations {
		if u.Level > 3 {
			return p, InvalidFilter("affiliation", "not_an_affiliation", "unit %d (%s) is of level %d, not an affiliation (levels 1–3)", u.ID, u.Name, u.Level)
		}
		p.AffiliationCodes = append(p.AffiliationCodes, u.InstitutionalCode)
	}
	if _, err := s.units(ctx, q, "unit", f.Units); err != nil {
		return p, err
	}
	p.UnitIds = append(p.UnitIds, f.Units...)
	if len(sort) > maxSortKeys {
		return p, invalidSort(fmt.Sprintf("at most %d sort keys", maxSortKeys))
	}
	for i, k := range sort {
		if !slices.Contains(SortKeys, k.Field) {
			return p, invalidSort(fmt.Sprintf("unknown sort key %q", k.Field))
		}
		if i == 0 {
			p.Sort1, p.Sort1Desc = k.Field, k.Desc
		} else {
			p.Sort2, p.Sort2Desc = k.Field, k.Desc
		}
	}
	return p, nil
}

// units loads the units a filter names: 400 invalid_filter for an unknown
// id, 403 for one outside the scope.
func (s Scope) units(ctx context.Context, q *dbsqlc.Queries, field string, ids []int64) ([]dbsqlc.Unit, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := q.UnitsByIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("error reading the %s filter: %w", field, err)
	}
	for _, id := range ids {
		if !slices.ContainsFunc(rows, func(u dbsqlc.Unit) bool { return u.ID == id }) {
			return nil, InvalidFilter(field, "unknown_unit", "unknown unit %d", id)
		}
	}
	for _, u := range rows {
		if !s.covers(u.PathCfs) {
			return nil, outOfScope(field, u)
		}
	}
	return rows, nil
}

// reportIDs returns the ordered ids of the reports a query selects.
func (s Scope) reportIDs(ctx context.Context, db postgres.DBTX, f Filters, sort []SortKey) ([]int64, error) {
	q := dbsqlc.New(db)
	p, err := s.selection(ctx, q, f, sort)
	if err != nil {
		return nil, err
	}
	ids, err := q.BackofficeReportIDs(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("error selecting reports: %w", err)
	}
	return ids, nil
}

// requireYear is the 400 of the endpoints that need a year filter
// (/backoffice/units and /backoffice/overview).
func requireYear(f Filters) error {
	if len(f.Years) == 0 {
		return InvalidFilter("year", "required", "year is required")
	}
	return nil
}
