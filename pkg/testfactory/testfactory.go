// Package testfactory creates domain rows for tests, River style: each
// factory takes (ctx, tb, db, opts) where opts is nil or a struct of optional
// pointer fields, fills everything else with realistic defaults, inserts the
// row through the sqlc queries of package dbsqlc and returns it. Failures
// fail the test.
//
//	unit := testfactory.Unit(ctx, t, tx, &testfactory.UnitOpts{Name: new("ENAC-IT")})
//	rep := testfactory.Report(ctx, t, tx, &testfactory.ReportOpts{UnitID: &unit.ID})
//	entry := testfactory.Entry(ctx, t, tx, &testfactory.EntryOpts{ReportModule: new(rep.Module("headcount"))})
//
// Defaults that must be unique (unit codes, SCIPERs, e-mails, years, IATA
// codes, room names) come from a process-wide sequence, so parallel tests
// sharing a package schema do not block on each other's uncommitted unique
// keys (years cycle through 2000..2100, IATA codes through Z00..ZZZ: a
// package creating more than that many concurrently would wait).
//
// Only tests import this package.
package testfactory

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
)

// seq is the process-wide sequence behind unique defaults.
var seq atomic.Int64

func next() int64 { return seq.Add(1) }

func deref[T any](p *T, def T) T {
	if p != nil {
		return *p
	}
	return def
}

func mustJSON(tb testing.TB, v any) json.RawMessage {
	tb.Helper()
	if raw, ok := v.(json.RawMessage); ok {
		return raw
	}
	b, err := json.Marshal(v)
	require.NoError(tb, err)
	return b
}

// ---------------------------------------------------------------------------
// Units and users
// ---------------------------------------------------------------------------

// UnitOpts are the optional fields of Unit.
type UnitOpts struct {
	InstitutionalCode *string // default: unique numeric code
	CF                *string // default: the institutional code; "" stores null
	Name              *string // default: "LAB-TEST-<n>"
	Level             *int16  // default 4 (laboratory)
	// Parent makes the unit a child: parent_id and the path arrays extend
	// the parent's.
	Parent          *dbsqlc.Unit
	UnitTypeLabel   *string // default "Laboratoire"
	PrincipalSciper *string
	PrincipalName   *string
	IsActive        *bool   // default true
	Source          *string // default "dev"
}

// Unit creates (or updates, by institutional code) a unit.
func Unit(ctx context.Context, tb testing.TB, db postgres.DBTX, opts *UnitOpts) dbsqlc.Unit {
	tb.Helper()
	if opts == nil {
		opts = &UnitOpts{}
	}
	n := next()
	code := deref(opts.InstitutionalCode, strconv.FormatInt(900000+n, 10))
	cfVal := deref(opts.CF, code)
	var cf *string
	if cfVal != "" {
		cf = &cfVal
	}
	name := deref(opts.Name, fmt.Sprintf("LAB-TEST-%d", n))

	pathCodes, pathCFs, pathNames := []string{code}, []string{cfVal}, []string{name}
	var parentID *int64
	if p := opts.Parent; p != nil {
		parentID = &p.ID
		pathCodes = append(slices.Clone(p.PathCodes), code)
		pathCFs = append(slices.Clone(p.PathCfs), cfVal)
		pathNames = append(slices.Clone(p.PathNames), name)
	}
	u, err := dbsqlc.New(db).UnitUpsert(ctx, dbsqlc.UnitUpsertParams{
		InstitutionalCode: code,
		Cf:                cf,
		Name:              name,
		LabelEn:           new(name + " laboratory"),
		LabelFr:           new("Laboratoire " + name),
		Level:             deref(opts.Level, 4),
		ParentID:          parentID,
		PathCodes:         pathCodes,
		PathCfs:           pathCFs,
		PathNames:         pathNames,
		UnitTypeLabel:     new(deref(opts.UnitTypeLabel, "Laboratoire")),
		PrincipalSciper:   opts.PrincipalSciper,
		PrincipalName:     opts.PrincipalName,
		IsActive:          deref(opts.IsActive, true),
		Source:            deref(opts.Source, "dev"),
	})
	require.NoError(tb, err, "testfactory.Unit")
	return u
}

