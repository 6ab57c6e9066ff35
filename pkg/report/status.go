package report

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

// Report module statuses (docs/domain.md §10).
const (
	StatusNotStarted = "not_started"
	StatusInProgress = "in_progress"
	StatusValidated  = "validated"
)

// EventModuleStatus is the audit event of an explicit status change (entity
// report_module/<id>, docs/jobs.md §11.1).
const EventModuleStatus = "report_module.status"

const (
	entityReportModule = "report_module"
	fieldStatus        = "status"
)

// ReasonInvalidTransition is the 409 code of a status change the workflow
// refuses (docs/api.md §1.1).
const ReasonInvalidTransition apperr.Reason = "invalid_transition"

func conflict(reason apperr.Reason, format string, args ...any) *apperr.Error {
	return apperr.WithReason(apperr.CodeConflict, reason, format, args...)
}

// SetStatusInput is a PATCH .../modules/{module}/status request.
type SetStatusInput struct {
	UnitID  int64
	Year    int32
	Module  string
	Status  string
	ActorID *int64
}

// SetModuleStatus applies an explicit status change by a principal: only
// validated and in_progress (else 422), year open (else 409 year_not_open /
// year_closed), module enabled (else 409 invalid_transition). The report's
// derived status is refreshed and the change is audited
// (report_module.status). Run it in a transaction.
func SetModuleStatus(ctx context.Context, db postgres.DBTX, in SetStatusInput) (ModuleView, error) {
	if in.Status != StatusValidated && in.Status != StatusInProgress {
		return ModuleView{}, apperr.Validation("invalid status", apperr.FieldError{
			Field: fieldStatus, Code: detailInvalidEnum, Message: "must be validated or in_progress",
		})
	}
	if !IsModule(in.Module) {
		return ModuleView{}, apperr.NotFound("unknown module %q", in.Module)
	}
	q := dbsqlc.New(db)
	rm, err := q.ReportModuleByUnitYearModule(ctx, dbsqlc.ReportModuleByUnitYearModuleParams{UnitID: in.UnitID, Year: in.Year, Module: in.Module})
	if errors.Is(err, pgx.ErrNoRows) {
		return ModuleView{}, apperr.NotFound("no report for unit %d and year %d", in.UnitID, in.Year)
	}
	if err != nil {
		return ModuleView{}, fmt.Errorf("error reading report module: %w", err)
	}
	y, err := years.Load(ctx, q, in.Year, years.OpDataEntry)
	if err != nil {
		return ModuleView{}, err
	}
	cfg, err := ParseYearConfig(y.Config)
	if err != nil {
		return ModuleView{}, err
	}
	if !cfg.ModuleEnabled(in.Module) {
		return ModuleView{}, conflict(ReasonInvalidTransition, "module %s is disabled for %d", in.Module, in.Year)
	}
	changed, err := q.ReportModuleSetStatus(ctx, dbsqlc.ReportModuleSetStatusParams{ID: rm.ID, Status: in.Status, ChangedBy: in.ActorID})
	if err != nil {
		return ModuleView{}, fmt.Errorf("error setting status: %w", err)
	}
	// The report's stats have a validated block: refresh them with the
	// derived status fields.
	if err := RefreshReports(ctx, db, []int64{rm.ReportID}, time.Now()); err != nil {
		return ModuleView{}, err
	}
	if err := audit.Record(ctx, db, in.ActorID, audit.Event{
		Action: audit.ActionUpdate, Event: EventModuleStatus, EntityType: entityReportModule, EntityID: strconv.FormatInt(rm.ID, 10),
		Snapshot: map[string]any{
			"unit_id": in.UnitID, "year": in.Year, "module": in.Module, fieldStatus: in.Status, "previous_status": changed.PreviousStatus,
		},
		RequestPayload: map[string]any{fieldStatus: in.Status},
	}); err != nil {
		return ModuleView{}, fmt.Errorf("error auditing status change: %w", err)
	}
	views, err := moduleViews(ctx, q, rm.ReportID, cfg)
	if err != nil {
		return ModuleView{}, err
	}
	for _, v := range views {
		if v.Module == in.Module {
			return v, nil
		}
	}
	return ModuleView{}, fmt.Errorf("report module %d vanished", rm.ID)
}

// UserRef is {id, name}.
type UserRef struct {
	ID   int64   `json:"id"`
	Name *string `json:"name"`
}

