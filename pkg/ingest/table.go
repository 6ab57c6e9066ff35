package ingest

// Column is a canonical column of a Table.
type Column struct {
	Name     string
	Required bool
}

// Table describes the columns of one CSV format: canonical names, which
// are required, and aliases (normalised alias → canonical name).
type Table struct {
	Name    string
	Columns []Column
	aliases map[string]string
	byName  map[string]int
}

// NewTable builds a table. Alias keys are normalised with NormalizeHeader;
// aliases naming an unknown column are ignored.
func NewTable(name string, columns []Column, aliases map[string]string) *Table {
	t := &Table{Name: name, byName: make(map[string]int, len(columns)), aliases: make(map[string]string, len(aliases))}
	for _, c := range columns {
		if i, ok := t.byName[c.Name]; ok {
			t.Columns[i].Required = t.Columns[i].Required || c.Required
			continue
		}
		t.byName[c.Name] = len(t.Columns)
		t.Columns = append(t.Columns, c)
	}
	for a, c := range aliases {
		if _, ok := t.byName[c]; ok {
			t.aliases[NormalizeHeader(a)] = c
		}
	}
	return t
}

// canonical maps a normalised header name to its canonical column.
// Canonical names win over aliases.
func (t *Table) canonical(name string) (string, bool) {
	if _, ok := t.byName[name]; ok {
		return name, true
	}
	c, ok := t.aliases[name]
	return c, ok
}

// Canonical maps a header name (normalised first) to its canonical column.
func (t *Table) Canonical(name string) (string, bool) { return t.canonical(NormalizeHeader(name)) }

// Required returns the names of the required columns.
func (t *Table) Required() []string {
	var out []string
	for _, c := range t.Columns {
		if c.Required {
			out = append(out, c.Name)
		}
	}
	return out
}

func req(names ...string) []Column {
	out := make([]Column, len(names))
	for i, n := range names {
		out[i] = Column{Name: n, Required: true}
	}
	return out
}

func opt(names ...string) []Column {
	out := make([]Column, len(names))
	for i, n := range names {
		out[i] = Column{Name: n}
	}
	return out
}

func cols(groups ...[]Column) []Column {
	var out []Column
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}