// UserOpts are the optional fields of User.
type UserOpts struct {
	Sciper        *string // default: unique 6-digit-like SCIPER
	Provider      *string // default "dev"
	Email         *string // default "user<n>@example.org"; "" stores null
	DisplayName   *string // default "Test User <n>"
	FunctionTitle *string
	// Roles is stored as users.roles (e.g. []map[string]any{{"role":
	// "calco2.user.principal", "scope": map[string]any{"kind": "unit",
	// "cf": "7918"}}}); default [].
	Roles any
}

// User creates (or updates, by SCIPER) a user.
func User(ctx context.Context, tb testing.TB, db postgres.DBTX, opts *UserOpts) dbsqlc.User {
	tb.Helper()
	if opts == nil {
		opts = &UserOpts{}
	}
	n := next()
	email := deref(opts.Email, fmt.Sprintf("user%d@example.org", n))
	var emailPtr *string
	if email != "" {
		emailPtr = &email
	}
	q := dbsqlc.New(db)
	u, err := q.UserUpsert(ctx, dbsqlc.UserUpsertParams{
		Sciper:        deref(opts.Sciper, strconv.FormatInt(800000+n, 10)),
		Provider:      deref(opts.Provider, "dev"),
		Email:         emailPtr,
		DisplayName:   new(deref(opts.DisplayName, fmt.Sprintf("Test User %d", n))),
		FunctionTitle: opts.FunctionTitle,
	})
	require.NoError(tb, err, "testfactory.User")
	if opts.Roles != nil {
		u, err = q.UserSetRoles(ctx, dbsqlc.UserSetRolesParams{ID: u.ID, Roles: mustJSON(tb, opts.Roles)})
		require.NoError(tb, err, "testfactory.User roles")
	}
	return u
}

// ---------------------------------------------------------------------------
// Years and reports
// ---------------------------------------------------------------------------

// YearOpts are the optional fields of Year.
type YearOpts struct {
	// Year defaults to a year of 2000..2100 unique within the test process
	// (years is keyed by year: parallel tests must not share one).
	Year   *int32
	Status *string // default "open"
	// Config is stored as years.config; default DefaultYearConfig().
	Config    any
	CreatedBy *int64
}

// Year creates a year.
func Year(ctx context.Context, tb testing.TB, db postgres.DBTX, opts *YearOpts) dbsqlc.Year {
	tb.Helper()
	if opts == nil {
		opts = &YearOpts{}
	}
	year := deref(opts.Year, int32(2000+next()%101))
	var cfg any = DefaultYearConfig()
	if opts.Config != nil {
		cfg = opts.Config
	}
	y, err := dbsqlc.New(db).YearCreate(ctx, dbsqlc.YearCreateParams{
		Year:      year,
		Status:    new(deref(opts.Status, "open")),
		Config:    mustJSON(tb, cfg),
		CreatedBy: opts.CreatedBy,
	})
	require.NoError(tb, err, "testfactory.Year %d", year)
	return y
}

// DefaultYearConfig is the minimal valid year configuration of docs/domain.md
// §11.2 (report.DefaultYearConfig): every module and submodule enabled.
func DefaultYearConfig() map[string]any { return report.DefaultYearConfig() }

// ReportOpts are the optional fields of Report.
type ReportOpts struct {
	UnitID *int64 // default: a new Unit
	Year   *int32 // default: a new Year (open)
}

// ReportBundle is a carbon report with its eight report modules in display
// order.
type ReportBundle struct {
	Report  dbsqlc.CarbonReport
	Modules []dbsqlc.ReportModule
}

// Module returns the report module of a module key (fails the test when
// absent).
func (b ReportBundle) Module(key emission.ModuleKey) dbsqlc.ReportModule {
	for _, m := range b.Modules {
		if m.Module == string(key) {
			return m
		}
	}
	panic(fmt.Sprintf("testfactory: report %d has no module %q", b.Report.ID, key))
}

