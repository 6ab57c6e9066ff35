package export

import (
	"context"
	"strconv"
	"time"
)

// Type is how the cells of a column are written: XLSX keeps numbers
// numeric (typed cells), CSV writes every cell as text.
type Type int

// Column types.
const (
	Text Type = iota
	Number
	Integer
	Time
)

// Column is one column of a table.
type Column struct {
	Name string
	Type Type
}

// Emit receives one row of a table: one value per column, each a string,
// float64, int64, time.Time, bool or nil (an empty cell). Numbers are
// already rounded at the edge (docs/domain.md §1).
type Emit func(row []any) error

// Table is one tabular part of an export, streamed: a CSV file, an XLSX
// sheet, one CSV member of a ZIP. Rows calls emit once per row, reading its
// source in keyset batches (never the whole table at once).
type Table struct {
	// Name is the XLSX sheet name (at most 31 characters).
	Name string
	// File is the base name of the table's CSV member in a ZIP (Name when
	// empty).
	File    string
	Columns []Column
	Rows    func(ctx context.Context, emit Emit) error
}

// file is the name of t's CSV member in a ZIP.
func (t Table) file() string {
	if t.File != "" {
		return t.File + ".csv"
	}
	return t.Name + ".csv"
}

// Header is the header row of t.
func (t Table) Header() []string {
	out := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		out[i] = c.Name
	}
	return out
}

// text is the CSV form of a cell value.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return SafeCell(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int:
		return strconv.Itoa(x)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	default:
		return ""
	}
}
