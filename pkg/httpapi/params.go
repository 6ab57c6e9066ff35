package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/entry"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

// The one place where requests are parsed (docs/api.md §1): path
// parameters (a malformed id names nothing: 404), query values (400 with a
// field detail), pagination with its page envelope, and JSON bodies (1 MiB,
// unknown fields refused).

// Path parameters.

// pathUnitID parses {unit_id}.
func pathUnitID(r *http.Request) (int64, error) {
	raw := chi.URLParam(r, "unit_id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.NotFound("unit %q not found", raw)
	}
	return id, nil
}

// pathYear parses {year}: a year outside [years.Min, years.Max] cannot
// exist.
func pathYear(r *http.Request) (int32, error) {
	raw := chi.URLParam(r, "year")
	y, err := strconv.ParseInt(raw, 10, 32)
	if err != nil || !years.Valid(y) {
		return 0, apperr.NotFound("year %q not found", raw)
	}
	return int32(y), nil
}

// pathUnitYear parses {unit_id} and {year}.
func pathUnitYear(r *http.Request) (int64, int32, error) {
	id, err := pathUnitID(r)
	if err != nil {
		return 0, 0, err
	}
	y, err := pathYear(r)
	return id, y, err
}

// pathModuleScope parses /units/{unit_id}/years/{year}/modules/{module};
// an unknown module is 404.
func pathModuleScope(r *http.Request) (entry.ModuleScope, error) {
	unitID, year, err := pathUnitYear(r)
	if err != nil {
		return entry.ModuleScope{}, err
	}
	sc := entry.ModuleScope{UnitID: unitID, Year: year, Module: emission.ModuleKey(chi.URLParam(r, "module"))}
	if _, ok := emission.LookupModule(sc.Module); !ok {
		return sc, apperr.NotFound("unknown module %q", sc.Module)
	}
	return sc, nil
}

// pathEntryScope parses .../modules/{module}/{submodule}; the submodule
// must belong to the module (404).
func pathEntryScope(r *http.Request) (entry.Scope, error) {
	unitID, year, err := pathUnitYear(r)
	sc := entry.Scope{UnitID: unitID, Year: year, Module: emission.ModuleKey(chi.URLParam(r, "module")),
		Submodule: emission.SubmoduleKey(chi.URLParam(r, "submodule"))}
	if err != nil {
		return sc, err
	}
	return sc, entry.CheckSubmodule(sc.Module, sc.Submodule)
}

// pathEntryID parses {entry_id}.
func pathEntryID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "entry_id"), 10, 64)
	if err != nil {
		return 0, apperr.NotFound("entry not found")
	}
	return id, nil
}

// pathJobID parses the River job id parameter name.
func pathJobID(r *http.Request, name string) (int64, error) {
	raw := chi.URLParam(r, name)
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.NotFound("job %q not found", raw)
	}
	return id, nil
}

// pathUUID parses the UUID {id} of a resource called what.
func pathUUID(r *http.Request, what string) (uuid.UUID, error) {
	raw := chi.URLParam(r, "id")
	id, err := uuid.Parse(raw)
	if err != nil {
		return uuid.Nil, apperr.NotFound("%s %q not found", what, raw)
	}
	return id, nil
}

// Query values.

// badQuery is the 400 of a query parameter: code is bad_request unless
// reason (invalid_filter, invalid_sort) is given.
func badQuery(name, detail, format string, args ...any) error {
	return queryError(name, detail, format, args...)
}

func queryError(name, detail, format string, args ...any) *apperr.Error {
	msg := fmt.Sprintf(format, args...)
	return &apperr.Error{Code: apperr.CodeInvalid, Message: msg,
		Fields: []apperr.FieldError{{Field: name, Code: detail, Message: msg}}}
}

// badFilter is the 400 invalid_filter of a filter parameter.
func badFilter(name, format string, args ...any) error {
	e := queryError(name, detailInvalidFormat, format, args...)
	e.Reason = "invalid_filter"
	return e
}

// queryInt parses an optional integer (nil when absent).
func queryInt(r *http.Request, name string) (*int, error) {
	raw := r.URL.Query().Get(name)
	if raw == "" {
		return nil, nil //nolint:nilnil // absent
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		return nil, badQuery(name, detailInvalidFormat, "%s must be an integer", name)
	}
	return &n, nil
}

// queryID parses an optional integer id (nil when absent).
func queryID(r *http.Request, name string) (*int64, error) {
	raw := r.URL.Query().Get(name)
	if raw == "" {
		return nil, nil //nolint:nilnil // absent
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return nil, badQuery(name, detailInvalidFormat, "%s must be an integer", name)
	}
	return &id, nil
}

// queryIDs parses a repeated integer id filter.
func queryIDs(r *http.Request, name string) ([]int64, error) {
	out := []int64{}
	for _, v := range queryValues(r, name) {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, badFilter(name, "%s must be an integer", name)
		}
		out = append(out, id)
	}
	return out, nil
}