// Report gets or creates the calculator report of (unit, year) with its
// eight report modules.
func Report(ctx context.Context, tb testing.TB, db postgres.DBTX, opts *ReportOpts) ReportBundle {
	tb.Helper()
	if opts == nil {
		opts = &ReportOpts{}
	}
	unitID := opts.UnitID
	if unitID == nil {
		unitID = new(Unit(ctx, tb, db, nil).ID)
	}
	year := opts.Year
	if year == nil {
		year = new(Year(ctx, tb, db, nil).Year)
	}
	q := dbsqlc.New(db)
	r, err := q.ReportGetOrCreate(ctx, dbsqlc.ReportGetOrCreateParams{UnitID: *unitID, Year: *year, EnabledModules: 8})
	require.NoError(tb, err, "testfactory.Report")
	mods, err := q.ReportModulesByReport(ctx, r.ID)
	require.NoError(tb, err, "testfactory.Report modules")
	return ReportBundle{
		Report: dbsqlc.CarbonReport{
			ID: r.ID, UnitID: r.UnitID, Year: r.Year, Kind: r.Kind, OverallStatus: r.OverallStatus,
			ValidatedModules: r.ValidatedModules, EnabledModules: r.EnabledModules, Stats: r.Stats,
			StatsComputedAt: r.StatsComputedAt, DataUpdatedAt: r.DataUpdatedAt, CreatedAt: r.CreatedAt,
		},
		Modules: mods,
	}
}

// ---------------------------------------------------------------------------
// Factors and reference data
// ---------------------------------------------------------------------------

// FactorOpts are the optional fields of Factor: the shape of an
// emission.Factor (submodule, classification, values) plus its row fields.
// class_key is computed with emission.ClassKey and emission_type with
// emission.FactorEmissionType (an invalid classification fails the test).
type FactorOpts struct {
	Year           *int32            // default: a new Year
	Submodule      *string           // default "process_gas"
	Classification map[string]string // default: a realistic one for the submodule
	Values         map[string]any    // default: realistic values for the submodule
	Source         *string           // default "csv"
	LastUploadID   *uuid.UUID
	UpdatedBy      *int64
}

// Factor upserts a factor by (year, submodule, class_key).
func Factor(ctx context.Context, tb testing.TB, db postgres.DBTX, opts *FactorOpts) dbsqlc.Factor {
	tb.Helper()
	if opts == nil {
		opts = &FactorOpts{}
	}
	year := opts.Year
	if year == nil {
		year = new(Year(ctx, tb, db, nil).Year)
	}
	sub := emission.SubmoduleKey(deref(opts.Submodule, string(emission.SubProcessGas)))
	cls, vals := opts.Classification, opts.Values
	if cls == nil || vals == nil {
		defCls, defVals := defaultFactor(sub)
		if cls == nil {
			cls = defCls
		}
		if vals == nil {
			vals = defVals
		}
	}
	module := emission.ModuleOf(sub)
	require.NotEmpty(tb, module, "testfactory.Factor: unknown submodule %q", sub)
	et, err := emission.FactorEmissionType(sub, cls)
	require.NoError(tb, err, "testfactory.Factor: emission type of %v", cls)

	r, err := dbsqlc.New(db).FactorUpsert(ctx, dbsqlc.FactorUpsertParams{
		Year:           *year,
		Module:         string(module),
		Submodule:      string(sub),
		EmissionType:   string(et),
		Classification: mustJSON(tb, cls),
		ClassKey:       emission.ClassKey(cls),
		Values:         mustJSON(tb, vals),
		Source:         deref(opts.Source, "csv"),
		LastUploadID:   opts.LastUploadID,
		UpdatedBy:      opts.UpdatedBy,
	})
	require.NoError(tb, err, "testfactory.Factor")
	return dbsqlc.Factor{
		ID: r.ID, Year: r.Year, Module: r.Module, Submodule: r.Submodule, EmissionType: r.EmissionType,
		Classification: r.Classification, ClassKey: r.ClassKey, Values: r.Values, Source: r.Source,
		LastUploadID: r.LastUploadID, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy,
		Version: r.Version,
	}
}

