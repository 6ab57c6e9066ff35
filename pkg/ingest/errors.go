package ingest

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Severity tells whether a row error skips the row.
type Severity string

// Severities (docs/jobs.md §3).
const (
	SeverityError   Severity = "error"   // the row is skipped
	SeverityWarning Severity = "warning" // the row is loaded
)

// Row error codes (docs/jobs.md §3).
const (
	CodeRequired                 = "required"
	CodeInvalidNumber            = "invalid_number"
	CodeInvalidInteger           = "invalid_integer"
	CodeInvalidDate              = "invalid_date"
	CodeInvalidEnum              = "invalid_enum"
	CodeOutOfRange               = "out_of_range"
	CodeTooLong                  = "too_long"
	CodeUnknownUnit              = "unknown_unit"
	CodeInactiveUnit             = "inactive_unit"
	CodeDuplicateInstitutionalID = "duplicate_institutional_id"
	CodeDuplicateInFile          = "duplicate_in_file"
	CodeCategoryMismatch         = "category_mismatch"
	CodeUnknownCategory          = "unknown_category"
	CodeAmbiguousCategory        = "ambiguous_category"
	CodeNoFactorForCode          = "no_factor_for_code"
	CodeAmbiguousLocation        = "ambiguous_location"
	CodeUnknownLocation          = "unknown_location"
	CodeOverrideIgnored          = "override_ignored"
	CodeHoursExceedWeek          = "hours_exceed_week"
	CodeClassificationNotInTree  = "classification_not_in_tree"
	CodeModeMismatch             = "mode_mismatch"
)

// Job-level (whole file) failure codes (docs/jobs.md §3).
const (
	CodeEmptyFile          = "empty_file"
	CodeEncodingInvalid    = "csv_encoding_invalid"
	CodeMissingColumns     = "missing_columns"
	CodeDuplicateColumn    = "duplicate_column"
	CodeTooManyRows        = "too_many_rows"
	CodeOverlappingBands   = "overlapping_bands"
	CodeMalformed          = "csv_malformed"    // unbalanced quotes, bare quotes (not in §3; see FileError)
	CodeRecordTooLarge     = "record_too_large" // a record above Options.MaxRecordBytes
	CodeTooManyColumns     = "too_many_columns"
	maxValueRunes          = 100
	maxColumnNameInMessage = 20
)

// RowError is one problem of one record (docs/jobs.md §3). Column is the
// normalised column name, or "" for the row as a whole (JSON null).
type RowError struct {
	Row      int      `json:"row"`
	Line     int      `json:"line"`
	Column   *string  `json:"column"`
	Code     string   `json:"code"`
	Message  string   `json:"message"`
	Value    string   `json:"value"`
	Severity Severity `json:"severity"`
}

func (e RowError) Error() string {
	col := ""
	if e.Column != nil {
		col = " column " + *e.Column
	}
	return fmt.Sprintf("row %d (line %d)%s: %s: %s", e.Row, e.Line, col, e.Code, e.Message)
}

// ColumnName returns the column or "".
func (e RowError) ColumnName() string {
	if e.Column == nil {
		return ""
	}
	return *e.Column
}

// HasErrors reports whether errs holds an error-severity entry (the row is
// skipped).
func HasErrors(errs []RowError) bool {
	for i := range errs {
		if errs[i].Severity == SeverityError {
			return true
		}
	}
	return false
}

// FileError rejects a whole file (a job-level failure of docs/jobs.md §3).
// Codes beyond §3 (csv_malformed, record_too_large, too_many_columns) are
// reported by the jobs as file rejections with their message.
type FileError struct {
	Code    string
	Line    int      // physical line, 0 when not tied to a line
	Columns []string // missing_columns, duplicate_column
	Message string
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s: line %d: %s", e.Code, e.Line, e.Message)
	}
	return e.Code + ": " + e.Message
}

// truncateValue cuts a value to 100 characters (runes) and makes it valid
// UTF-8.
func truncateValue(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if utf8.RuneCountInString(s) <= maxValueRunes {
		return s
	}
	n := 0
	for i := range s {
		if n == maxValueRunes {
			return s[:i]
		}
		n++
	}
	return s
}
