package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/entry"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// maxJSONBody is the JSON body limit (api.md §1: 1 MiB → 413).
const maxJSONBody = 1 << 20

// Module data handlers (api.md §5). Permissions (module_view, module_edit)
// are applied by middleware around the route groups in router.go; the
// handlers only take the caller from Deps.Actor (own scope, D7).

func (s *Server) actor(r *http.Request) entry.Actor {
	if s.Actor != nil {
		return s.Actor(r)
	}
	return entry.Actor{}
}

// entryScope parses /units/{unit_id}/years/{year}/modules/{module}/{submodule};
// malformed ids are 404 like unknown ones.
func entryScope(r *http.Request) (entry.Scope, error) {
	unitID, err1 := strconv.ParseInt(chi.URLParam(r, "unit_id"), 10, 64)
	year, err2 := strconv.ParseInt(chi.URLParam(r, "year"), 10, 32)
	sc := entry.Scope{
		UnitID: unitID, Year: int32(year),
		Module:    emission.ModuleKey(chi.URLParam(r, "module")),
		Submodule: emission.SubmoduleKey(chi.URLParam(r, "submodule")),
	}
	if err1 != nil || err2 != nil {
		return sc, apperr.NotFound("no such unit or year")
	}
	return sc, entry.CheckSubmodule(sc.Module, sc.Submodule)
}

func entryID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "entry_id"), 10, 64)
	if err != nil {
		return 0, apperr.NotFound("entry not found")
	}
	return id, nil
}

// readJSONObject reads a JSON object body of at most 1 MiB (413 beyond,
// 400 when malformed).
func readJSONObject(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, apperr.New(apperr.CodeTooLarge, "request body exceeds %d bytes", maxJSONBody)
		}
		return nil, apperr.Invalid("error reading the request body")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return nil, apperr.Invalid("request body must be a JSON object")
	}
	return m, nil
}

// entryBody reads {"data": {...}}; other members are unknown fields.
func entryBody(w http.ResponseWriter, r *http.Request) (json.RawMessage, error) {
	m, err := readJSONObject(w, r)
	if err != nil {
		return nil, err
	}
	var fields []apperr.FieldError
	for k := range m {
		if k != "data" {
			fields = append(fields, apperr.FieldError{Field: k, Code: "unknown_field", Message: "unknown field"})
		}
	}
	if len(fields) > 0 {
		slices.SortFunc(fields, func(a, b apperr.FieldError) int { return strings.Compare(a.Field, b.Field) })
		return nil, apperr.Validation(fmt.Sprintf("%d fields are invalid", len(fields)), fields...)
	}
	return m["data"], nil
}

// entryETag is the entry ETag of api.md §9.2.
func entryETag(e *entry.Entry) string { return fmt.Sprintf(`W/"e%d-v%d"`, e.Row.ID, e.Row.Version) }

// ifMatchVersion parses If-Match against the entry id: nil when absent or
// "*", else the version; a tag of another entry or a malformed tag is 412.
// entryWriteTarget parses what PATCH and DELETE of an entry address: the
// scope, the entry id and the optional If-Match version.
func entryWriteTarget(r *http.Request) (entry.Scope, int64, *int32, error) {
	sc, err := entryScope(r)
	if err != nil {
		return sc, 0, nil, err
	}
	id, err := entryID(r)
	if err != nil {
		return sc, 0, nil, err
	}
	version, err := ifMatchVersion(r, id)
	return sc, id, version, err
}

func ifMatchVersion(r *http.Request, id int64) (*int32, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return nil, nil //nolint:nilnil // no If-Match: last write wins
	}
	tag := strings.Trim(strings.TrimPrefix(h, "W/"), `"`)
	var gotID int64
	var version int32
	if n, err := fmt.Sscanf(tag, "e%d-v%d", &gotID, &version); err != nil || n != 2 || gotID != id {
		return nil, apperr.New(apperr.CodePrecondition, "If-Match does not match entry %d", id)
	}
	return &version, nil
}

func noneMatch(r *http.Request, tag string) bool {
	h := r.Header.Get("If-None-Match")
	if h == "" {
		return false
	}
	want := strings.TrimPrefix(tag, "W/")
	for part := range strings.SplitSeq(h, ",") {
		part = strings.TrimSpace(part)
		if part == "*" || strings.TrimPrefix(part, "W/") == want {
			return true
		}
	}
	return false
}

// Entry JSON (api.md §2).

type userRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

type emissionJSON struct {
	EmissionType string   `json:"emission_type"`
	Scope        int16    `json:"scope"`
	Category     string   `json:"category"`
	KgCO2eq      float64  `json:"kg_co2eq"`
	Quantity     *float64 `json:"quantity"`
	QuantityUnit *string  `json:"quantity_unit"`
	FactorID     *int64   `json:"factor_id"`
}