// defaultFactor returns a realistic classification and values (from the
// illustrative 2025 factor files) for a submodule.
//
//nolint:goconst // field names read better inline
func defaultFactor(sub emission.SubmoduleKey) (map[string]string, map[string]any) {
	switch {
	case emission.IsEquipmentSubmodule(sub):
		return map[string]string{"equipment_class": "Centrifuge", "sub_class": "Benchtop"},
			map[string]any{"active_power_w": 500, "standby_power_w": 15, "active_usage_hours_per_week": 10,
				"standby_usage_hours_per_week": 158, "ef_kg_co2eq_per_kwh": 0.125}
	case emission.IsPurchaseCategory(sub):
		return map[string]string{"purchase_institutional_code": "P1000"},
			map[string]any{"ef_kg_co2eq_per_currency": 0.5, "currency": "EUR", "label": "Lab supplies"}
	}
	switch sub { //nolint:exhaustive // others fall back to process gas
	case emission.SubMember, emission.SubStudent:
		return map[string]string{"headcount_category": "food", "headcount_class": "vegetarian"},
			map[string]any{"number_of_unit_per_fte": 100, "ef_kg_co2eq_per_unit": 2, "unit": "kg"}
	case emission.SubPlane:
		return map[string]string{"cabin_class": "economy", "category": "short_haul"},
			map[string]any{"ef_kg_co2eq_per_km": 0.15, "rfi_adjustment": 2, "min_distance": 0, "max_distance": 3700}
	case emission.SubTrain:
		return map[string]string{"country_code": "CH"}, map[string]any{"ef_kg_co2eq_per_km": 0.004}
	case emission.SubRoom:
		return map[string]string{"building_name": "BX", "room_type": "office"},
			map[string]any{"lighting_kwh_per_square_meter": 15, "cooling_kwh_per_square_meter": 8,
				"ventilation_kwh_per_square_meter": 12, "heating_kwh_per_square_meter": 25,
				"ef_kg_co2eq_per_kwh": 0.125, "energy_type": "electric", "conversion_factor": 1}
	case emission.SubEnergyCombustion:
		return map[string]string{"name": "natural_gas"}, map[string]any{"ef_kg_co2eq_per_unit": 0.2, "unit": "kWh"}
	case emission.SubEmbodiedEnergy:
		return map[string]string{"building_name": "default", "category": "new-tech"},
			map[string]any{"ef_kg_co2eq_per_m2": 2.5}
	case emission.SubAdditional:
		return map[string]string{"name": "ln2"}, map[string]any{"ef_kg_co2eq_per_kg": 0.25}
	case emission.SubFacility:
		return map[string]string{"researchfacility_id": "4101", "researchfacility_name": "SCITAS"},
			map[string]any{"use_unit": "core_hours", "total_use": 120000000, "kg_co2eq_sum": 480000}
	case emission.SubAnimalFacility:
		return map[string]string{"researchfacility_id": "4201", "researchfacility_name": "AF-DEMO Mice", "researchfacility_type": "mice"},
			map[string]any{"use_unit": "cage_days", "total_use": 900000}
	case emission.SubCloud:
		return map[string]string{"service_type": "compute", "provider": "AWS"},
			map[string]any{"ef_kg_co2eq_per_currency": 0.12, "currency": "EUR"}
	case emission.SubAI:
		return map[string]string{"provider": "Gemini (Google)", "usage_type": "text"},
			map[string]any{"ef_g_co2eq_per_request": 1}
	}
	return map[string]string{"category": "refrigerants", "subcategory": "R134a"},
		map[string]any{"ef_kg_co2eq_per_unit": 1430, "unit": "kg"}
}

// LocationOpts are the optional fields of Location.
type LocationOpts struct {
	TransportMode *string // default "plane"
	IATA          *string // planes; default: a unique code
	Name          *string // default "Test Airport <n>" / "Test Station <n>"
	CountryCode   *string // default "CH"
	Continent     *string // default "EU"
	AirportSize   *string // planes; default "medium_airport"
	Municipality  *string
	Keywords      *string
	Latitude      *float64 // default 46.5 (Lake Geneva)
	Longitude     *float64 // default 6.6
}

