package entry

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/calc"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// Pagination and sort limits (docs/api.md §1, §5).
const (
	DefaultLimit = 50
	MaxLimit     = 1000
	maxQ         = 100
	// MaxSortKeys is the number of keys a sort parameter may name (the
	// keys of EntriesList).
	MaxSortKeys = 4
)

// SortKey is one key of a sort parameter.
type SortKey struct {
	Field string
	Desc  bool
}

// ListParams are the query of an entries list: a page by number (Page)
// or the page a cursor of a previous page leads to (Cursor; Page must then
// be 0).
type ListParams struct {
	Page, Limit    int
	Cursor         string
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

// ListResult is one page of entries. HasMore says whether entries follow
// the page (read with the page, so that it turns false on the last page in
// every mode); NextCursor, set when they do, leads to the next page.
type ListResult struct {
	Items      []Entry
	Page       int
	Limit      int
	Total      int64
	HasMore    bool
	NextCursor string
	Summary    Summary

	lastPosition json.RawMessage // the sort_position of the last item
}

var (
	sources      = []string{"manual", "csv_year", "csv_unit", sourceTableau}
	calcStatuses = []string{"ok", "override", "no_factor", "missing_input", "unknown_location", "missing_fx_rate", "pending"}
)

// ParseSort parses a sort parameter ("-kg_co2eq,name") against the keys of
// a submodule: comma-separated keys, each with an optional prefix, "-" for
// descending, "+" (or the space a query string decodes "+" to) for
// ascending. Anything else is 400 invalid_sort: an unknown key (a second
// prefix, as in "+-name", or a blank makes the key unknown), an empty key,
// a key given twice, more than MaxSortKeys keys.
func ParseSort(sub emission.SubmoduleKey, raw string) ([]SortKey, error) {
	if raw == "" {
		return nil, nil
	}
	allowed := SortKeys(sub)
	var out []SortKey
	for part := range strings.SplitSeq(raw, ",") {
		k := SortKey{Field: part}
		switch {
		case strings.HasPrefix(part, "-"):
			k = SortKey{Field: part[1:], Desc: true}
		case strings.HasPrefix(part, "+"), strings.HasPrefix(part, " "):
			k.Field = part[1:]
		}
		if err := checkSortKey(allowed, out, k.Field); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

// checkSortKey checks one more key after keys (400 invalid_sort).
func checkSortKey(allowed []string, keys []SortKey, field string) error {
	switch {
	case field == "":
		return invalidSort(allowed, "empty sort key")
	case !slices.Contains(allowed, field):
		return invalidSort(allowed, fmt.Sprintf("unknown sort key %q", field))
	case slices.ContainsFunc(keys, func(k SortKey) bool { return k.Field == field }):
		return invalidSort(allowed, fmt.Sprintf("sort key %q given twice", field))
	case len(keys) >= MaxSortKeys:
		return invalidSort(allowed, fmt.Sprintf("at most %d sort keys", MaxSortKeys))
	}
	return nil
}

func invalidSort(allowed []string, msg string) error {
	e := apperr.WithReason(apperr.CodeInvalid, "invalid_sort", "%s", msg)
	e.Fields = []apperr.FieldError{{Field: "sort", Code: "invalid_sort", Message: "allowed keys: " + strings.Join(allowed, ", ")}}
	return e
}

func invalidFilter(name, format string, args ...any) error {
	e := apperr.WithReason(apperr.CodeInvalid, "invalid_filter", "invalid filter %s", name)
	e.Fields = []apperr.FieldError{{Field: name, Code: "invalid_filter", Message: fmt.Sprintf(format, args...)}}
	return e
}

// List returns one page of a submodule's entries with the summary over all
// filtered entries (docs/api.md §5). Every sort runs in the database
// (EntriesList): the request holds one page whatever the module's size, and
// any page of any list is reachable, by number (offset) or by the cursor of
// the page before (keyset, cursor.go: a deep page costs a first page). The
// count and the page are read in one snapshot.
func (s *Service) List(ctx context.Context, actor Actor, sc Scope, p ListParams) (*ListResult, error) {
	if err := CheckSubmodule(sc.Module, sc.Submodule); err != nil {
		return nil, err
	}
	switch {
	case p.Cursor != "" && p.Page != 0:
		return nil, invalidCursor("cursor and page exclude each other")
	case p.Cursor == "" && p.Page == 0:
		p.Page = 1
	}
	if p.Limit == 0 {
		p.Limit = DefaultLimit
	}
	if p.Page < 0 {
		return nil, invalidFilter("page", "must be at least 1")
	}
	if p.Limit < 1 || p.Limit > MaxLimit {
		return nil, invalidFilter("limit", "must be between 1 and %d", MaxLimit)
	}
	allowed := SortKeys(sc.Submodule)
	for i, k := range p.Sort {
		if err := checkSortKey(allowed, p.Sort[:i], k.Field); err != nil {
			return nil, err
		}
	}
	q := strings.TrimSpace(p.Q)
	if utf8.RuneCountInString(q) > maxQ {
		return nil, invalidFilter("q", "must be at most %d characters", maxQ)
	}
	if !utf8.ValidString(q) || strings.IndexByte(q, 0) >= 0 { // PostgreSQL compares neither
		return nil, invalidFilter("q", "must be valid UTF-8 without a NUL character")
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

	var after []byte
	sig, filter := sortSignature(p.Sort), filterSignature(p, q)
	if p.Cursor != "" {
		c, err := decodeCursor(p.Cursor, sig, filter)
		if err != nil {
			return nil, err
		}
		p.Page, after = c.Page, c.Pos
	}

	var res *ListResult
	err := s.readSnapshot(ctx, func(tx pgx.Tx) error {
		var err error
		res, err = s.listPage(ctx, tx, actor, sc, p, q, after)
		return err
	})
	if err != nil {
		return nil, err
	}
	if res.HasMore {
		res.NextCursor = encodeCursor(cursor{Page: res.Page + 1, Sort: sig, Filter: filter, Pos: res.lastPosition})
	}
	if err := s.auditList(ctx, actor, sc, res.Items); err != nil {
		return nil, err
	}
	return res, nil
}

// readSnapshot runs fn in a read-only repeatable-read transaction (inside
// a caller's transaction, tests', a savepoint that already has one
// snapshot).
func (s *Service) readSnapshot(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.DB.Begin(ctx)
	if err != nil {
		return fmt.Errorf("error beginning the list snapshot: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	q := dbsqlc.New(tx)
	if _, nested := s.DB.(pgx.Tx); !nested {
		if err := q.SnapshotReadOnly(ctx); err != nil {
			return fmt.Errorf("error setting the list snapshot: %w", err)
		}
	}
	if err := q.ListPlanCustom(ctx); err != nil {
		return fmt.Errorf("error setting the list plan mode: %w", err)
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("error ending the list snapshot: %w", err)
	}
	return nil
}

// listPage counts the filtered entries and reads the page of p: by offset,
// or after the position after (a cursor's) when it is set.
func (s *Service) listPage(ctx context.Context, tx pgx.Tx, actor Actor, sc Scope, p ListParams, q string, after []byte) (*ListResult, error) {
	db := dbsqlc.New(tx)
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
	res := &ListResult{
		Items: []Entry{}, Page: p.Page, Limit: p.Limit, Total: count.Total,
		Summary: Summary{Count: count.Total, KgCO2eq: count.KgCo2eq, CalcIssues: count.CalcIssues},
	}
	// By offset, a page past the end is empty without reading: the offset
	// a request makes the database skip is below the count. By cursor, the
	// database skips nothing. One entry more than the page tells whether
	// entries follow.
	var offset int64
	if after == nil {
		offset = int64(p.Page-1) * int64(p.Limit)
		if offset >= count.Total {
			return res, nil
		}
	}
	lp := dbsqlc.EntriesListParams{
		ReportModuleID: filter.ReportModuleID, Submodule: filter.Submodule, OwnerSciper: filter.OwnerSciper,
		Source: filter.Source, CalcStatus: filter.CalcStatus, MinKg: filter.MinKg, Q: filter.Q, QFields: filter.QFields,
		Offset: int32(offset), Limit: int32(p.Limit + 1),
		After: after,
	}
	slots := []struct {
		field *string
		desc  *bool
	}{{&lp.Sort1, &lp.Sort1Desc}, {&lp.Sort2, &lp.Sort2Desc}, {&lp.Sort3, &lp.Sort3Desc}, {&lp.Sort4, &lp.Sort4Desc}}
	for i, k := range p.Sort {
		if k.Field == "id" {
			// id is unique: the keys after it change nothing, and id
			// ascending is the final tie-break (an index order).
			if k.Desc {
				*slots[i].field, *slots[i].desc = k.Field, k.Desc
			}
			break
		}
		*slots[i].field, *slots[i].desc = k.Field, k.Desc
	}
	listed, err := db.EntriesList(ctx, lp)
	if err != nil {
		return nil, fmt.Errorf("error listing entries: %w", err)
	}
	res.HasMore = len(listed) > p.Limit
	listed = listed[:min(len(listed), p.Limit)]
	rows := make([]dbsqlc.DataEntry, len(listed))
	for i := range listed {
		rows[i] = listed[i].DataEntry
	}
	if n := len(listed); n > 0 {
		res.lastPosition = json.RawMessage(listed[n-1].SortPosition)
	}
	lk, err := calc.LoadLookup(ctx, tx, int(r.Year), r.Module)
	if lk == nil {
		return nil, err
	}
	if res.Items, err = s.decorate(ctx, db, r, rows, lk); err != nil {
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