// queryCount parses an optional count in [1, maxN]: absent is 0 (the
// service's default).
func queryCount(r *http.Request, name string, maxN int) (int, error) {
	n, err := queryInt(r, name)
	switch {
	case err != nil:
		return 0, err
	case n == nil:
		return 0, nil
	case *n < 1 || *n > maxN:
		return 0, badQuery(name, "out_of_range", "%s must be between 1 and %d", name, maxN)
	}
	return *n, nil
}

// queryYear parses the optional year query parameter (nil when absent).
func queryYear(r *http.Request) (*int32, error) {
	const name = "year"
	raw := r.URL.Query().Get(name)
	if raw == "" {
		return nil, nil //nolint:nilnil // absent
	}
	y, err := strconv.ParseInt(raw, 10, 32)
	if err != nil || !years.Valid(y) {
		return nil, badFilter(name, "%s must be a year between %d and %d", name, years.Min, years.Max)
	}
	return new(int32(y)), nil
}

// queryYears parses a repeated year filter.
func queryYears(r *http.Request, name string) ([]int32, error) {
	out := []int32{}
	for _, v := range queryValues(r, name) {
		y, err := strconv.ParseInt(v, 10, 32)
		if err != nil || !years.Valid(y) {
			return nil, badFilter(name, "%s must be a year between %d and %d", name, years.Min, years.Max)
		}
		out = append(out, int32(y))
	}
	return out, nil
}

// queryBool parses an optional true/false filter (nil when absent).
func queryBool(r *http.Request, name string) (*bool, error) {
	raw := r.URL.Query().Get(name)
	if raw == "" {
		return nil, nil //nolint:nilnil // absent
	}
	b, err := strconv.ParseBool(raw)
	if err != nil {
		return nil, badFilter(name, "%s must be true or false", name)
	}
	return &b, nil
}

// queryTime parses an optional RFC 3339 time filter (nil when absent).
func queryTime(r *http.Request, name string) (*time.Time, error) {
	raw := r.URL.Query().Get(name)
	if raw == "" {
		return nil, nil //nolint:nilnil // absent
	}
	t, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return nil, badFilter(name, "%s must be an RFC 3339 time", name)
	}
	return &t, nil
}

// queryString is an optional string filter (nil when absent or blank).
func queryString(r *http.Request, name string) *string {
	v := strings.TrimSpace(r.URL.Query().Get(name))
	if v == "" {
		return nil
	}
	return &v
}