// Location creates an airport (default) or a train station; the natural
// key is built with emission.PlaneNaturalKey / emission.TrainNaturalKey.
func Location(ctx context.Context, tb testing.TB, db postgres.DBTX, opts *LocationOpts) dbsqlc.Location {
	tb.Helper()
	if opts == nil {
		opts = &LocationOpts{}
	}
	n := next()
	mode := deref(opts.TransportMode, emission.ModePlane)
	country := deref(opts.CountryCode, "CH")
	p := dbsqlc.LocationInsertParams{
		TransportMode: mode,
		CountryCode:   &country,
		Continent:     new(deref(opts.Continent, "EU")),
		Municipality:  opts.Municipality,
		Keywords:      opts.Keywords,
		Latitude:      deref(opts.Latitude, 46.5),
		Longitude:     deref(opts.Longitude, 6.6),
	}
	switch mode {
	case emission.ModePlane:
		const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		iata := deref(opts.IATA, string([]byte{'Z', digits[(n/36)%36], digits[n%36]}))
		p.IataCode = &iata
		p.Name = deref(opts.Name, fmt.Sprintf("Test Airport %d", n))
		p.AirportSize = new(deref(opts.AirportSize, "medium_airport"))
		p.NaturalKey = emission.PlaneNaturalKey(iata)
	default:
		p.Name = deref(opts.Name, fmt.Sprintf("Test Station %d", n))
		p.AirportSize = opts.AirportSize
		p.NaturalKey = emission.TrainNaturalKey(country, p.Name)
	}
	l, err := dbsqlc.New(db).LocationInsert(ctx, p)
	require.NoError(tb, err, "testfactory.Location")
	return l
}

// RoomOpts are the optional fields of Room.
type RoomOpts struct {
	BuildingLocation *string  // default "ECUBLENS"
	BuildingName     *string  // default "BX"
	RoomName         *string  // default: unique "BX-<n>"
	RoomType         *string  // default "office"; "" stores null
	SurfaceM2        *float64 // default 20
}

// Room creates a reference building room.
func Room(ctx context.Context, tb testing.TB, db postgres.DBTX, opts *RoomOpts) dbsqlc.BuildingRoom {
	tb.Helper()
	if opts == nil {
		opts = &RoomOpts{}
	}
	building := deref(opts.BuildingName, "BX")
	roomType := deref(opts.RoomType, "office")
	var rt *string
	if roomType != "" {
		rt = &roomType
	}
	r, err := dbsqlc.New(db).BuildingRoomInsert(ctx, dbsqlc.BuildingRoomInsertParams{
		BuildingLocation: new(deref(opts.BuildingLocation, "ECUBLENS")),
		BuildingName:     building,
		RoomName:         deref(opts.RoomName, fmt.Sprintf("%s-%d", building, next())),
		RoomType:         rt,
		SurfaceM2:        new(deref(opts.SurfaceM2, 20)),
	})
	require.NoError(tb, err, "testfactory.Room")
	return r
}

// ---------------------------------------------------------------------------
// Data entries
// ---------------------------------------------------------------------------

// EntryOpts are the optional fields of Entry.
type EntryOpts struct {
	// ReportModule is the module the entry belongs to; default: a new
	// Report and its module of the submodule.
	ReportModule *dbsqlc.ReportModule
	Submodule    *string // default "member"
	// Data is the payload (any JSON-marshallable value, or a
	// json.RawMessage); default: a valid payload of the submodule (a
	// member gets a unique SCIPER).
	Data        any
	KgOverride  *float64
	Source      *string // default "manual"
	UploadID    *uuid.UUID
	OwnerSciper *string // default for plane/train: data.user_institutional_id
	CreatedBy   *int64

	// Computed fields, written with EntrySetComputed when any is set.
	KgCO2eq           *float64
	KgCO2eqAdditional *float64
	CalcStatus        *string // default "ok" when KgCO2eq is set
	CalcMessage       *string
	PrimaryFactorID   *int64
}

