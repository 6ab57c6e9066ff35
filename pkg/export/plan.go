package export

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

// Caller is who asks for an export (the API) or on whose behalf it runs
// (the job, with the creator's stored roles): the permission of the kind is
// checked for it both times (docs/jobs.md §4.9).
type Caller struct {
	UserID int64
	Sciper string
	Perms  *perm.Set
}

// plan is a validated export request of one kind: it checks the caller's
// permission and builds the content the job renders.
type plan interface {
	// authorize refuses a caller without the kind's permission (403), or
	// a request naming what does not exist (422).
	authorize(ctx context.Context, db postgres.DBTX, c Caller) error
	// scope is what the export's pipeline names.
	scope() scope
	// build reads the content in db (the job's snapshot) for the caller.
	build(ctx context.Context, db postgres.DBTX, env buildEnv) (content, error)
}

// scope is the year, unit and module an export is about (pipeline columns).
type scope struct {
	Year   *int32
	UnitID *int64
	Module *string
}

// buildEnv is what every content builder may need.
type buildEnv struct {
	format Format
	caller Caller
	now    time.Time
}

// newPlan validates the params of kind k (422 for a bad or unknown member)
// and returns the plan and the params as stored (normalised).
func newPlan(k Kind, raw json.RawMessage) (plan, json.RawMessage, error) {
	var p plan
	switch k {
	case KindUnitResults, KindUnitBundle:
		var up unitParams
		if err := decodeParams(k, raw, &up); err != nil {
			return nil, nil, err
		}
		if err := up.validate(); err != nil {
			return nil, nil, err
		}
		if k == KindUnitBundle {
			p = &bundlePlan{unitParams: up}
		} else {
			p = &unitResultsPlan{unitParams: up}
		}
	case KindUnitModuleEntries:
		var mp moduleParams
		if err := decodeParams(k, raw, &mp); err != nil {
			return nil, nil, err
		}
		if err := mp.validate(); err != nil {
			return nil, nil, err
		}
		p = &moduleEntriesPlan{moduleParams: mp}
	case KindFactors:
		var fp factorParams
		if err := decodeParams(k, raw, &fp); err != nil {
			return nil, nil, err
		}
		if err := fp.validate(); err != nil {
			return nil, nil, err
		}
		p = &factorsPlan{factorParams: fp}
	case KindBackofficeUnits, KindBackofficeResults, KindBackofficeDetailed, KindBackofficeUsage:
		bp, err := newBackofficePlan(k, raw)
		if err != nil {
			return nil, nil, err
		}
		p = bp
	case KindAuditLog:
		ap, err := newAuditPlan(raw)
		if err != nil {
			return nil, nil, err
		}
		p = ap
	default:
		return nil, nil, invalidField("kind", "invalid_enum", "unknown export kind %q", k)
	}
	stored, err := json.Marshal(p)
	if err != nil {
		return nil, nil, fmt.Errorf("error encoding export params: %w", err)
	}
	return p, stored, nil
}

// Languages of the documents' headings.
var langs = []string{"en", "fr"}

// unitParams are the params of unit_results and unit_bundle.
type unitParams struct {
	UnitID         int64    `json:"unit_id"`
	Year           int32    `json:"year"`
	ExcludeModules []string `json:"exclude_modules,omitempty"`
	// Basis is validated (default, D9) or all.
	Basis string `json:"basis,omitempty"`
	Lang  string `json:"lang,omitempty"`
}

func checkUnitYear(unitID int64, year int32) error {
	if unitID <= 0 {
		return invalidField("params.unit_id", "required", "params.unit_id is required")
	}
	if !years.Valid(int64(year)) {
		return invalidField("params.year", "out_of_range", "params.year must be a year between %d and %d", years.Min, years.Max)
	}
	return nil
}

