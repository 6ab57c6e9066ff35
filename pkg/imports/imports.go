// Package imports is the one home of uploads and their imports
// (docs/api.md §9, docs/jobs.md §4.1–§4.3, §5). Service accepts a file
// (accept.go: checks, blob put, then pipeline, upload row, upload.create
// and the import job in one transaction), copies an upload to another year
// (copy.go), reads uploads (query.go), and loads them for the import jobs
// (load.go: the Open prologue and Load; data.go: the validate and load
// passes of a data file, replacement rules, fingerprints, the batch writer
// and COPY; load_factors.go; load_reference.go; entries.go lends the batch
// writer to loaders whose rows come from elsewhere, the Tableau sync). This
// file holds the upload kinds, scopes and options, the CSV table of an
// upload, and the bounded collection of row errors and counters
// (docs/jobs.md §3).
//
// The API (package httpapi) and the jobs (package jobs) are adapters: they
// decode their input, call Service and map its errors.
package imports

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/ingest"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// Upload kinds (uploads.kind).
const (
	KindData      = "data"
	KindFactors   = "factors"
	KindReference = "reference"
)

// Upload scopes (uploads.scope).
const (
	ScopeYear   = "year"   // back-office per-year data file (all units)
	ScopeUnit   = "unit"   // module-page upload of one unit
	ScopeGlobal = "global" // factors and reference data
)

// Entry sources written by the imports.
const (
	SourceCSVYear = "csv_year"
	SourceCSVUnit = "csv_unit"
)

// MaxRowErrors is the number of row errors kept per job (docs/jobs.md §3).
const MaxRowErrors = 100

// ErrUnknownGroup is returned for a module/submodule/dataset combination
// that has no CSV format.
var ErrUnknownGroup = errors.New("no CSV format for this upload")

// Options are the upload options stored in uploads.options.
type Options struct {
	ReplaceExisting bool `json:"replace_existing,omitempty"`
	DeleteStale     bool `json:"delete_stale,omitempty"`
}

// OptionsOf decodes uploads.options (unknown or malformed: zero options).
func OptionsOf(u dbsqlc.Upload) Options {
	var o Options
	_ = json.Unmarshal(u.Options, &o)
	return o
}

// DataGroup returns the data group of a data upload: the submodule, or the
// module for the module files of equipment and purchases (no submodule).
func DataGroup(module, submodule string) (string, error) {
	if _, ok := emission.LookupModule(emission.ModuleKey(module)); !ok {
		return "", fmt.Errorf("%w: unknown module %q", ErrUnknownGroup, module)
	}
	if submodule == "" {
		if module == ingest.GroupEquipment || module == ingest.GroupPurchases {
			return module, nil
		}
		return "", fmt.Errorf("%w: module %s needs a submodule", ErrUnknownGroup, module)
	}
	if emission.ModuleOf(emission.SubmoduleKey(submodule)) != emission.ModuleKey(module) {
		return "", fmt.Errorf("%w: submodule %s is not part of module %s", ErrUnknownGroup, submodule, module)
	}
	if _, err := ingest.DataTable(submodule, false); err != nil {
		return "", fmt.Errorf("%w: %s", ErrUnknownGroup, submodule)
	}
	return submodule, nil
}

// FactorGroup returns the factor upload group of a module/submodule and the
// submodule a module file is pinned to (empty: every routed submodule).
func FactorGroup(module, submodule string) (string, emission.SubmoduleKey, error) {
	groups := ingest.FactorGroups()
	switch {
	case submodule != "" && slices.Contains(groups, submodule):
		return submodule, "", nil
	case submodule != "" && slices.Contains(groups, module):
		sub := emission.SubmoduleKey(submodule)
		if !slices.Contains(ingest.FactorGroupSubmodules(module), sub) {
			return "", "", fmt.Errorf("%w: submodule %s is not part of factor group %s", ErrUnknownGroup, submodule, module)
		}
		return module, sub, nil
	case submodule == "" && slices.Contains(groups, module):
		return module, "", nil
	}
	return "", "", fmt.Errorf("%w: no factor file for %s/%s", ErrUnknownGroup, module, submodule)
}

// FactorModule returns the module a factor group belongs to.
func FactorModule(group string) emission.ModuleKey {
	subs := ingest.FactorGroupSubmodules(group)
	if len(subs) == 0 {
		return ""
	}
	return emission.ModuleOf(subs[0])
}

// Table returns the CSV table an upload is read against.
func Table(kind, scope, module, submodule, dataset string) (*ingest.Table, error) {
	switch kind {
	case KindData:
		g, err := DataGroup(module, submodule)
		if err != nil {
			return nil, err
		}
		return ingest.DataTable(g, scope == ScopeYear)
	case KindFactors:
		g, _, err := FactorGroup(module, submodule)
		if err != nil {
			return nil, err
		}
		return ingest.FactorTable(g)
	case KindReference:
		t, err := ingest.ReferenceTable(dataset)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrUnknownGroup, err)
		}
		return t, nil
	}
	return nil, fmt.Errorf("%w: unknown kind %q", ErrUnknownGroup, kind)
}

// TableOf returns the CSV table of a stored upload.
func TableOf(u dbsqlc.Upload) (*ingest.Table, error) {
	return Table(u.Kind, u.Scope, deref(u.Module), deref(u.Submodule), deref(u.Dataset))
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// RowErrors collects the row errors of a job: the first MaxRowErrors are
// kept, all are counted.
type RowErrors struct {
	Items    []ingest.RowError
	Total    int // every row error (warnings included)
	Warnings int // warning-severity errors
	Skipped  int // rows with an error-severity entry
}

// Add records the errors of one row; it reports whether the row is skipped.
func (c *RowErrors) Add(errs []ingest.RowError) bool {
	skipped := false
	for _, e := range errs {
		c.Total++
		if e.Severity == ingest.SeverityWarning {
			c.Warnings++
		} else {
			skipped = true
		}
		if len(c.Items) < MaxRowErrors {
			c.Items = append(c.Items, e)
		}
	}
	if skipped {
		c.Skipped++
	}
	return skipped
}

// List returns the kept errors, never nil (JSON []).
func (c *RowErrors) List() []ingest.RowError {
	if c.Items == nil {
		return []ingest.RowError{}
	}
	return c.Items
}

// FailureMessage is the job message of a whole-file rejection:
// "<code>: <message>".
func FailureMessage(err error) string {
	if fe, ok := errors.AsType[*ingest.FileError](err); ok {
		return fe.Error()
	}
	return err.Error()
}