// Entry creates a data entry.
func Entry(ctx context.Context, tb testing.TB, db postgres.DBTX, opts *EntryOpts) dbsqlc.DataEntry {
	tb.Helper()
	if opts == nil {
		opts = &EntryOpts{}
	}
	sub := emission.SubmoduleKey(deref(opts.Submodule, string(emission.SubMember)))
	module := emission.ModuleOf(sub)
	require.NotEmpty(tb, module, "testfactory.Entry: unknown submodule %q", sub)
	rm := opts.ReportModule
	if rm == nil {
		m := Report(ctx, tb, db, nil).Module(module)
		rm = &m
	}
	var data any = defaultPayload(sub)
	if opts.Data != nil {
		data = opts.Data
	}
	raw := mustJSON(tb, data)

	owner := opts.OwnerSciper
	if owner == nil && (sub == emission.SubPlane || sub == emission.SubTrain) {
		var p struct {
			UserInstitutionalID string `json:"user_institutional_id"`
		}
		require.NoError(tb, json.Unmarshal(raw, &p))
		if p.UserInstitutionalID != "" {
			owner = &p.UserInstitutionalID
		}
	}
	q := dbsqlc.New(db)
	e, err := q.EntryInsert(ctx, dbsqlc.EntryInsertParams{
		ReportModuleID: rm.ID,
		UnitID:         rm.UnitID,
		Year:           rm.Year,
		Module:         string(module),
		Submodule:      string(sub),
		Data:           raw,
		KgOverride:     opts.KgOverride,
		Source:         deref(opts.Source, "manual"),
		UploadID:       opts.UploadID,
		OwnerSciper:    owner,
		CreatedBy:      opts.CreatedBy,
	})
	require.NoError(tb, err, "testfactory.Entry")

	if opts.KgCO2eq != nil || opts.KgCO2eqAdditional != nil || opts.CalcStatus != nil || opts.PrimaryFactorID != nil {
		err = q.EntrySetComputed(ctx, dbsqlc.EntrySetComputedParams{
			ID:                e.ID,
			KgCo2eq:           deref(opts.KgCO2eq, 0),
			KgCo2eqAdditional: deref(opts.KgCO2eqAdditional, 0),
			CalcStatus:        deref(opts.CalcStatus, "ok"),
			CalcMessage:       opts.CalcMessage,
			PrimaryFactorID:   opts.PrimaryFactorID,
		})
		require.NoError(tb, err, "testfactory.Entry computed")
		e, err = q.EntryGet(ctx, dbsqlc.EntryGetParams{ID: e.ID, ReportModuleID: e.ReportModuleID, Submodule: e.Submodule})
		require.NoError(tb, err)
	}
	return e
}

// defaultPayload returns a valid payload of a submodule (docs/domain.md §7).
//
//nolint:goconst // field names read better inline
func defaultPayload(sub emission.SubmoduleKey) map[string]any {
	n := next()
	sciper := strconv.FormatInt(700000+n, 10)
	switch {
	case emission.IsEquipmentSubmodule(sub):
		return map[string]any{"equipment_id": fmt.Sprintf("EQ-%d", n), "name": "Benchtop centrifuge",
			"equipment_class": "Centrifuge", "sub_class": "Benchtop",
			"active_usage_hours_per_week": 10, "standby_usage_hours_per_week": 158}
	case emission.IsPurchaseCategory(sub):
		return map[string]any{"name": "Pipette tips", "supplier": "Labstore", "total_spent_amount": 1000,
			"currency": "CHF", "purchase_institutional_code": "P1000"}
	}
	switch sub { //nolint:exhaustive // the rest falls back to process gas
	case emission.SubMember:
		return map[string]any{"name": fmt.Sprintf("Member %d", n), "sius_code": "53",
			"user_institutional_id": sciper, "fte": 1}
	case emission.SubStudent:
		return map[string]any{"fte": 2.5}
	case emission.SubPlane:
		return map[string]any{"origin_iata": "GVA", "destination_iata": "CDG", "user_institutional_id": sciper,
			"cabin_class": "economy", "departure_date": "2025-03-01", "number_of_trips": 1}
	case emission.SubTrain:
		return map[string]any{"origin_name": "Genève Cornavin", "destination_name": "Zürich HB",
			"origin_country_code": "CH", "destination_country_code": "CH",
			"user_institutional_id": sciper, "cabin_class": "second", "departure_date": "2025-03-01"}
	case emission.SubRoom:
		return map[string]any{"building_name": "BX", "room_name": fmt.Sprintf("BX-%d", n), "room_type": "office",
			"surface_m2": 20}
	case emission.SubEnergyCombustion:
		return map[string]any{"fuel": "natural_gas", "quantity": 10000}
	case emission.SubAdditional:
		return map[string]any{"name": "ln2", "unit": "L", "annual_consumption": 500, "coef_to_kg": 0.8}
	case emission.SubFacility:
		return map[string]any{"researchfacility_id": "4101", "researchfacility_name": "SCITAS",
			"use": 120, "use_unit": "core_hours"}
	case emission.SubAnimalFacility:
		return map[string]any{"researchfacility_id": "4201", "researchfacility_name": "AF-DEMO Mice",
			"researchfacility_type": "mice", "use": 1000, "use_unit": "cage_days"}
	case emission.SubCloud:
		return map[string]any{"service_type": "compute", "provider": "AWS", "spent_amount": 1200, "currency": "EUR"}
	case emission.SubAI:
		return map[string]any{"provider": "Gemini (Google)", "usage_type": "text",
			"requests_per_user_per_day": "5_20", "fte_count": 2}
	}
	return map[string]any{"category": "refrigerants", "subcategory": "R134a", "quantity": 2}
}

