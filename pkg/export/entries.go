//nolint:goconst // column names, params and labels read better as literals
package export

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/entry"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
)

// Module data (docs/jobs.md §7 backoffice_detailed and unit_module_entries):
// one row per entry, read in keyset pages of batchSize by report module and
// submodule, with the unit, the module's status, the submodule's data
// fields in catalogue order and the computed totals.

// batchSize is the keyset page of every row source.
const batchSize = 5000

var (
	entryHead = []Column{{"unit_id", Integer}, {"unit_cf", Text}, {"unit_name", Text}, {"affiliation", Text},
		{"year", Integer}, {"module_status", Text}}
	entryMid  = []Column{{"entry_id", Integer}, {"source", Text}}
	entryTail = []Column{{"calc_status", Text}, {"kg_co2eq", Number}, {"kg_co2eq_additional", Number}, {"factor_id", Integer}}
)

// reportModule is one report module whose entries are exported.
type reportModule struct {
	unit   report.Unit
	year   int32
	id     int64
	module string
	status string
}

// entrySource streams the entries of report modules, submodule by
// submodule.
type entrySource struct {
	db         postgres.DBTX
	rms        []reportModule
	submodules []emission.SubmoduleKey // of the exported modules, catalogue order
	owner      *string
	total      int64
}

// newEntrySource counts the entries of rms (of the modules given, in
// catalogue order); owner, when not empty, keeps only that traveller's
// trips.
func newEntrySource(ctx context.Context, db postgres.DBTX, rms []reportModule, modules []string, owner string) (*entrySource, error) {
	s := &entrySource{db: db, rms: rms}
	if owner != "" {
		s.owner = &owner
	}
	subs := []string{}
	for _, m := range emission.Modules() {
		if !slices.Contains(modules, string(m.Key)) {
			continue
		}
		for _, sub := range m.Submodules {
			if entry.Columns(sub) != nil {
				s.submodules = append(s.submodules, sub)
				subs = append(subs, string(sub))
			}
		}
	}
	ids := make([]int64, len(rms))
	for i, rm := range rms {
		ids[i] = rm.id
	}
	n, err := dbsqlc.New(db).ExportEntriesCount(ctx, dbsqlc.ExportEntriesCountParams{
		ReportModuleIds: ids, Submodules: subs, OwnerSciper: s.owner})
	if err != nil {
		return nil, fmt.Errorf("error counting entries: %w", err)
	}
	s.total = n
	return s, nil
}

// unitEntries is the entry source of one unit-year's modules.
func unitEntries(ctx context.Context, db postgres.DBTX, u report.Unit, year int32, modules []string, owner string) (*entrySource, error) {
	q := dbsqlc.New(db)
	rep, err := q.ReportGetByUnitYear(ctx, dbsqlc.ReportGetByUnitYearParams{UnitID: u.ID, Year: year})
	if err != nil {
		return nil, fmt.Errorf("error reading the report of unit %d for %d: %w", u.ID, year, err)
	}
	rows, err := q.ExportReportModules(ctx, dbsqlc.ExportReportModulesParams{ReportIds: []int64{rep.ID}, Modules: modules})
	if err != nil {
		return nil, fmt.Errorf("error reading report modules: %w", err)
	}
	rms := make([]reportModule, len(rows))
	for i, r := range rows {
		rms[i] = reportModule{unit: u, year: r.Year, id: r.ID, module: r.Module, status: r.Status}
	}
	return newEntrySource(ctx, db, rms, modules, owner)
}

// tables is one table per submodule (XLSX sheet named after the submodule,
// ZIP member <module>__<submodule>.csv).
func (s *entrySource) tables() []Table {
	out := make([]Table, 0, len(s.submodules))
	for _, sub := range s.submodules {
		fields := entry.Columns(sub)
		cols := slices.Concat(entryHead, entryMid, fieldColumns(fields), entryTail)
		pos := make([]int, len(fields))
		for i := range fields {
			pos[i] = len(entryHead) + len(entryMid) + i
		}
		module := emission.ModuleOf(sub)
		out = append(out, Table{
			Name: string(sub), File: string(module) + "__" + string(sub), Columns: cols,
			Rows: func(ctx context.Context, emit Emit) error {
				return s.rows(ctx, sub, len(cols), len(entryHead), pos, fields, emit)
			},
		})
	}
	return out
}

