// Package calc is the database side of the emission engine: it loads what
// the pure engine (package emission) needs for one year and module (factors,
// locations, rooms, FX rates) and stores the engine's results — the emission
// rows of a batch of entries (delete + COPY) and the entries' cached totals.
// The API (one entry per write), imports and recalculation all go through it.
package calc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// LoadLookup loads the factors of a module for a year, plus the reference
// data its formulas use: locations for professional travel, building rooms
// for buildings, FX rates for purchases and external cloud and AI. Factors
// rejected by the engine's index are reported in the returned error but the
// lookup is still usable (those factors are simply absent).
func LoadLookup(ctx context.Context, db postgres.DBTX, year int, module emission.ModuleKey) (*emission.Lookup, error) {
	q := dbsqlc.New(db)
	lk := &emission.Lookup{Year: year}

	rows, err := q.FactorsByYearModule(ctx, dbsqlc.FactorsByYearModuleParams{Year: int32(year), Module: string(module)})
	if err != nil {
		return nil, fmt.Errorf("error loading factors %d/%s: %w", year, module, err)
	}
	factors := make([]emission.Factor, 0, len(rows))
	for _, r := range rows {
		f, err := ToFactor(r)
		if err != nil {
			return nil, err
		}
		factors = append(factors, f)
	}
	idx, indexErr := emission.NewFactorIndex(factors)
	lk.Factors = idx

	switch module {
	case emission.ModuleProfessionalTravel:
		var locs []emission.Location
		for _, mode := range []string{"plane", "train"} {
			rows, err := q.LocationsByMode(ctx, mode)
			if err != nil {
				return nil, fmt.Errorf("error loading %s locations: %w", mode, err)
			}
			for _, r := range rows {
				locs = append(locs, ToLocation(r))
			}
		}
		lk.Locations = emission.NewLocations(locs)
	case emission.ModuleBuildings:
		rows, err := q.BuildingRoomsAll(ctx)
		if err != nil {
			return nil, fmt.Errorf("error loading building rooms: %w", err)
		}
		rooms := make([]emission.Room, 0, len(rows))
		for _, r := range rows {
			rooms = append(rooms, ToRoom(r))
		}
		lk.Rooms = emission.NewRooms(rooms)
	case emission.ModulePurchases, emission.ModuleExternalCloudAI:
		rows, err := q.FXRatesByYear(ctx, int32(year))
		if err != nil {
			return nil, fmt.Errorf("error loading FX rates %d: %w", year, err)
		}
		lk.FX = emission.FXRates{}
		for _, r := range rows {
			lk.FX[r.Currency] = r.PerEur
		}
	}
	if indexErr != nil {
		return lk, fmt.Errorf("some factors of %d/%s are invalid: %w", year, module, indexErr)
	}
	return lk, nil
}

// ToFactor converts a stored factor for the engine.
func ToFactor(r dbsqlc.Factor) (emission.Factor, error) {
	f := emission.Factor{ID: emission.FactorID(r.ID), Submodule: emission.SubmoduleKey(r.Submodule)}
	if err := json.Unmarshal(r.Classification, &f.Classification); err != nil {
		return f, fmt.Errorf("factor %d: bad classification: %w", r.ID, err)
	}
	dec := json.NewDecoder(bytes.NewReader(r.Values))
	dec.UseNumber()
	if err := dec.Decode(&f.Values); err != nil {
		return f, fmt.Errorf("factor %d: bad values: %w", r.ID, err)
	}
	return f, nil
}

// ToLocation converts a stored location for the engine.
func ToLocation(r dbsqlc.Location) emission.Location {
	l := emission.Location{Mode: r.TransportMode, Name: r.Name, Latitude: r.Latitude, Longitude: r.Longitude}
	if r.IataCode != nil {
		l.IATA = *r.IataCode
	}
	if r.CountryCode != nil {
		l.CountryCode = *r.CountryCode
	}
	return l
}