// ---------------------------------------------------------------------------
// Uploads
// ---------------------------------------------------------------------------

// UploadOpts are the optional fields of Upload.
type UploadOpts struct {
	Year      *int32  // default: a new Year
	Kind      *string // default "factors"
	Scope     *string // default "global" for factors and reference, else "year"
	Module    *string
	Submodule *string
	Dataset   *string
	// Import, when set, records the upload's pipeline (kind from the
	// upload kind) with its import job ended in this state ("succeeded",
	// "failed"…), as the import job would have (pipeline_jobs); without it
	// the upload has no pipeline.
	Import *string
}

// importJobKinds are the import job kind and pipeline kind of each upload kind.
var importJobKinds = map[string][2]string{
	"data": {"upload_import", "data_upload"}, "factors": {"factor_import", "factor_upload"},
	"reference": {"reference_import", "reference_upload"},
}

// Upload records an upload row (no blob is stored).
func Upload(ctx context.Context, tb testing.TB, db postgres.DBTX, opts *UploadOpts) dbsqlc.Upload {
	tb.Helper()
	if opts == nil {
		opts = &UploadOpts{}
	}
	year := opts.Year
	if year == nil {
		year = new(Year(ctx, tb, db, nil).Year)
	}
	kind := deref(opts.Kind, "factors")
	scope := "year"
	if kind != "data" {
		scope = "global"
	}
	q := dbsqlc.New(db)
	id := uuid.New()
	var pipelineID *uuid.UUID
	if opts.Import != nil {
		kinds := importJobKinds[kind]
		p, err := q.PipelineCreate(ctx, dbsqlc.PipelineCreateParams{ID: uuid.New(), Kind: kinds[1], Trigger: "user", Year: year,
			Module: opts.Module, Submodule: opts.Submodule, Phases: []string{"import"}})
		require.NoError(tb, err, "testfactory.Upload pipeline")
		pipelineID = &p.ID
		jobID := 1_000_000_000 + next()
		require.NoError(tb, q.PipelineJobLink(ctx, dbsqlc.PipelineJobLinkParams{PipelineID: p.ID, JobID: jobID, Kind: kinds[0],
			Queue: "imports", Role: "root", MaxAttempts: 3}), "testfactory.Upload job")
		_, err = q.PipelineJobFinish(ctx, dbsqlc.PipelineJobFinishParams{State: *opts.Import, JobID: jobID})
		require.NoError(tb, err, "testfactory.Upload job state")
	}
	sum := fmt.Sprintf("%064x", next())
	u, err := q.UploadInsert(ctx, dbsqlc.UploadInsertParams{ID: id, Kind: kind, Scope: deref(opts.Scope, scope), Year: *year,
		Module: opts.Module, Submodule: opts.Submodule, Dataset: opts.Dataset, BlobKey: fmt.Sprintf("uploads/%d/%s.csv", *year, id),
		SizeBytes: 1, Sha256: sum, Options: json.RawMessage(`{}`), PipelineID: pipelineID})
	require.NoError(tb, err, "testfactory.Upload")
	return u
}