func (p *unitParams) validate() error {
	if err := checkUnitYear(p.UnitID, p.Year); err != nil {
		return err
	}
	ex, err := report.ParseExcludeModules(p.ExcludeModules)
	if err != nil {
		return paramsError(err)
	}
	p.ExcludeModules = ex
	if p.Basis == "" {
		p.Basis = report.ScopeValidated
	}
	if p.Basis != report.ScopeValidated && p.Basis != report.ScopeAll {
		return invalidField("params.basis", "invalid_enum", "params.basis must be validated or all")
	}
	return checkLang(&p.Lang)
}

func checkLang(lang *string) error {
	if *lang == "" {
		*lang = "en"
	}
	if !slices.Contains(langs, *lang) {
		return invalidField("params.lang", "invalid_enum", "params.lang must be one of %s", strings.Join(langs, ", "))
	}
	return nil
}

// paramsError moves the details of a domain validation error under params.
func paramsError(err error) error {
	ae, ok := errors.AsType[*apperr.Error](err)
	if !ok {
		return err
	}
	out := *ae
	out.Fields = make([]apperr.FieldError, len(ae.Fields))
	for i, f := range ae.Fields {
		f.Field = "params." + f.Field
		out.Fields[i] = f
	}
	return &out
}

func (p *unitParams) scope() scope { return scope{Year: &p.Year, UnitID: &p.UnitID} }

// loadUnit reads a unit for a permission check: 422 when the params name no
// unit.
func loadUnit(ctx context.Context, db postgres.DBTX, id int64) (dbsqlc.Unit, perm.Unit, error) {
	u, err := dbsqlc.New(db).UnitGet(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return u, perm.Unit{}, invalidField("params.unit_id", "not_found", "unit %d does not exist", id)
	}
	if err != nil {
		return u, perm.Unit{}, fmt.Errorf("error reading unit %d: %w", id, err)
	}
	pu := perm.Unit{PathCFs: u.PathCfs}
	if u.Cf != nil {
		pu.CF = *u.Cf
	}
	return u, pu, nil
}

// checkReport refuses a unit-year without a report (422).
func checkReport(ctx context.Context, db postgres.DBTX, unitID int64, year int32) error {
	_, err := dbsqlc.New(db).ReportGetByUnitYear(ctx, dbsqlc.ReportGetByUnitYearParams{UnitID: unitID, Year: year})
	if errors.Is(err, pgx.ErrNoRows) {
		return invalidField("params.year", "not_found", "unit %d has no report for %d", unitID, year)
	}
	if err != nil {
		return fmt.Errorf("error reading the report of unit %d for %d: %w", unitID, year, err)
	}
	return nil
}

// forbidden is the 403 of a missing grant, shaped like the permission
// middleware's (docs/api.md §1.1).
func forbidden(permission string) error {
	return &apperr.Error{Code: apperr.CodeForbidden, Message: "permission missing: " + permission,
		Fields: []apperr.FieldError{{Code: "forbidden", Message: "missing grant", Context: map[string]any{"permission": permission}}}}
}

// authorizeUnitResults is unit_results(u) on the params' unit, which must
// have a report for the year.
func (p *unitParams) authorizeUnitResults(ctx context.Context, db postgres.DBTX, c Caller) error {
	_, pu, err := loadUnit(ctx, db, p.UnitID)
	if err != nil {
		return err
	}
	if !c.Perms.UnitResults(pu) {
		return forbidden("unit_results")
	}
	return checkReport(ctx, db, p.UnitID, p.Year)
}

// unitResultsPlan is unit_results: the report of one unit-year as a PDF
// page, an XLSX workbook or the CSV of its emission types.
type unitResultsPlan struct {
	unitParams
}

func (p *unitResultsPlan) authorize(ctx context.Context, db postgres.DBTX, c Caller) error {
	return p.authorizeUnitResults(ctx, db, c)
}

func (p *unitResultsPlan) build(ctx context.Context, db postgres.DBTX, env buildEnv) (content, error) {
	r, err := loadUnitReport(ctx, db, p.UnitID, p.Year, report.Options{Scope: p.Basis, ExcludeModules: p.ExcludeModules}, p.Lang, env.now)
	if err != nil {
		return content{}, err
	}
	return r.content(env.format), nil
}