// ToRoom converts a stored building room for the engine.
func ToRoom(r dbsqlc.BuildingRoom) emission.Room {
	room := emission.Room{BuildingName: r.BuildingName, RoomName: r.RoomName}
	if r.BuildingLocation != nil {
		room.BuildingLocation = *r.BuildingLocation
	}
	if r.RoomType != nil {
		room.RoomType = *r.RoomType
	}
	if r.SurfaceM2 != nil {
		room.SurfaceM2 = *r.SurfaceM2
	}
	return room
}

// ToEntry decodes a stored entry for the engine. A payload that does not
// decode yields an entry the engine reports as missing_input.
func ToEntry(e dbsqlc.DataEntry) emission.Entry {
	sub := emission.SubmoduleKey(e.Submodule)
	p, err := emission.DecodePayload(sub, e.Data)
	if err != nil {
		p = nil
	}
	return EntryOf(sub, p, e.KgOverride)
}

// EntryOf is the engine's entry for a payload and an override.
func EntryOf(sub emission.SubmoduleKey, p emission.Payload, kgOverride *float64) emission.Entry {
	out := emission.Entry{Submodule: sub, Payload: p}
	if kgOverride != nil {
		kg := emission.Kg(*kgOverride)
		out.KgOverride = &kg
	}
	return out
}

// SortValues are the values of an outcome that entry lists sort by and
// that are not payload fields (docs/api.md §5): the trip distance of a plane
// or train entry and the surface the engine used for a room, stored on the
// entry with its totals (data_entries.distance_km, surface_m2; nil when the
// engine derived none).
func SortValues(o *emission.Outcome) (distanceKm, surfaceM2 *float64) {
	if d := o.Details.DistanceKm; d > 0 && !math.IsInf(d, 1) {
		distanceKm = &d
	}
	if s := o.Details.SurfaceM2; s > 0 && !math.IsInf(s, 1) {
		surfaceM2 = &s
	}
	return distanceKm, surfaceM2
}

