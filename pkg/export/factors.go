//nolint:goconst // column names, params and labels read better as literals
package export

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

// factorParams are the params of factors: a year's emission factors,
// optionally of one submodule.
type factorParams struct {
	Year      int32  `json:"year"`
	Submodule string `json:"submodule,omitempty"`
}

func (p *factorParams) validate() error {
	if !years.Valid(int64(p.Year)) {
		return invalidField("params.year", "out_of_range", "params.year must be a year between %d and %d", years.Min, years.Max)
	}
	if p.Submodule != "" {
		if _, ok := emission.LookupSubmodule(emission.SubmoduleKey(p.Submodule)); !ok {
			return invalidField("params.submodule", "invalid_enum", "unknown submodule %q", p.Submodule)
		}
	}
	return nil
}

// factorsPlan is factors: one row per factor with its classification and
// values spread over one column per key (docs/api.md §8 Factor).
type factorsPlan struct {
	factorParams
}

func (p *factorsPlan) scope() scope {
	s := scope{Year: &p.Year}
	if p.Submodule != "" {
		m := string(emission.ModuleOf(emission.SubmoduleKey(p.Submodule)))
		s.Module = &m
	}
	return s
}

// authorize is bo(configuration, view), the permission of GET /factors.
func (p *factorsPlan) authorize(_ context.Context, _ postgres.DBTX, c Caller) error {
	if !c.Perms.BO(perm.BOConfiguration, perm.ActionView) {
		return forbidden("backoffice." + perm.BOConfiguration + ":" + perm.ActionView)
	}
	return nil
}

func (p *factorsPlan) submodule() *string {
	if p.Submodule == "" {
		return nil
	}
	return &p.Submodule
}

func (p *factorsPlan) build(ctx context.Context, db postgres.DBTX, _ buildEnv) (content, error) {
	q := dbsqlc.New(db)
	n, err := q.ExportFactorsCount(ctx, dbsqlc.ExportFactorsCountParams{Year: p.Year, Submodule: p.submodule()})
	if err != nil {
		return content{}, fmt.Errorf("error counting factors: %w", err)
	}
	keys, err := q.ExportFactorKeys(ctx, dbsqlc.ExportFactorKeysParams{Year: p.Year, Submodule: p.submodule()})
	if err != nil {
		return content{}, fmt.Errorf("error reading factor keys: %w", err)
	}
	cols := []Column{{"factor_id", Integer}, {"year", Integer}, {"module", Text}, {"submodule", Text},
		{"emission_type", Text}, {"class_key", Text}}
	for _, k := range keys.ClassificationKeys {
		cols = append(cols, Column{"classification." + k, Text})
	}
	for _, k := range keys.ValueKeys {
		cols = append(cols, Column{"values." + k, Text})
	}
	cols = append(cols, Column{"source", Text}, Column{"updated_at", Time}, Column{"version", Integer})
	nc, nv := len(keys.ClassificationKeys), len(keys.ValueKeys)
	t := Table{Name: "factors", Columns: cols, Rows: func(ctx context.Context, emit Emit) error {
		row := make([]any, len(cols))
		after := int64(0)
		for {
			page, err := q.ExportFactorsAfter(ctx, dbsqlc.ExportFactorsAfterParams{Year: p.Year, Submodule: p.submodule(),
				AfterID: after, Limit: batchSize})
			if err != nil {
				return fmt.Errorf("error reading factors: %w", err)
			}
			for _, f := range page {
				clear(row)
				row[0], row[1], row[2], row[3], row[4], row[5] = f.ID, int64(p.Year), f.Module, f.Submodule, f.EmissionType, f.ClassKey
				if err := spread(row[6:6+nc], keys.ClassificationKeys, f.Classification); err != nil {
					return fmt.Errorf("error decoding factor %d: %w", f.ID, err)
				}
				if err := spread(row[6+nc:6+nc+nv], keys.ValueKeys, f.Values); err != nil {
					return fmt.Errorf("error decoding factor %d: %w", f.ID, err)
				}
				row[6+nc+nv], row[7+nc+nv], row[8+nc+nv] = f.Source, f.UpdatedAt, f.Version
				if err := emit(row); err != nil {
					return err
				}
			}
			if len(page) < batchSize {
				return nil
			}
			after = page[len(page)-1].ID
		}
	}}
	return content{Total: n, Tables: []Table{t}}, nil
}

// spread puts the members of a JSON object into cells, one per key.
func spread(cells []any, keys []string, raw json.RawMessage) error {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return err
	}
	for i, k := range keys {
		cells[i] = fieldValue(m[k], true)
	}
	return nil
}
