//nolint:goconst // column names, params and labels read better as literals
package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
)

// Kind is what an export holds (docs/api.md §12).
type Kind string

// The export kinds. factors and unit_bundle are this implementation's
// additions to the kinds of docs/api.md §12 (issue 14).
const (
	KindUnitResults        Kind = "unit_results"
	KindUnitModuleEntries  Kind = "unit_module_entries"
	KindBackofficeUnits    Kind = "backoffice_units"
	KindBackofficeResults  Kind = "backoffice_results"
	KindBackofficeDetailed Kind = "backoffice_detailed"
	KindBackofficeUsage    Kind = "backoffice_usage"
	KindAuditLog           Kind = "audit_log"
	KindFactors            Kind = "factors"
	KindUnitBundle         Kind = "unit_bundle"
)

// Format is the file format of an export.
type Format string

// The formats.
const (
	FormatCSV  Format = "csv"
	FormatXLSX Format = "xlsx"
	FormatPDF  Format = "pdf"
	FormatZIP  Format = "zip"
)

// Ext is the file extension of f.
func (f Format) Ext() string { return string(f) }

// ContentType is the media type of f.
func (f Format) ContentType() string {
	switch f {
	case FormatCSV:
		return "text/csv; charset=utf-8"
	case FormatXLSX:
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case FormatPDF:
		return "application/pdf"
	default:
		return "application/zip"
	}
}

// MaxRows is the largest export (docs/jobs.md §4.9): more rows is the
// permanent failure too_many_rows.
const MaxRows = 1_000_000

// Failure codes of the exports (docs/api.md §1.1).
const (
	ReasonNotReady    apperr.Reason = "export_not_ready"
	ReasonGone        apperr.Reason = "gone"
	ReasonTooManyRows apperr.Reason = "too_many_rows"
)

func errTooManyRows(n, limit int64) error {
	return apperr.WithReason(apperr.CodeValidation, ReasonTooManyRows, "the export has %d rows or more, at most %d are allowed", n, limit)
}

// kindSpec is what a kind accepts: its formats and the members of its
// params object.
type kindSpec struct {
	formats []Format
	params  []string
}

// reportingFilters are the members the back-office kinds take: the
// reporting filters of docs/api.md §11.
var reportingFilters = []string{"year", "affiliation", "unit", "status", "module_status", "q"}

var kinds = map[Kind]kindSpec{
	KindUnitResults:        {formats: []Format{FormatPDF, FormatXLSX, FormatCSV}, params: []string{"unit_id", "year", "exclude_modules", "basis", "lang"}},
	KindUnitModuleEntries:  {formats: []Format{FormatCSV, FormatXLSX}, params: []string{"unit_id", "year", "module"}},
	KindBackofficeUnits:    {formats: []Format{FormatCSV, FormatXLSX, FormatPDF}, params: append(slices.Clone(reportingFilters), "sort", "lang")},
	KindBackofficeResults:  {formats: []Format{FormatCSV, FormatXLSX}, params: append(slices.Clone(reportingFilters), "basis")},
	KindBackofficeDetailed: {formats: []Format{FormatZIP, FormatXLSX}, params: append(slices.Clone(reportingFilters), "modules")},
	KindBackofficeUsage:    {formats: []Format{FormatCSV, FormatXLSX}, params: slices.Clone(reportingFilters)},
	KindAuditLog: {formats: []Format{FormatCSV, FormatXLSX}, params: []string{"actor_sciper", "event", "action", "entity_type",
		"entity_id", "from", "to", "q", "module", "ship_status"}},
	KindFactors:    {formats: []Format{FormatCSV, FormatXLSX}, params: []string{"year", "submodule"}},
	KindUnitBundle: {formats: []Format{FormatZIP}, params: []string{"unit_id", "year", "basis", "lang"}},
}

// Kinds lists the export kinds, sorted.
func Kinds() []Kind {
	out := make([]Kind, 0, len(kinds))
	for k := range kinds {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Formats lists the formats of a kind (nil for an unknown kind).
func Formats(k Kind) []Format { return slices.Clone(kinds[k].formats) }

// invalidField is a 422 with one detail.
func invalidField(field, code, format string, args ...any) *apperr.Error {
	msg := fmt.Sprintf(format, args...)
	return apperr.Validation(msg, apperr.FieldError{Field: field, Code: code, Message: msg})
}

// parseKindFormat checks kind and format (422 invalid_enum).
func parseKindFormat(kind, format string) (Kind, Format, error) {
	k := Kind(kind)
	spec, ok := kinds[k]
	if !ok {
		names := make([]string, 0, len(kinds))
		for _, k := range Kinds() {
			names = append(names, string(k))
		}
		if kind == "" {
			return "", "", invalidField("kind", "required", "kind is required")
		}
		return "", "", invalidField("kind", "invalid_enum", "unknown export kind %q (one of %s)", kind, strings.Join(names, ", "))
	}
	f := Format(format)
	if !slices.Contains(spec.formats, f) {
		offered := make([]string, len(spec.formats))
		for i, f := range spec.formats {
			offered[i] = string(f)
		}
		if format == "" {
			return "", "", invalidField("format", "required", "format is required")
		}
		return "", "", invalidField("format", "invalid_enum", "format %q is not offered for %s (one of %s)", format, kind, strings.Join(offered, ", "))
	}
	return k, f, nil
}

// decodeParams decodes the params object of kind k into v, refusing the
// members the kind does not take (422 unknown_field) and members of the
// wrong JSON type (422 invalid_format), each detail on params.<name>.
func decodeParams(k Kind, raw json.RawMessage, v any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		raw = []byte("{}")
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil || members == nil {
		return invalidField("params", "invalid_format", "params must be a JSON object")
	}
	allowed := kinds[k].params
	var unknown []apperr.FieldError
	for name := range members {
		if !slices.Contains(allowed, name) {
			unknown = append(unknown, apperr.FieldError{Field: "params." + name, Code: "unknown_field",
				Message: fmt.Sprintf("%s takes no parameter %q (it takes %s)", k, name, strings.Join(allowed, ", "))})
		}
	}
	if len(unknown) > 0 {
		sort.Slice(unknown, func(i, j int) bool { return unknown[i].Field < unknown[j].Field })
		return apperr.Validation(fmt.Sprintf("%d parameters are unknown", len(unknown)), unknown...)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(v); err != nil {
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Field != "" {
			return invalidField("params."+te.Field, "invalid_format", "params.%s must be a %s", te.Field, te.Type.String())
		}
		return invalidField("params", "invalid_format", "malformed params: %v", err)
	}
	return nil
}
