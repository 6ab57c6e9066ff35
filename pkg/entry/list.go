package entry

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/calc"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// Pagination limits (docs/api.md §1).
const (
	DefaultLimit = 50
	MaxLimit     = 1000
	maxQ         = 100
	// maxInMemory bounds the entries sorted in memory (computed sort keys).
	maxInMemory = 100000
)

// SortKey is one key of a sort parameter.
type SortKey struct {
	Field string
	Desc  bool
}

// ListParams are the query of an entries list.
type ListParams struct {
	Page, Limit    int
	Sort           []SortKey
	Q              string
	Source         string
	CalcStatus     string
	AboveThreshold bool
}

// Summary is the list summary over every filtered entry.
type Summary struct {
	Count      int64
	KgCO2eq    float64
	CalcIssues int64
}

// ListResult is one page of entries.
type ListResult struct {
	Items   []Entry
	Page    int
	Limit   int
	Total   int64
	HasMore bool
	Summary Summary
}

var (
	sources      = []string{"manual", "csv_year", "csv_unit", sourceTableau}
	calcStatuses = []string{"ok", "override", "no_factor", "missing_input", "unknown_location", "missing_fx_rate", "pending"}
)

// ParseSort parses a sort parameter ("-kg_co2eq,name") against the keys
// of a submodule (400 invalid_sort for an unknown key).
func ParseSort(sub emission.SubmoduleKey, raw string) ([]SortKey, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	allowed := SortKeys(sub)
	var out []SortKey
	for part := range strings.SplitSeq(raw, ",") {
		part = strings.TrimSpace(part)
		k := SortKey{Field: part}
		if rest, ok := strings.CutPrefix(part, "-"); ok {
			k = SortKey{Field: rest, Desc: true}
		} else if rest, ok := strings.CutPrefix(part, "+"); ok {
			k.Field = rest
		}
		if !slices.Contains(allowed, k.Field) {
			e := apperr.WithReason(apperr.CodeInvalid, "invalid_sort", "unknown sort key %q", k.Field)
			e.Fields = []apperr.FieldError{{Field: "sort", Code: "invalid_sort", Message: "allowed keys: " + strings.Join(allowed, ", ")}}
			return nil, e
		}
		out = append(out, k)
	}
	return out, nil
}

func invalidFilter(name, format string, args ...any) error {
	e := apperr.WithReason(apperr.CodeInvalid, "invalid_filter", "invalid filter %s", name)
	e.Fields = []apperr.FieldError{{Field: name, Code: "invalid_filter", Message: fmt.Sprintf(format, args...)}}
	return e
}

// List returns one page of a submodule's entries with the summary over all
// filtered entries (docs/api.md §5).
func (s *Service) List(ctx context.Context, actor Actor, sc Scope, p ListParams) (*ListResult, error) {
	if err := CheckSubmodule(sc.Module, sc.Submodule); err != nil {
		return nil, err
	}
	if p.Page == 0 {
		p.Page = 1
	}
	if p.Limit == 0 {
		p.Limit = DefaultLimit
	}
	if p.Page < 1 {
		return nil, invalidFilter("page", "must be at least 1")
	}
	if p.Limit < 1 || p.Limit > MaxLimit {
		return nil, invalidFilter("limit", "must be between 1 and %d", MaxLimit)
	}
	allowed := SortKeys(sc.Submodule)
	for _, k := range p.Sort {
		if !slices.Contains(allowed, k.Field) {
			return nil, apperr.WithReason(apperr.CodeInvalid, "invalid_sort", "unknown sort key %q", k.Field)
		}
	}
	q := strings.TrimSpace(p.Q)
	if utf8.RuneCountInString(q) > maxQ {
		return nil, invalidFilter("q", "must be at most %d characters", maxQ)
	}
	if q == "*" || q == "%" {
		q = ""
	}
	if p.Source != "" && !slices.Contains(sources, p.Source) {
		return nil, invalidFilter("source", "must be one of %s", strings.Join(sources, ", "))
	}
	if p.CalcStatus != "" && !slices.Contains(calcStatuses, p.CalcStatus) {
		return nil, invalidFilter("calc_status", "must be one of %s", strings.Join(calcStatuses, ", "))
	}

	db := dbsqlc.New(s.DB)
	r, err := resolve(ctx, db, sc, false)
	if err != nil {
		return nil, err
	}
	filter := dbsqlc.EntriesCountParams{
		ReportModuleID: r.rm.ID, Submodule: string(r.Submodule),
		Source: nonEmpty(p.Source), CalcStatus: nonEmpty(p.CalcStatus), Q: nonEmpty(q),
		QFields: searchFields(r.Submodule),
	}
	if actor.OwnSciper != "" && (r.Submodule == emission.SubPlane || r.Submodule == emission.SubTrain) {
		filter.OwnerSciper = &actor.OwnSciper
	}
	if p.AboveThreshold {
		minKg := math.Inf(1) // no threshold: nothing is above it
		if r.cfg.ThresholdKg != nil {
			minKg = *r.cfg.ThresholdKg
		}
		filter.MinKg = &minKg
	}
	count, err := db.EntriesCount(ctx, filter)
	if err != nil {
		return nil, fmt.Errorf("error counting entries: %w", err)
	}
	lk, err := calc.LoadLookup(ctx, s.DB, int(r.Year), r.Module)
	if lk == nil {
		return nil, err
	}
	offset := (p.Page - 1) * p.Limit
	var items []Entry
	if needsMemorySort(p.Sort) {
		items, err = s.listInMemory(ctx, db, r, filter, p.Sort, lk, offset, p.Limit)
	} else {
		items, err = s.listSQL(ctx, db, r, filter, p.Sort, lk, offset, p.Limit)
	}
	if err != nil {
		return nil, err
	}
	res := &ListResult{
		Items: items, Page: p.Page, Limit: p.Limit, Total: count.Total,
		HasMore: int64(offset+len(items)) < count.Total,
		Summary: Summary{Count: count.Total, KgCO2eq: count.KgCo2eq, CalcIssues: count.CalcIssues},
	}
	if err := s.auditList(ctx, actor, sc, items); err != nil {
		return nil, err
	}
	return res, nil
}

