package httpapi

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/entry"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// Module data handlers (docs/api.md §5). Permissions (module_view,
// module_edit) are applied by middleware around the route groups in
// router.go; the handlers only take the caller from Deps.Actor (own scope,
// D7).

func (s *Server) actor(r *http.Request) entry.Actor {
	if s.Actor != nil {
		return s.Actor(r)
	}
	return entry.Actor{}
}

// entryRequest is the body of POST and PATCH of an entry: {"data": {...}}.
type entryRequest struct {
	Data json.RawMessage `json:"data"`
}

// entryETag is the ETag of an entry (docs/api.md §1 "Caching").
func entryETag(e *entry.Entry) string { return fmt.Sprintf(`W/"e%d-v%d"`, e.Row.ID, e.Row.Version) }

// entryTarget parses what GET, PATCH and DELETE of an entry address: the
// scope and the entry id.
func entryTarget(r *http.Request) (entry.Scope, int64, error) {
	sc, err := pathEntryScope(r)
	if err != nil {
		return sc, 0, err
	}
	id, err := pathEntryID(r)
	return sc, id, err
}

// entryWriteTarget is entryTarget with the optional If-Match version.
func entryWriteTarget(r *http.Request) (entry.Scope, int64, *int32, error) {
	sc, id, err := entryTarget(r)
	if err != nil {
		return sc, 0, nil, err
	}
	version, err := ifMatchVersion(r, id)
	return sc, id, version, err
}

// ifMatchVersion parses If-Match against the entry id: nil when absent or
// "*", else the version; a tag of another entry or a malformed tag is 412.
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

// Entry JSON (docs/api.md §2).

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

// entryWriteJSON is the answer of POST and PATCH: the entry, and whether
// the write moved a validated module back to in_progress (D6,
// docs/api.md §5) so that the SPA can say so.
type entryWriteJSON struct {
	entryJSON
	ModuleReopened bool `json:"module_reopened"`
}

func fromEntryWrite(e *entry.Entry) entryWriteJSON {
	return entryWriteJSON{entryJSON: fromEntry(e, true), ModuleReopened: e.ModuleReopened}
}

// round rounds half away from zero to n decimals (docs/domain.md §1).
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
// submodule's derived keys (docs/api.md §2).
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

// distance renders km as an integer (docs/domain.md §1), null when unknown.
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
	page[entryJSON]
	NextCursor *string     `json:"next_cursor"`
	Summary    summaryJSON `json:"summary"`
}

// listEntries answers GET P/{submodule}/entries (module_view).
func (s *Server) listEntries(r *http.Request) (response, error) {
	sc, err := pathEntryScope(r)
	if err != nil {
		return response{}, err
	}
	p, err := listParams(r, sc.Submodule)
	if err != nil {
		return response{}, err
	}
	res, err := s.entries.List(r.Context(), s.actor(r), sc, p)
	if err != nil {
		return response{}, err
	}
	items := make([]entryJSON, len(res.Items))
	for i := range res.Items {
		items[i] = fromEntry(&res.Items[i], false)
	}
	out := entryListJSON{
		page:    newPage(items, pageParams{Page: res.Page, Limit: res.Limit}, res.Total),
		Summary: summaryJSON{Count: res.Summary.Count, KgCO2eq: round(res.Summary.KgCO2eq, 2), CalcIssues: res.Summary.CalcIssues},
	}
	// has_more comes from the page read (entries follow it), not from the
	// total: a cursor's page number is the one it was made for.
	out.HasMore = res.HasMore
	if res.NextCursor != "" {
		out.NextCursor = &res.NextCursor
	}
	return ok(out), nil
}

func listParams(r *http.Request, sub emission.SubmoduleKey) (entry.ListParams, error) {
	var p entry.ListParams
	pp, err := queryPage(r)
	if err != nil {
		return p, err
	}
	p.Page, p.Limit = pp.Page, pp.Limit
	query := r.URL.Query()
	if p.Cursor = query.Get("cursor"); p.Cursor != "" && !query.Has("page") {
		p.Page = 0 // the cursor's (entry.List: 400 invalid_cursor with page)
	}
	if p.Sort, err = entry.ParseSort(sub, query.Get("sort")); err != nil {
		return p, err
	}
	p.Q, p.Source, p.CalcStatus = query.Get("q"), query.Get("source"), query.Get("calc_status")
	above, err := queryBool(r, "above_threshold")
	if err != nil {
		return p, err
	}
	p.AboveThreshold = above != nil && *above
	return p, nil
}

// createEntry answers POST P/{submodule}/entries (module_edit).
func (s *Server) createEntry(r *http.Request) (response, error) {
	sc, err := pathEntryScope(r)
	if err != nil {
		return response{}, err
	}
	var body entryRequest
	if err := decodeJSON(r, &body); err != nil {
		return response{}, err
	}
	e, err := s.entries.Create(r.Context(), s.actor(r), sc, body.Data)
	if err != nil {
		return response{}, err
	}
	return created(fromEntryWrite(e)).with("ETag", entryETag(e)), nil
}

// getEntry answers GET P/{submodule}/entries/{entry_id} (module_view).
func (s *Server) getEntry(r *http.Request) (response, error) {
	sc, id, err := entryTarget(r)
	if err != nil {
		return response{}, err
	}
	e, err := s.entries.Get(r.Context(), s.actor(r), sc, id)
	if err != nil {
		return response{}, err
	}
	tag := entryETag(e)
	if noneMatch(r, tag) {
		return notModified().with("ETag", tag), nil
	}
	return ok(fromEntry(e, true)).with("ETag", tag), nil
}

// patchEntry answers PATCH P/{submodule}/entries/{entry_id} (module_edit).
func (s *Server) patchEntry(r *http.Request) (response, error) {
	sc, id, version, err := entryWriteTarget(r)
	if err != nil {
		return response{}, err
	}
	var body entryRequest
	if err := decodeJSON(r, &body); err != nil {
		return response{}, err
	}
	e, err := s.entries.Update(r.Context(), s.actor(r), sc, id, body.Data, version)
	if err != nil {
		return response{}, err
	}
	return ok(fromEntryWrite(e)).with("ETag", entryETag(e)), nil
}

// deleteEntry answers DELETE P/{submodule}/entries/{entry_id} (module_edit).
func (s *Server) deleteEntry(r *http.Request) (response, error) {
	sc, id, version, err := entryWriteTarget(r)
	if err != nil {
		return response{}, err
	}
	if err := s.entries.Delete(r.Context(), s.actor(r), sc, id, version); err != nil {
		return response{}, err
	}
	return noContent(), nil
}

// checkUnique answers GET P/{submodule}/entries/check-unique (module_view).
func (s *Server) checkUnique(r *http.Request) (response, error) {
	sc, err := pathEntryScope(r)
	if err != nil {
		return response{}, err
	}
	exclude, err := queryID(r, "exclude_id")
	if err != nil {
		return response{}, err
	}
	q := r.URL.Query()
	return reply(s.entries.CheckUnique(r.Context(), sc, q.Get("field"), q.Get("value"), exclude))
}