// ModuleView is the ReportModule object of docs/api.md §2.
type ModuleView struct {
	Module                    string     `json:"module"`
	Enabled                   bool       `json:"enabled"`
	Status                    string     `json:"status"`
	StatusChangedAt           *time.Time `json:"status_changed_at"`
	StatusChangedBy           *UserRef   `json:"status_changed_by"`
	RecomputedAfterValidation bool       `json:"recomputed_after_validation"`
	EntryCount                int64      `json:"entry_count"`
	TotalKgCO2eq              float64    `json:"total_kg_co2eq"`
	MainKgCO2eq               float64    `json:"main_kg_co2eq"`
	AdditionalKgCO2eq         float64    `json:"additional_kg_co2eq"`
	CalcIssues                int64      `json:"calc_issues"`
}

func moduleViews(ctx context.Context, q *dbsqlc.Queries, reportID int64, cfg YearConfig) ([]ModuleView, error) {
	rows, err := q.ReportModulesView(ctx, reportID)
	if err != nil {
		return nil, fmt.Errorf("error reading report modules: %w", err)
	}
	out := make([]ModuleView, 0, len(rows))
	for _, r := range rows {
		s, err := DecodeModuleStats(r.Stats)
		if err != nil {
			return nil, err
		}
		v := ModuleView{
			Module: r.Module, Enabled: cfg.ModuleEnabled(r.Module), Status: r.Status,
			StatusChangedAt: r.StatusChangedAt, RecomputedAfterValidation: r.RecomputedAfterValidation,
			EntryCount: s.Entries(), TotalKgCO2eq: RoundKg(s.TotalKg), MainKgCO2eq: RoundKg(s.MainKg),
			AdditionalKgCO2eq: RoundKg(s.AdditionalKg), CalcIssues: s.CalcIssues,
		}
		if r.StatusChangedBy != nil {
			v.StatusChangedBy = &UserRef{ID: *r.StatusChangedBy, Name: r.StatusChangedByName}
		}
		out = append(out, v)
	}
	return out, nil
}

// View is the Report object of docs/api.md §2.
type View struct {
	ID               int64        `json:"id"`
	UnitID           int64        `json:"unit_id"`
	Year             int32        `json:"year"`
	YearStatus       string       `json:"year_status"`
	OverallStatus    string       `json:"overall_status"`
	ValidatedModules int16        `json:"validated_modules"`
	EnabledModules   int16        `json:"enabled_modules"`
	DataUpdatedAt    *time.Time   `json:"data_updated_at"`
	StatsComputedAt  *time.Time   `json:"stats_computed_at"`
	Modules          []ModuleView `json:"modules,omitempty"`
}

// Get returns the report of (unit, year) with its modules; 404 when none.
func Get(ctx context.Context, db postgres.DBTX, unitID int64, year int32) (View, error) {
	q := dbsqlc.New(db)
	r, err := q.ReportByUnitYearWithYear(ctx, dbsqlc.ReportByUnitYearWithYearParams{UnitID: unitID, Year: year})
	if errors.Is(err, pgx.ErrNoRows) {
		return View{}, apperr.NotFound("no report for unit %d and year %d", unitID, year)
	}
	if err != nil {
		return View{}, fmt.Errorf("error reading report: %w", err)
	}
	cfg, err := ParseYearConfig(r.YearConfig)
	if err != nil {
		return View{}, err
	}
	v := View{
		ID: r.ID, UnitID: r.UnitID, Year: r.Year, YearStatus: r.YearStatus, OverallStatus: r.OverallStatus,
		ValidatedModules: r.ValidatedModules, EnabledModules: r.EnabledModules,
		DataUpdatedAt: r.DataUpdatedAt, StatsComputedAt: r.StatsComputedAt,
	}
	if v.Modules, err = moduleViews(ctx, q, r.ID, cfg); err != nil {
		return View{}, err
	}
	return v, nil
}

