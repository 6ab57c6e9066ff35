package entry

import "github.com/co2-calculator/co2-calculator/pkg/emission"

// Column is one data field of a submodule as a table column (exports,
// docs/jobs.md §7): its name and whether its values are numbers.
type Column struct {
	Name    string
	Numeric bool
}

// Columns are the data fields of a submodule in catalogue (display) order,
// system fields included; nil for a submodule without entries.
func Columns(sub emission.SubmoduleKey) []Column {
	fs := fieldsOf(sub)
	if fs == nil {
		return nil
	}
	out := make([]Column, len(fs))
	for i, f := range fs {
		out[i] = Column{Name: f.name, Numeric: f.kind == kNumber || f.kind == kInt}
	}
	return out
}