// queryValues are the non-blank values of a repeated parameter.
func queryValues(r *http.Request, name string) []string {
	out := []string{}
	for _, v := range r.URL.Query()[name] {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// Pagination (docs/api.md §1): page ≥ 1 (default 1), limit 1–1000
// (default 50), and the envelope {items, page, limit, total, has_more}.

const (
	defaultLimit = 50
	maxLimit     = 1000
)

// pageParams is a parsed page request.
type pageParams struct {
	Page, Limit int
}

// offset is the number of items before the page.
func (p pageParams) offset() int32 { return int32((p.Page - 1) * p.Limit) }

// detailInvalidFormat is the detail code of a value of the wrong form.
const detailInvalidFormat = "invalid_format"

// maxOffset bounds (page - 1) × limit: the offset is a 32-bit integer in
// SQL.
const maxOffset = math.MaxInt32

// queryPage parses page and limit; a page whose offset (page - 1) × limit
// would pass maxOffset is 400 out_of_range on page.
func queryPage(r *http.Request) (pageParams, error) {
	p := pageParams{Page: 1, Limit: defaultLimit}
	if n, err := queryInt(r, "page"); err != nil {
		return p, err
	} else if n != nil {
		if *n < 1 {
			return p, badQuery("page", "out_of_range", "page must be >= 1")
		}
		p.Page = *n
	}
	if n, err := queryInt(r, "limit"); err != nil {
		return p, err
	} else if n != nil {
		if *n < 1 || *n > maxLimit {
			return p, badQuery("limit", "out_of_range", "limit must be between 1 and %d", maxLimit)
		}
		p.Limit = *n
	}
	if int64(p.Page-1) > maxOffset/int64(p.Limit) {
		return pageParams{Page: 1, Limit: p.Limit}, badQuery("page", "out_of_range", "page must be at most %d with limit %d", maxOffset/p.Limit+1, p.Limit)
	}
	return p, nil
}

// page is the envelope of a paginated list.
type page[T any] struct {
	Items   []T   `json:"items"`
	Page    int   `json:"page"`
	Limit   int   `json:"limit"`
	Total   int64 `json:"total"`
	HasMore bool  `json:"has_more"`
}

// newPage wraps the items of page p out of total (items never null).
func newPage[T any](items []T, p pageParams, total int64) page[T] {
	if items == nil {
		items = []T{}
	}
	return page[T]{Items: items, Page: p.Page, Limit: p.Limit, Total: total, HasMore: int64(p.Page*p.Limit) < total}
}

// mapItems converts the rows of a list for the wire.
func mapItems[R, T any](rows []R, conv func(R) T) []T {
	out := make([]T, len(rows))
	for i, row := range rows {
		out[i] = conv(row)
	}
	return out
}

// JSON bodies.

// maxJSONBody is the JSON body limit (docs/api.md §1: 1 MiB → 413).
const maxJSONBody = 1 << 20

// decodeJSON reads a JSON object body of at most 1 MiB into v (a pointer to
// a struct): 413 beyond, 408 when it stops arriving (limits.go), 400 when
// malformed or not an object; 422 with one detail per problem when a string
// or member name anywhere in it holds a NUL character or invalid UTF-8
// (PostgreSQL stores neither; Go would silently replace the bytes), when a
// member is not declared by v (unknown_field, at any depth) or has the
// wrong JSON type (invalid_format naming the field; a number is never
// taken from a string).
func decodeJSON(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxJSONBody+1))
	if err != nil {
		if _, ok := errors.AsType[*bodyTimeoutError](err); ok {
			return err
		}
		return apperr.Invalid("error reading the request body")
	}
	if len(body) > maxJSONBody {
		return apperr.New(apperr.CodeTooLarge, "request body exceeds %d bytes", maxJSONBody)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil || members == nil {
		return apperr.Invalid("request body must be a JSON object")
	}
	if !utf8.Valid(body) || bytes.Contains(body, []byte(`\u0000`)) {
		if bad := textProblems("", body, nil); len(bad) > 0 {
			return apperr.Validation(countInvalid(len(bad)), bad...)
		}
	}
	known := jsonFields(reflect.TypeOf(v).Elem())
	var unknown []apperr.FieldError
	for k := range members {
		if !slices.Contains(known, k) {
			unknown = append(unknown, apperr.FieldError{Field: k, Code: "unknown_field", Message: "unknown field"})
		}
	}
	if len(unknown) > 0 {
		slices.SortFunc(unknown, func(a, b apperr.FieldError) int { return strings.Compare(a.Field, b.Field) })
		return apperr.Validation(countInvalid(len(unknown)), unknown...)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Field != "" {
			return apperr.Validation("1 field is invalid", apperr.FieldError{Field: te.Field, Code: detailInvalidFormat,
				Message: "must be " + jsonTypeName(te.Type)})
		}
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			name, _ = strconv.Unquote(name)
			return apperr.Validation("1 field is invalid", apperr.FieldError{Field: name, Code: "unknown_field", Message: "unknown field"})
		}
		return apperr.Invalid("malformed JSON body")
	}
	return nil
}

// jsonTypeName names the JSON type expected for a Go type.
func jsonTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	default:
		return "a " + t.String()
	}
}

// textProblems lists, by path (a.b[2].c), the string values and member
// names of the JSON value raw that hold a NUL character or invalid UTF-8.
func textProblems(path string, raw []byte, out []apperr.FieldError) []apperr.FieldError {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return out
	}
	before := len(out)
	switch raw[0] {
	case '{':
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return out
		}
		keys := slices.Sorted(maps.Keys(m))
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if strings.IndexByte(k, 0) >= 0 {
				out = append(out, apperr.FieldError{Field: strings.ReplaceAll(p, "\x00", ""), Code: detailInvalidFormat, Message: "member name must not contain a NUL character"})
				continue
			}
			out = textProblems(p, m[k], out)
		}
	case '[':
		var a []json.RawMessage
		if json.Unmarshal(raw, &a) != nil {
			return out
		}
		for i, e := range a {
			out = textProblems(path+"["+strconv.Itoa(i)+"]", e, out)
		}
	case '"':
		if !utf8.Valid(raw) {
			return append(out, apperr.FieldError{Field: path, Code: detailInvalidFormat, Message: "must be valid UTF-8"})
		}
		var str string
		if json.Unmarshal(raw, &str) == nil && strings.IndexByte(str, 0) >= 0 {
			return append(out, apperr.FieldError{Field: path, Code: detailInvalidFormat, Message: "must not contain a NUL character"})
		}
		return out
	}
	if len(out) == before && !utf8.Valid(raw) { // a member name
		out = append(out, apperr.FieldError{Field: path, Code: detailInvalidFormat, Message: "member names must be valid UTF-8"})
	}
	return out
}

// countInvalid is the message of a 422 with n field details.
func countInvalid(n int) string {
	if n == 1 {
		return "1 field is invalid"
	}
	return strconv.Itoa(n) + " fields are invalid"
}

// jsonFields are the JSON member names of a struct type.
func jsonFields(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
		case name != "":
			out = append(out, name)
		case f.IsExported():
			out = append(out, f.Name)
		}
	}
	return out
}