// List returns the reports of a unit (without modules), newest first;
// visible filters by year status (nil: all). 404 for an unknown unit.
func List(ctx context.Context, db postgres.DBTX, unitID int64, visible func(yearStatus string) bool) ([]View, error) {
	q := dbsqlc.New(db)
	if _, err := GetUnit(ctx, db, unitID); err != nil {
		return nil, err
	}
	rows, err := q.ReportsByUnitDesc(ctx, unitID)
	if err != nil {
		return nil, fmt.Errorf("error listing reports: %w", err)
	}
	out := make([]View, 0, len(rows))
	for _, r := range rows {
		if visible != nil && !visible(r.YearStatus) {
			continue
		}
		out = append(out, View{
			ID: r.ID, UnitID: r.UnitID, Year: r.Year, YearStatus: r.YearStatus, OverallStatus: r.OverallStatus,
			ValidatedModules: r.ValidatedModules, EnabledModules: r.EnabledModules,
			DataUpdatedAt: r.DataUpdatedAt, StatsComputedAt: r.StatsComputedAt,
		})
	}
	return out, nil
}

// Ensure creates the report of (unit, year) with its eight modules when
// missing (year must be open); created tells which happened.
func Ensure(ctx context.Context, db postgres.DBTX, unitID int64, yr int32) (View, bool, error) {
	q := dbsqlc.New(db)
	if _, err := GetUnit(ctx, db, unitID); err != nil {
		return View{}, false, err
	}
	y, err := years.Load(ctx, q, yr, years.OpDataEntry)
	if err != nil {
		return View{}, false, err
	}
	cfg, err := ParseYearConfig(y.Config)
	if err != nil {
		return View{}, false, err
	}
	enabled := cfg.EnabledModules()
	params := dbsqlc.ReportGetOrCreateParams{UnitID: unitID, Year: yr, EnabledModules: int16(len(enabled))}
	r, err := q.ReportGetOrCreate(ctx, params)
	if errors.Is(err, pgx.ErrNoRows) { // lost a creation race: the report exists now
		r, err = q.ReportGetOrCreate(ctx, params)
	}
	if err != nil {
		return View{}, false, fmt.Errorf("error ensuring report: %w", err)
	}
	v, err := Get(ctx, db, unitID, yr)
	return v, r.Created, err
}

// Unit is the Unit object of docs/api.md §2.
type Unit struct {
	ID                int64      `json:"id"`
	InstitutionalCode string     `json:"institutional_code"`
	CF                *string    `json:"cf"`
	Name              string     `json:"name"`
	LabelEn           *string    `json:"label_en"`
	LabelFr           *string    `json:"label_fr"`
	Level             int16      `json:"level"`
	ParentID          *int64     `json:"parent_id"`
	Affiliations      []string   `json:"affiliations"`
	UnitTypeLabel     *string    `json:"unit_type_label"`
	IsActive          bool       `json:"is_active"`
	Principal         *Principal `json:"principal"`
}

// Principal is the unit's principal.
type Principal struct {
	Sciper        string  `json:"sciper"`
	Name          *string `json:"name"`
	Email         *string `json:"email"`
	FunctionTitle *string `json:"function_title"`
}

// GetUnit returns a unit; 404 when unknown.
func GetUnit(ctx context.Context, db postgres.DBTX, unitID int64) (Unit, error) {
	u, err := dbsqlc.New(db).UnitGet(ctx, unitID)
	if errors.Is(err, pgx.ErrNoRows) {
		return Unit{}, apperr.NotFound("unknown unit %d", unitID)
	}
	if err != nil {
		return Unit{}, fmt.Errorf("error reading unit %d: %w", unitID, err)
	}
	return ToUnit(u), nil
}

// ToUnit converts a stored unit to the Unit object of docs/api.md §2.
func ToUnit(u dbsqlc.Unit) Unit {
	out := Unit{
		ID: u.ID, InstitutionalCode: u.InstitutionalCode, CF: u.Cf, Name: u.Name, LabelEn: u.LabelEn, LabelFr: u.LabelFr,
		Level: u.Level, ParentID: u.ParentID, UnitTypeLabel: u.UnitTypeLabel, IsActive: u.IsActive,
		Affiliations: affiliations(u),
	}
	if u.PrincipalSciper != nil && *u.PrincipalSciper != "" {
		out.Principal = &Principal{Sciper: *u.PrincipalSciper, Name: u.PrincipalName, Email: u.PrincipalEmail}
	}
	return out
}

// affiliations are the path names of the unit's ancestors of levels 2–3.
func affiliations(u dbsqlc.Unit) []string {
	out := []string{}
	n := len(u.PathNames)
	for i, name := range u.PathNames {
		level := int(u.Level) - (n - 1 - i)
		if i < n-1 && (level == 2 || level == 3) {
			out = append(out, name)
		}
	}
	return out
}
