package ingest

import "fmt"

// Reduction-objective datasets (docs/jobs.md §5.6), parsed synchronously by
// POST /years/{year}/reduction-objectives/{dataset}.
const (
	DatasetFootprint  = "footprint"
	DatasetPopulation = "population"
	DatasetScenarios  = "scenarios"
)

// ObjectivesTable returns the CSV table of a reduction-objective dataset.
func ObjectivesTable(dataset string) (*Table, error) {
	switch dataset {
	case DatasetFootprint:
		return NewTable(dataset, req("year", "category", "co2"), map[string]string{"t_co2eq": "co2"}), nil
	case DatasetPopulation:
		return NewTable(dataset, req("year", "pop"), map[string]string{"population": "pop"}), nil
	case DatasetScenarios:
		return NewTable(dataset, req("scenario", "year", "reduction_percentage"), nil), nil
	}
	return nil, fmt.Errorf("unknown reduction-objective dataset %q", dataset)
}

// ObjectivesParser parses the rows of a reduction-objective file into the
// items of its configuration list (docs/domain.md §11.2):
// institutional_footprint {year, category, t_co2eq}, population_projections
// {year, population}, unit_scenarios {scenario, year, reduction_percentage}.
type ObjectivesParser struct {
	dataset string
	items   []map[string]any
}

// NewObjectivesParser returns the parser of a dataset.
func NewObjectivesParser(dataset string) (*ObjectivesParser, error) {
	if _, err := ObjectivesTable(dataset); err != nil {
		return nil, err
	}
	return &ObjectivesParser{dataset: dataset}, nil
}

// minObjectiveYear and maxObjectiveYear bound the years of an objective (reference years far back,
// projections far ahead).
const minObjectiveYear, maxObjectiveYear = 1900, 2200

// Parse parses and accumulates one record.
func (p *ObjectivesParser) Parse(rec *Record) []RowError {
	c := newCells(rec)
	year, yok := c.integer("year", true)
	if yok && (year < minObjectiveYear || year > maxObjectiveYear) {
		c.outOfRange("year", float64(year), fmt.Sprintf("between %d and %d", minObjectiveYear, maxObjectiveYear))
	}
	item := map[string]any{"year": year}
	switch p.dataset {
	case DatasetFootprint:
		cat := c.str("category", true)
		c.maxLen("category", cat, 100)
		co2, _ := c.nonNeg("co2", true)
		item["category"], item["t_co2eq"] = cat, co2
	case DatasetPopulation:
		pop, _ := c.nonNeg("pop", true)
		item["population"] = pop
	case DatasetScenarios:
		sc := c.str("scenario", true)
		c.maxLen("scenario", sc, 100)
		share, _ := c.between("reduction_percentage", true, 0, 1)
		item["scenario"], item["reduction_percentage"] = sc, share
	}
	if c.failed() {
		return c.errs
	}
	p.items = append(p.items, item)
	return c.errs
}

// Items returns the parsed items in file order.
func (p *ObjectivesParser) Items() []map[string]any { return p.items }