// deref is *p, 0 for nil (the parallel arrays of EntriesSetComputed store
// 0 as null).
func deref(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

// Computed is the outcome of one entry of a batch.
type Computed struct {
	EntryID int64
	Outcome emission.Outcome
	Rows    []emission.Row
}

// ComputeAndStore evaluates entries with the engine, replaces their
// emission rows and updates their cached totals, all through db (call it
// inside the transaction that wrote the entries). It returns one Computed
// per entry, in order.
func ComputeAndStore(ctx context.Context, db postgres.DBTX, lk *emission.Lookup, entries []dbsqlc.DataEntry, now time.Time) ([]Computed, error) {
	return computeAndStore(ctx, db, lk, entries, now, false)
}

// RecomputeAndStore is ComputeAndStore for entries read as stored
// (recalculation): the emission_rows of an entry that keeps its single row
// on itself (row_emission_type set) are known to be none, so only the other
// entries' rows are deleted. The stored values are the same as with
// ComputeAndStore.
func RecomputeAndStore(ctx context.Context, db postgres.DBTX, lk *emission.Lookup, entries []dbsqlc.DataEntry, now time.Time) ([]Computed, error) {
	return computeAndStore(ctx, db, lk, entries, now, true)
}

// metaCacheMax bounds the cache of encoded metas of one batch.
const metaCacheMax = 1024

// Batch is what the engine computed for a batch of entries: one Computed
// per entry, the entries' totals and single rows (parallel arrays, as
// EntriesSetComputed takes them) and the emission rows to store in
// emission_rows, in entry order.
//
// An entry whose outcome is one row of its primary factor keeps that row on
// itself (data_entries.row_*, migration 000013; docs/domain.md §3.3): its
// row is in Totals, not in Rows. The rows of every other outcome are in
// Rows.
type Batch struct {
	Out    []Computed
	Totals dbsqlc.EntriesSetComputedParams
	Rows   []dbsqlc.EmissionsCopyFromParams
}

// Compute evaluates stored entries with the engine (their payloads decoded
// from data, ToEntry); nothing is stored.
func Compute(lk *emission.Lookup, entries []dbsqlc.DataEntry, now time.Time) (*Batch, error) {
	decoded := make([]emission.Entry, len(entries))
	for i := range entries {
		decoded[i] = ToEntry(entries[i])
	}
	return ComputeDecoded(lk, entries, decoded, now)
}

// ComputeDecoded is Compute for entries whose engine input the caller
// already holds: decoded[i] is entries[i] as ToEntry would decode it (an
// import's parsed rows, whose data is their payload encoded; decoding it
// back cost 0.27 s per 100 000 plane rows). Imports use it to COPY new
// entries with their totals and single rows already set (SetEntryRow), then
// the other emission rows (StoreNewRows).
func ComputeDecoded(lk *emission.Lookup, entries []dbsqlc.DataEntry, decoded []emission.Entry, now time.Time) (*Batch, error) {
	n := len(entries)
	b := &Batch{
		Out: make([]Computed, n),
		Totals: dbsqlc.EntriesSetComputedParams{
			Ids:                make([]int64, n),
			KgCo2eqs:           make([]float64, n),
			KgCo2eqAdditionals: make([]float64, n),
			CalcStatuses:       make([]string, n),
			CalcMessages:       make([]string, n),
			PrimaryFactorIds:   make([]int64, n),
			DistanceKms:        make([]float64, n),
			SurfaceM2s:         make([]float64, n),
			RowEmissionTypes:   make([]string, n),
			RowScopes:          make([]int16, n),
			RowCategories:      make([]string, n),
			RowQuantities:      make([]float64, n),
			RowQuantityUnits:   make([]string, n),
			RowMetas:           make([]string, n),
			RowEngineVersions:  make([]string, n),
		},
	}
	var rows []emission.Row
	metas := map[emission.RowMeta]json.RawMessage{}
	t := &b.Totals
	for i := range entries {
		e := &entries[i]
		ee := decoded[i]
		start := len(rows)
		var o emission.Outcome
		rows, o = emission.Compute(&ee, lk, rows)
		b.Out[i] = Computed{EntryID: e.ID, Outcome: o, Rows: rows[start:]}
		t.Ids[i] = e.ID
		t.KgCo2eqs[i] = float64(o.Kg)
		t.KgCo2eqAdditionals[i] = float64(o.KgAdditional)
		t.CalcStatuses[i] = string(o.Status)
		t.CalcMessages[i] = o.Message
		t.PrimaryFactorIds[i] = int64(o.PrimaryFactorID)
		distanceKm, surfaceM2 := SortValues(&o)
		t.DistanceKms[i], t.SurfaceM2s[i] = deref(distanceKm), deref(surfaceM2)
		for j := start; j < len(rows); j++ {
			p, err := toEmissionParams(e, &rows[j], now, metas)
			if err != nil {
				return nil, err
			}
			if len(rows)-start == 1 && rows[j].FactorID == o.PrimaryFactorID {
				// Kept on the entry: the view emissions gives it the entry's
				// kg (the sum of one row is that row), primary factor and
				// computed_at.
				t.RowEmissionTypes[i], t.RowScopes[i], t.RowCategories[i] = p.EmissionType, p.Scope, p.Category
				if p.QuantityUnit != nil {
					t.RowQuantities[i], t.RowQuantityUnits[i] = *p.Quantity, *p.QuantityUnit
				}
				t.RowMetas[i], t.RowEngineVersions[i] = string(p.Meta), p.EngineVersion
				continue
			}
			b.Rows = append(b.Rows, p)
		}
	}
	return b, nil
}

// SetEntryRow sets the single-row columns (row_*) of the COPY parameters of
// entry i of the batch: its one emission row, or none.
func (b *Batch) SetEntryRow(i int, p *dbsqlc.EntriesCopyFromParams) {
	t := &b.Totals
	if t.RowEmissionTypes[i] == "" {
		p.RowEmissionType, p.RowScope, p.RowCategory, p.RowQuantity, p.RowQuantityUnit = nil, nil, nil, nil, nil
		p.RowMeta, p.RowEngineVersion = nil, nil
		return
	}
	p.RowEmissionType, p.RowScope, p.RowCategory = &t.RowEmissionTypes[i], &t.RowScopes[i], &t.RowCategories[i]
	p.RowQuantity, p.RowQuantityUnit = nil, nil
	if t.RowQuantityUnits[i] != "" {
		p.RowQuantity, p.RowQuantityUnit = &t.RowQuantities[i], &t.RowQuantityUnits[i]
	}
	p.RowMeta, p.RowEngineVersion = json.RawMessage(t.RowMetas[i]), &t.RowEngineVersions[i]
}

// StoreNewRows COPYs the emission rows of a batch of entries that have no
// rows yet (entries inserted with their totals and single rows set).
func StoreNewRows(ctx context.Context, db postgres.DBTX, b *Batch) error {
	return copyRows(ctx, dbsqlc.New(db), b.Rows)
}

// copyRows COPYs emission rows.
func copyRows(ctx context.Context, q *dbsqlc.Queries, rows []dbsqlc.EmissionsCopyFromParams) error {
	if len(rows) == 0 {
		return nil
	}
	if _, err := q.EmissionsCopyFrom(ctx, rows); err != nil {
		return fmt.Errorf("error storing emission rows: %w", err)
	}
	return nil
}

// computeAndStore deletes the emission_rows of the entries that may have
// some (all of them, or with stored, those not keeping a single row on
// themselves), COPYs the new ones and updates the totals and single rows.
func computeAndStore(ctx context.Context, db postgres.DBTX, lk *emission.Lookup, entries []dbsqlc.DataEntry, now time.Time, stored bool) ([]Computed, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	q := dbsqlc.New(db)
	b, err := Compute(lk, entries, now)
	if err != nil {
		return nil, err
	}
	replaceIDs := b.Totals.Ids
	if stored {
		replaceIDs = make([]int64, 0, len(entries))
		for i := range entries {
			if entries[i].RowEmissionType == nil {
				replaceIDs = append(replaceIDs, entries[i].ID)
			}
		}
	}
	if len(replaceIDs) > 0 {
		if _, err := q.EmissionsDeleteByEntries(ctx, replaceIDs); err != nil {
			return nil, fmt.Errorf("error deleting emission rows: %w", err)
		}
	}
	// The totals and single rows first: an entry that now keeps its single
	// row on itself has no emission rows (deleted above), and one that no
	// longer does accepts emission rows only once its single row is gone
	// (migration 000017).
	if _, err := q.EntriesSetComputed(ctx, b.Totals); err != nil {
		return nil, fmt.Errorf("error updating entry totals: %w", err)
	}
	if err := copyRows(ctx, q, b.Rows); err != nil {
		return nil, err
	}
	return b.Out, nil
}

func toEmissionParams(e *dbsqlc.DataEntry, r *emission.Row, now time.Time, metas map[emission.RowMeta]json.RawMessage) (dbsqlc.EmissionsCopyFromParams, error) {
	// Rows of a batch share few distinct metas (one per factor, mostly):
	// encode each once. The bytes are shared read-only.
	meta, ok := metas[r.Meta]
	if !ok {
		var err error
		if meta, err = json.Marshal(r.Meta); err != nil {
			return dbsqlc.EmissionsCopyFromParams{}, fmt.Errorf("error encoding emission meta: %w", err)
		}
		if len(metas) < metaCacheMax {
			metas[r.Meta] = meta
		}
	}
	p := dbsqlc.EmissionsCopyFromParams{
		EntryID:        e.ID,
		ReportModuleID: e.ReportModuleID,
		EmissionType:   string(r.EmissionType),
		Scope:          int16(r.Scope),
		Category:       string(r.Category),
		KgCo2eq:        float64(r.Kg),
		Meta:           meta,
		EngineVersion:  emission.EngineVersion,
		ComputedAt:     now,
	}
	if r.HasQuantity() {
		qty, unit := r.Quantity, r.QuantityUnit
		p.Quantity, p.QuantityUnit = &qty, &unit
	}
	if r.FactorID != 0 {
		id := int64(r.FactorID)
		p.FactorID = &id
	}
	return p, nil
}