type entryJSON struct {
	ID             int64           `json:"id"`
	Module         string          `json:"module"`
	Submodule      string          `json:"submodule"`
	Source         string          `json:"source"`
	ReadOnly       bool            `json:"read_only"`
	Data           map[string]any  `json:"data"`
	Computed       map[string]any  `json:"computed"`
	AboveThreshold bool            `json:"above_threshold"`
	Version        int32           `json:"version"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
	CreatedBy      *userRef        `json:"created_by"`
	Emissions      *[]emissionJSON `json:"emissions,omitempty"`
}

// round rounds half away from zero to n decimals (domain.md §1).
func round(x float64, n int) float64 {
	p := math.Pow(10, float64(n))
	return math.Round(x*p) / p
}

func fromEntry(e *entry.Entry, withEmissions bool) entryJSON {
	row := e.Row
	out := entryJSON{
		ID: row.ID, Module: row.Module, Submodule: row.Submodule, Source: row.Source, ReadOnly: e.ReadOnly,
		Data: e.Data, Computed: computedJSON(e), AboveThreshold: e.AboveThreshold, Version: row.Version,
		CreatedAt: row.CreatedAt.UTC(), UpdatedAt: row.UpdatedAt.UTC(),
	}
	if e.CreatedBy != nil {
		out.CreatedBy = &userRef{ID: e.CreatedBy.ID, Name: e.CreatedBy.Name}
	}
	if withEmissions {
		list := make([]emissionJSON, 0, len(e.Emissions))
		for _, em := range e.Emissions {
			list = append(list, fromEmission(em))
		}
		out.Emissions = &list
	}
	return out
}

func fromEmission(em dbsqlc.Emission) emissionJSON {
	return emissionJSON{
		EmissionType: em.EmissionType, Scope: em.Scope, Category: em.Category, KgCO2eq: round(em.KgCo2eq, 2),
		Quantity: em.Quantity, QuantityUnit: em.QuantityUnit, FactorID: em.FactorID,
	}
}

// computedJSON is the "computed" object: totals, status, and the
// submodule's derived keys (api.md §2).
func computedJSON(e *entry.Entry) map[string]any {
	row, d := e.Row, e.Details
	ok := row.CalcStatus == string(emission.StatusOK) || row.CalcStatus == string(emission.StatusOverride)
	str := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	num := func(x float64, decimals int) any {
		if x == 0 && !ok {
			return nil
		}
		if decimals < 0 {
			return x
		}
		return round(x, decimals)
	}
	c := map[string]any{
		"kg_co2eq":            round(row.KgCo2eq, 2),
		"kg_co2eq_additional": round(row.KgCo2eqAdditional, 2),
		"calc_status":         row.CalcStatus,
		"calc_message":        row.CalcMessage,
		"factor_id":           row.PrimaryFactorID,
	}
	sub := emission.SubmoduleKey(row.Submodule)
	var traveler any
	if e.TravelerName != nil {
		traveler = *e.TravelerName
	}
	switch {
	case emission.IsEquipmentSubmodule(sub):
		c["active_power_w"], c["standby_power_w"] = num(d.ActivePowerW, -1), num(d.StandbyPowerW, -1)
	case emission.IsPurchaseCategory(sub):
		c["amount_eur"], c["factor_label"] = num(d.AmountEUR, 2), str(d.FactorLabel)
	}
	switch sub { //nolint:exhaustive // the others have no extra keys
	case emission.SubPlane:
		c["origin_name"], c["destination_name"] = str(d.OriginName), str(d.DestinationName)
		c["distance_km"], c["haul_band"], c["traveler_name"] = distance(d.DistanceKm), str(d.HaulBand), traveler
	case emission.SubTrain:
		c["origin_name"], c["destination_name"] = str(d.OriginName), str(d.DestinationName)
		c["distance_km"], c["factor_country"], c["traveler_name"] = distance(d.DistanceKm), str(d.FactorCountry), traveler
	case emission.SubRoom:
		c["surface_m2"] = distanceOrNil(d.SurfaceM2)
		c["operational_kg_co2eq"], c["embodied_kg_co2eq"] = round(float64(d.OperationalKg), 2), round(float64(d.EmbodiedKg), 2)
		c["lighting_kwh_per_square_meter"], c["cooling_kwh_per_square_meter"] = num(d.LightingKWhPerM2, -1), num(d.CoolingKWhPerM2, -1)
		c["ventilation_kwh_per_square_meter"], c["heating_kwh_per_square_meter"] = num(d.VentilationKWhPM2, -1), num(d.HeatingKWhPerM2, -1)
		c["energy_type"] = str(d.EnergyType)
	case emission.SubEnergyCombustion:
		c["unit"] = str(d.Unit)
	case emission.SubCloud:
		c["amount_eur"], c["factor_label"] = num(d.AmountEUR, 2), str(d.FactorLabel)
	case emission.SubAI:
		c["provider_leaf"], c["requests_per_year"] = str(d.ProviderLeaf), num(d.RequestsPerYear, -1)
	case emission.SubFacility, emission.SubAnimalFacility:
		c["use_share"] = num(d.UseShare, -1)
	}
	return c
}

// distance renders km as an integer (domain.md §1), null when unknown.
func distance(km float64) any {
	if km == 0 {
		return nil
	}
	return int64(math.Round(km))
}

func distanceOrNil(x float64) any {
	if x == 0 {
		return nil
	}
	return x
}

type summaryJSON struct {
	Count      int64   `json:"count"`
	KgCO2eq    float64 `json:"kg_co2eq"`
	CalcIssues int64   `json:"calc_issues"`
}

type entryListJSON struct {
	Items   []entryJSON `json:"items"`
	Page    int         `json:"page"`
	Limit   int         `json:"limit"`
	Total   int64       `json:"total"`
	HasMore bool        `json:"has_more"`
	Summary summaryJSON `json:"summary"`
}

func intParam(r *http.Request, name string) (int, error) {
	raw := r.URL.Query().Get(name)
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 {
		e := apperr.Invalid("invalid query parameter %s", name)
		e.Fields = []apperr.FieldError{{Field: name, Code: "invalid_format", Message: "must be a positive integer"}}
		return 0, e
	}
	return n, nil
}

// listEntries answers GET P/{submodule}/entries (module_view).
func (s *Server) listEntries(w http.ResponseWriter, r *http.Request) {
	sc, err := entryScope(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	p, err := listParams(r, sc.Submodule)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	res, err := s.entries.List(r.Context(), s.actor(r), sc, p)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	out := entryListJSON{
		Items: make([]entryJSON, 0, len(res.Items)), Page: res.Page, Limit: res.Limit, Total: res.Total, HasMore: res.HasMore,
		Summary: summaryJSON{Count: res.Summary.Count, KgCO2eq: round(res.Summary.KgCO2eq, 2), CalcIssues: res.Summary.CalcIssues},
	}
	for i := range res.Items {
		out.Items = append(out.Items, fromEntry(&res.Items[i], false))
	}
	writeJSON(w, http.StatusOK, out)
}

func listParams(r *http.Request, sub emission.SubmoduleKey) (entry.ListParams, error) {
	var p entry.ListParams
	var err error
	if p.Page, err = intParam(r, "page"); err != nil {
		return p, err
	}
	if p.Limit, err = intParam(r, "limit"); err != nil {
		return p, err
	}
	if p.Limit > entry.MaxLimit {
		e := apperr.Invalid("invalid query parameter limit")
		e.Fields = []apperr.FieldError{{Field: "limit", Code: "out_of_range", Message: "must be between 1 and 1000"}}
		return p, e
	}
	query := r.URL.Query()
	if p.Sort, err = entry.ParseSort(sub, query.Get("sort")); err != nil {
		return p, err
	}
	p.Q, p.Source, p.CalcStatus = query.Get("q"), query.Get("source"), query.Get("calc_status")
	switch query.Get("above_threshold") {
	case "", "false":
	case "true":
		p.AboveThreshold = true
	default:
		e := apperr.WithReason(apperr.CodeInvalid, "invalid_filter", "invalid filter above_threshold")
		e.Fields = []apperr.FieldError{{Field: "above_threshold", Code: "invalid_filter", Message: "must be true or false"}}
		return p, e
	}
	return p, nil
}

// createEntry answers POST P/{submodule}/entries (module_edit).
func (s *Server) createEntry(w http.ResponseWriter, r *http.Request) {
	sc, err := entryScope(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	data, err := entryBody(w, r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	e, err := s.entries.Create(r.Context(), s.actor(r), sc, data)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	w.Header().Set("ETag", entryETag(e))
	writeJSON(w, http.StatusCreated, fromEntry(e, true))
}

// getEntry answers GET P/{submodule}/entries/{entry_id} (module_view).
func (s *Server) getEntry(w http.ResponseWriter, r *http.Request) {
	sc, err := entryScope(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	id, err := entryID(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	e, err := s.entries.Get(r.Context(), s.actor(r), sc, id)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	tag := entryETag(e)
	w.Header().Set("ETag", tag)
	if noneMatch(r, tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeJSON(w, http.StatusOK, fromEntry(e, true))
}

// patchEntry answers PATCH P/{submodule}/entries/{entry_id} (module_edit).
func (s *Server) patchEntry(w http.ResponseWriter, r *http.Request) {
	sc, id, version, err := entryWriteTarget(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	data, err := entryBody(w, r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	e, err := s.entries.Update(r.Context(), s.actor(r), sc, id, data, version)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	w.Header().Set("ETag", entryETag(e))
	writeJSON(w, http.StatusOK, fromEntry(e, true))
}

// deleteEntry answers DELETE P/{submodule}/entries/{entry_id} (module_edit).
func (s *Server) deleteEntry(w http.ResponseWriter, r *http.Request) {
	sc, id, version, err := entryWriteTarget(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	if err := s.entries.Delete(r.Context(), s.actor(r), sc, id, version); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// checkUnique answers GET P/{submodule}/entries/check-unique (module_view).
func (s *Server) checkUnique(w http.ResponseWriter, r *http.Request) {
	sc, err := entryScope(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	query := r.URL.Query()
	var exclude *int64
	if raw := query.Get("exclude_id"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			writeError(w, r, s.Logger, apperr.Invalid("exclude_id must be an integer"))
			return
		}
		exclude = &id
	}
	res, err := s.entries.CheckUnique(r.Context(), sc, query.Get("field"), query.Get("value"), exclude)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