// auditList records entry.list for lists of personal data (member, plane,
// train) with the SCIPERs of the page (max 20).
func (s *Service) auditList(ctx context.Context, actor Actor, sc Scope, items []Entry) error {
	switch sc.Submodule { //nolint:exhaustive // only personal-data lists are audited
	case emission.SubMember, emission.SubPlane, emission.SubTrain:
	default:
		return nil
	}
	var ids []string
	for _, e := range items {
		var sciper string
		if v, ok := e.Data["user_institutional_id"].(string); ok {
			sciper = v
		}
		if sciper != "" && !slices.Contains(ids, sciper) && len(ids) < 20 {
			ids = append(ids, sciper)
		}
	}
	return recordAudit(ctx, s.DB, auditEvent{Action: ActionList, Actor: actor, Scope: sc, HandledIDs: ids})
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func needsMemorySort(keys []SortKey) bool {
	if len(keys) > 2 {
		return true
	}
	for _, k := range keys {
		if k.Field == "distance_km" || k.Field == "traveler_name" {
			return true
		}
	}
	return false
}

func (s *Service) listSQL(ctx context.Context, db *dbsqlc.Queries, r *resolved, f dbsqlc.EntriesCountParams, keys []SortKey, lk *emission.Lookup, offset, limit int) ([]Entry, error) {
	p := dbsqlc.EntriesListParams{
		ReportModuleID: f.ReportModuleID, Submodule: f.Submodule, OwnerSciper: f.OwnerSciper,
		Source: f.Source, CalcStatus: f.CalcStatus, MinKg: f.MinKg, Q: f.Q, QFields: f.QFields,
		Sort1: "id", Sort2: "id",
		Offset: int32(offset), Limit: int32(limit),
	}
	if len(keys) > 0 {
		p.Sort1, p.Sort1Desc = keys[0].Field, keys[0].Desc
	}
	if len(keys) > 1 {
		p.Sort2, p.Sort2Desc = keys[1].Field, keys[1].Desc
	}
	rows, err := db.EntriesList(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("error listing entries: %w", err)
	}
	return s.decorate(ctx, db, r, rows, lk)
}

// listInMemory sorts by computed keys (distance_km, traveler_name) or by
// more than two keys: every filtered entry is decorated, sorted and paged.
func (s *Service) listInMemory(ctx context.Context, db *dbsqlc.Queries, r *resolved, f dbsqlc.EntriesCountParams, keys []SortKey, lk *emission.Lookup, offset, limit int) ([]Entry, error) {
	rows, err := db.EntriesList(ctx, dbsqlc.EntriesListParams{
		ReportModuleID: f.ReportModuleID, Submodule: f.Submodule, OwnerSciper: f.OwnerSciper,
		Source: f.Source, CalcStatus: f.CalcStatus, MinKg: f.MinKg, Q: f.Q, QFields: f.QFields,
		Sort1: "id", Sort2: "id", Limit: maxInMemory,
	})
	if err != nil {
		return nil, fmt.Errorf("error listing entries: %w", err)
	}
	all, err := s.decorate(ctx, db, r, rows, lk)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(all, func(a, b Entry) int {
		for _, k := range keys {
			c, nulls := compareKey(&a, &b, k.Field)
			if c != 0 {
				if k.Desc && !nulls {
					return -c
				}
				return c
			}
		}
		return cmp.Compare(a.Row.ID, b.Row.ID)
	})
	if offset >= len(all) {
		return []Entry{}, nil
	}
	return all[offset:min(offset+limit, len(all))], nil
}

// sortValue returns a comparable value of a sort key (nil sorts last).
func sortValue(e *Entry, key string) any {
	switch key {
	case "id":
		return float64(e.Row.ID)
	case "kg_co2eq":
		return e.Row.KgCo2eq
	case "created_at":
		return float64(e.Row.CreatedAt.UnixNano())
	case "updated_at":
		return float64(e.Row.UpdatedAt.UnixNano())
	case "distance_km":
		if e.Details.DistanceKm == 0 {
			return nil
		}
		return e.Details.DistanceKm
	case "traveler_name":
		if e.TravelerName == nil {
			return nil
		}
		return strings.ToLower(*e.TravelerName)
	}
	switch v := e.Data[key].(type) {
	case string:
		return strings.ToLower(v)
	case interface{ Float64() (float64, error) }:
		f, _ := v.Float64()
		return f
	case float64:
		return v
	case bool:
		if v {
			return 1.0
		}
		return 0.0
	}
	return nil
}

// compareKey compares two entries on a key; nulls is true when the result
// comes from a missing value (missing values sort last in both directions).
func compareKey(a, b *Entry, key string) (c int, nulls bool) {
	va, vb := sortValue(a, key), sortValue(b, key)
	switch {
	case va == nil && vb == nil:
		return 0, true
	case va == nil:
		return 1, true
	case vb == nil:
		return -1, true
	}
	fa, okA := va.(float64)
	fb, okB := vb.(float64)
	if okA && okB {
		return cmp.Compare(fa, fb), false
	}
	return strings.Compare(fmt.Sprint(va), fmt.Sprint(vb)), false
}