// moduleParams are the params of unit_module_entries.
type moduleParams struct {
	UnitID int64  `json:"unit_id"`
	Year   int32  `json:"year"`
	Module string `json:"module"`
}

func (p *moduleParams) validate() error {
	if err := checkUnitYear(p.UnitID, p.Year); err != nil {
		return err
	}
	if p.Module == "" {
		return invalidField("params.module", "required", "params.module is required")
	}
	if _, ok := emission.LookupModule(emission.ModuleKey(p.Module)); !ok {
		return invalidField("params.module", "invalid_enum", "unknown module %q", p.Module)
	}
	return nil
}

// moduleEntriesPlan is unit_module_entries: the entries of one module of a
// unit-year, own scope applied (D7).
type moduleEntriesPlan struct {
	moduleParams
}

func (p *moduleEntriesPlan) scope() scope {
	return scope{Year: &p.Year, UnitID: &p.UnitID, Module: &p.Module}
}

func (p *moduleEntriesPlan) authorize(ctx context.Context, db postgres.DBTX, c Caller) error {
	_, pu, err := loadUnit(ctx, db, p.UnitID)
	if err != nil {
		return err
	}
	if !c.Perms.ModuleView(pu, p.Module) {
		return forbidden("module_view")
	}
	return checkReport(ctx, db, p.UnitID, p.Year)
}

func (p *moduleEntriesPlan) build(ctx context.Context, db postgres.DBTX, env buildEnv) (content, error) {
	u, pu, err := loadUnit(ctx, db, p.UnitID)
	if err != nil {
		return content{}, err
	}
	var owner string
	if env.caller.Perms.OwnOnly(pu, p.Module) {
		owner = env.caller.Sciper
	}
	src, err := unitEntries(ctx, db, report.ToUnit(u), p.Year, []string{p.Module}, owner)
	if err != nil {
		return content{}, err
	}
	c := content{Total: src.total}
	if env.format == FormatCSV {
		c.Tables = []Table{src.combined(emission.ModuleKey(p.Module))}
	} else {
		c.Tables = src.tables()
	}
	return c, nil
}

// bundlePlan is unit_bundle: everything for one unit-year in a ZIP — the
// report as PDF and XLSX, and the entries of every module the caller may
// see, one CSV per submodule.
type bundlePlan struct {
	unitParams
}

func (p *bundlePlan) authorize(ctx context.Context, db postgres.DBTX, c Caller) error {
	return p.authorizeUnitResults(ctx, db, c)
}

func (p *bundlePlan) build(ctx context.Context, db postgres.DBTX, env buildEnv) (content, error) {
	r, err := loadUnitReport(ctx, db, p.UnitID, p.Year, report.Options{Scope: p.Basis, ExcludeModules: p.ExcludeModules}, p.Lang, env.now)
	if err != nil {
		return content{}, err
	}
	u, pu, err := loadUnit(ctx, db, p.UnitID)
	if err != nil {
		return content{}, err
	}
	var modules []string
	for _, m := range emission.Modules() {
		if env.caller.Perms.ModuleView(pu, string(m.Key)) {
			modules = append(modules, string(m.Key))
		}
	}
	owner := ""
	if env.caller.Perms.OwnOnly(pu, string(emission.ModuleProfessionalTravel)) {
		owner = env.caller.Sciper // trips only: the filter applies to plane and train (D7)
	}
	src, err := unitEntries(ctx, db, report.ToUnit(u), p.Year, modules, owner)
	if err != nil {
		return content{}, err
	}
	pdf, xlsx := r.content(FormatPDF), r.content(FormatXLSX)
	return content{
		Members: []Member{{Name: "report.pdf", Format: FormatPDF, Content: pdf}, {Name: "report.xlsx", Format: FormatXLSX, Content: xlsx}},
		Tables:  src.tables(),
		Total:   pdf.Total + xlsx.Total + src.total,
	}, nil
}