// combined is one table for the submodules of module (a CSV): a submodule
// column after module_status and the union of the submodules' fields.
func (s *entrySource) combined(module emission.ModuleKey) Table {
	var union []entry.Column
	for _, sub := range s.submodules {
		for _, f := range entry.Columns(sub) {
			if !slices.ContainsFunc(union, func(u entry.Column) bool { return u.Name == f.Name }) {
				union = append(union, f)
			}
		}
	}
	head := append(slices.Clone(entryHead), Column{"submodule", Text})
	cols := slices.Concat(head, entryMid, fieldColumns(union), entryTail)
	return Table{Name: string(module), Columns: cols, Rows: func(ctx context.Context, emit Emit) error {
		for _, sub := range s.submodules {
			fields := entry.Columns(sub)
			pos := make([]int, len(fields))
			for i, f := range fields {
				pos[i] = len(head) + len(entryMid) + slices.IndexFunc(union, func(u entry.Column) bool { return u.Name == f.Name })
			}
			err := s.rows(ctx, sub, len(cols), len(head), pos, fields, func(row []any) error {
				row[len(entryHead)] = string(sub)
				return emit(row)
			})
			if err != nil {
				return err
			}
		}
		return nil
	}}
}

func fieldColumns(fields []entry.Column) []Column {
	out := make([]Column, len(fields))
	for i, f := range fields {
		out[i] = Column{Name: f.Name, Type: Text}
		if f.Numeric {
			out[i].Type = Number
		}
	}
	return out
}

// rows emits the entries of submodule sub of every report module: width
// cells, the head first, the entry id and source at mid (after the head and
// its extra cells), each field at pos[i], the tail last.
func (s *entrySource) rows(ctx context.Context, sub emission.SubmoduleKey, width, mid int, pos []int, fields []entry.Column, emit Emit) error {
	module := string(emission.ModuleOf(sub))
	q := dbsqlc.New(s.db)
	row := make([]any, width)
	for _, rm := range s.rms {
		if rm.module != module {
			continue
		}
		affiliation := strings.Join(rm.unit.Affiliations, " / ")
		var cf any
		if rm.unit.CF != nil {
			cf = *rm.unit.CF
		}
		err := prefetch(ctx, func(ctx context.Context, after int64) ([]dbsqlc.ExportEntriesAfterRow, error) {
			page, err := q.ExportEntriesAfter(ctx, dbsqlc.ExportEntriesAfterParams{
				ReportModuleID: rm.id, Submodule: string(sub), AfterID: after, OwnerSciper: s.owner, Limit: batchSize})
			if err != nil {
				return nil, fmt.Errorf("error reading %s entries: %w", sub, err)
			}
			return page, nil
		}, func(e dbsqlc.ExportEntriesAfterRow) int64 { return e.ID }, func(e dbsqlc.ExportEntriesAfterRow) error {
			clear(row)
			row[0], row[1], row[2], row[3], row[4], row[5] = rm.unit.ID, cf, rm.unit.Name, affiliation, int64(rm.year), rm.status
			row[mid], row[mid+1] = e.ID, e.Source
			if err := fillFields(row, pos, fields, e.Data); err != nil {
				return fmt.Errorf("error decoding entry %d: %w", e.ID, err)
			}
			t := width - len(entryTail)
			row[t], row[t+1], row[t+2] = e.CalcStatus, report.RoundKg(e.KgCo2eq), report.RoundKg(e.KgCo2eqAdditional)
			if e.PrimaryFactorID != nil {
				row[t+3] = *e.PrimaryFactorID
			}
			return emit(row)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// prefetch reads a keyset-paged source (pages of batchSize, each after the
// key of the previous page's last row) and calls each for every row, in
// order. The next page is read while the rows of the current one are
// written (the database and the writer work at the same time); at most two
// pages are held.
func prefetch[R any](ctx context.Context, read func(ctx context.Context, after int64) ([]R, error), key func(R) int64,
	each func(R) error,
) error {
	g, gctx := errgroup.WithContext(ctx)
	pages := make(chan []R, 1)
	g.Go(func() error {
		defer close(pages)
		var after int64
		for {
			page, err := read(gctx, after)
			if err != nil {
				return err
			}
			select {
			case pages <- page:
			case <-gctx.Done():
				return gctx.Err()
			}
			if len(page) < batchSize {
				return nil
			}
			after = key(page[len(page)-1])
		}
	})
	g.Go(func() error {
		for page := range pages {
			for _, r := range page {
				if err := each(r); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return g.Wait()
}

// fillFields sets the data fields of one entry payload at their positions:
// numbers of numeric fields as float64, other values as text.
func fillFields(row []any, pos []int, fields []entry.Column, data []byte) error {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return err
	}
	for i, f := range fields {
		row[pos[i]] = fieldValue(m[f.Name], f.Numeric)
	}
	return nil
}

func fieldValue(v any, numeric bool) any {
	switch x := v.(type) {
	case nil:
		return nil
	case json.Number:
		if numeric {
			if f, err := x.Float64(); err == nil {
				return f
			}
		}
		return x.String()
	case string:
		return x
	case bool:
		return x
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
}
