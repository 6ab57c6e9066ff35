//nolint:goconst // JSON, audit and field names read better as literals
package factors

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/ingest"
)

// A factor of the API is {classification: {key: string}, values: {key:
// number or string}}. Its keys are the columns of the submodule's factor
// file (docs/jobs.md §5.4; aliases and the stored name `description`
// accepted); each value becomes the cell of that column and the row is
// parsed by ingest.ParseFactor, so that the API validates a factor exactly
// like a factor CSV row. Problems are 422 validation_failed with one
// detail per field: classification.<key> or values.<key>, the whole
// classification for classification_not_in_tree.

// derivedValues are values the import derives and stores, read-only in
// the API: they are ignored on input (a client may send back the values
// it read).
var derivedValues = []string{keySumFromCSV}

// keySumFromCSV marks a facility kg_co2eq_sum given by a person (CSV or
// API), which the computed refresh keeps (docs/domain.md §7.6).
const (
	keySumFromCSV = "kg_co2eq_sum_from_csv"
	keyKgSum      = "kg_co2eq_sum"
)

// fieldErr is one detail of a 422.
func fieldErr(field, code, format string, args ...any) apperr.FieldError {
	return apperr.FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)}
}

func invalid(fields []apperr.FieldError) error {
	slices.SortStableFunc(fields, func(a, b apperr.FieldError) int {
		switch {
		case a.Field < b.Field:
			return -1
		case a.Field > b.Field:
			return 1
		}
		return 0
	})
	msg := "1 field is invalid"
	if len(fields) != 1 {
		msg = fmt.Sprintf("%d fields are invalid", len(fields))
	}
	return apperr.Validation(msg, fields...)
}

// checkSubmodule returns the submodule of a request when it has factors
// (422 invalid_enum on field otherwise).
func checkSubmodule(field, raw string) (emission.SubmoduleKey, error) {
	sub := emission.SubmoduleKey(raw)
	if _, ok := ingest.FactorFields(sub); !ok {
		return "", invalid([]apperr.FieldError{fieldErr(field, "invalid_enum", "unknown submodule %q (or one without factors)", raw)})
	}
	return sub, nil
}

// cellsOf lays a factor out as cells by column. Unknown keys, a key given
// twice (under two names) and values of the wrong JSON type are field
// errors; null values are absent.
func cellsOf(sub emission.SubmoduleKey, cls, vals map[string]any) (map[string]string, []apperr.FieldError) {
	cells := map[string]string{}
	var bad []apperr.FieldError
	add := func(part string, classification bool, in map[string]any) {
		for _, k := range slices.Sorted(maps.Keys(in)) {
			v := in[k]
			field := part + "." + k
			f, ok := ingest.FactorFieldByName(sub, k)
			if !ok || f.Classification != classification {
				if !classification && slices.Contains(derivedValues, k) {
					continue
				}
				bad = append(bad, fieldErr(field, "unknown_field", "unknown field"))
				continue
			}
			if v == nil {
				continue
			}
			if _, dup := cells[f.Column]; dup {
				bad = append(bad, fieldErr(field, "unknown_field", "%s is given twice", f.Key))
				continue
			}
			switch x := v.(type) {
			case string:
				cells[f.Column] = x
			case float64:
				if classification {
					bad = append(bad, fieldErr(field, "invalid_format", "must be a string"))
					continue
				}
				cells[f.Column] = strconv.FormatFloat(x, 'g', -1, 64)
			default:
				want := "a number or a string"
				if classification {
					want = "a string"
				}
				bad = append(bad, fieldErr(field, "invalid_format", "must be %s", want))
			}
		}
	}
	add("classification", true, cls)
	add("values", false, vals)
	return cells, bad
}

// apiCodes maps row error codes of the CSV parser to the detail codes of
// the API (docs/api.md §1.1); others are kept.
var apiCodes = map[string]string{
	ingest.CodeInvalidNumber:  "invalid_format",
	ingest.CodeInvalidInteger: "invalid_format",
}

// parse validates a factor of sub given as the API's classification and
// values: the row ready to store, or a 422 with the field details.
func parse(sub emission.SubmoduleKey, cls, vals map[string]any) (ingest.FactorRow, error) {
	// The row is parsed even when some keys are refused, so that one
	// answer lists every problem (one detail per field).
	cells, bad := cellsOf(sub, cls, vals)
	reported := map[string]bool{}
	for _, b := range bad {
		reported[b.Field] = true
	}
	row, rowErrs, err := ingest.ParseFactor(sub, cells)
	if err != nil {
		return row, fmt.Errorf("error validating a %s factor: %w", sub, err)
	}
	for _, e := range rowErrs {
		if e.Severity != ingest.SeverityError {
			continue
		}
		code := e.Code
		if c, ok := apiCodes[code]; ok {
			code = c
		}
		field := "values"
		switch {
		case e.Column != nil:
			if f, ok := ingest.FactorFieldByName(sub, *e.Column); ok {
				field = "values." + f.Key
				if f.Classification {
					field = "classification." + f.Key
				}
			}
		case e.Code == ingest.CodeClassificationNotInTree || e.Code == ingest.CodeRequired:
			field = "classification"
		}
		if reported[field] {
			continue
		}
		reported[field] = true
		bad = append(bad, apperr.FieldError{Field: field, Code: code, Message: e.Message})
	}
	if len(bad) > 0 {
		return row, invalid(bad)
	}
	return row, nil
}

// asAny widens a stored classification for a merge.
func asAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// merge applies a JSON merge patch of one level to the stored fields base
// of a factor of sub: keys of patch (a column, an alias or a stored key)
// replace the stored one, null removes it.
func merge(sub emission.SubmoduleKey, base, patch map[string]any) map[string]any {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range patch {
		if f, ok := ingest.FactorFieldByName(sub, k); ok {
			k = f.Key
		}
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}
