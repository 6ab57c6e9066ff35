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
	out := emission.Entry{Submodule: sub}
	if p, err := emission.DecodePayload(sub, e.Data); err == nil {
		out.Payload = p
	}
	if e.KgOverride != nil {
		kg := emission.Kg(*e.KgOverride)
		out.KgOverride = &kg
	}
	return out
}

// Computed is the outcome of one entry of a batch.
type Computed struct {
	EntryID int64
	Outcome emission.Outcome
	Rows    []emission.Row
}

// ComputeAndStore evaluates entries with the engine, replaces their
// emission rows (delete, then COPY) and updates their cached totals, all
// through db (call it inside the transaction that wrote the entries). It
// returns one Computed per entry, in order.
func ComputeAndStore(ctx context.Context, db postgres.DBTX, lk *emission.Lookup, entries []dbsqlc.DataEntry, now time.Time) ([]Computed, error) {
	return computeAndStore(ctx, db, lk, entries, now, false)
}

// RecomputeAndStore is ComputeAndStore for entries that were computed
// before (recalculation): an entry that had exactly one emission row and
// again yields one row of the same type and factor has that row rewritten
// in place (RecalcEmissionsUpdate: a HOT update without foreign-key checks;
// the row keeps its id), the others have their rows replaced. The stored
// values are the same as with ComputeAndStore.
func RecomputeAndStore(ctx context.Context, db postgres.DBTX, lk *emission.Lookup, entries []dbsqlc.DataEntry, now time.Time) ([]Computed, error) {
	return computeAndStore(ctx, db, lk, entries, now, true)
}

// metaCacheMax bounds the cache of encoded metas of one batch.
const metaCacheMax = 1024

// Batch is what the engine computed for a batch of entries: one Computed
// per entry, the entries' totals (parallel arrays, as EntriesSetComputed
// takes them) and the emission rows to store, in entry order.
type Batch struct {
	Out    []Computed
	Totals dbsqlc.EntriesSetComputedParams
	Rows   []dbsqlc.EmissionsCopyFromParams
	// first[i] is the index in Rows of entry i's first row.
	first []int
}

// Compute evaluates entries with the engine; nothing is stored. Imports
// use it to COPY new entries with their totals already set, then their
// emission rows (StoreNewRows).
func Compute(lk *emission.Lookup, entries []dbsqlc.DataEntry, now time.Time) (*Batch, error) {
	b := &Batch{
		Out: make([]Computed, len(entries)),
		Totals: dbsqlc.EntriesSetComputedParams{
			Ids:                make([]int64, len(entries)),
			KgCo2eqs:           make([]float64, len(entries)),
			KgCo2eqAdditionals: make([]float64, len(entries)),
			CalcStatuses:       make([]string, len(entries)),
			CalcMessages:       make([]string, len(entries)),
			PrimaryFactorIds:   make([]int64, len(entries)),
		},
		Rows:  make([]dbsqlc.EmissionsCopyFromParams, 0, len(entries)*2),
		first: make([]int, len(entries)+1),
	}
	var rows []emission.Row
	metas := map[emission.RowMeta]json.RawMessage{}
	t := &b.Totals
	for i := range entries {
		e := &entries[i]
		ee := ToEntry(*e)
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
		b.first[i] = len(b.Rows)
		for j := start; j < len(rows); j++ {
			p, err := toEmissionParams(e, &rows[j], now, metas)
			if err != nil {
				return nil, err
			}
			b.Rows = append(b.Rows, p)
		}
	}
	b.first[len(entries)] = len(b.Rows)
	return b, nil
}

// StoreNewRows COPYs the emission rows of a batch of entries that have no
// rows yet (entries inserted with their totals set).
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

func computeAndStore(ctx context.Context, db postgres.DBTX, lk *emission.Lookup, entries []dbsqlc.DataEntry, now time.Time, inPlace bool) ([]Computed, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	q := dbsqlc.New(db)
	b, err := Compute(lk, entries, now)
	if err != nil {
		return nil, err
	}
	replaceIDs, replace := b.Totals.Ids, b.Rows
	if inPlace {
		if replaceIDs, replace, err = updateInPlace(ctx, q, b.Totals.Ids, b.first, b.Rows, now); err != nil {
			return nil, err
		}
	}
	if len(replaceIDs) > 0 {
		if _, err := q.EmissionsDeleteByEntries(ctx, replaceIDs); err != nil {
			return nil, fmt.Errorf("error deleting emission rows: %w", err)
		}
	}
	if err := copyRows(ctx, q, replace); err != nil {
		return nil, err
	}
	if _, err := q.EntriesSetComputed(ctx, b.Totals); err != nil {
		return nil, fmt.Errorf("error updating entry totals: %w", err)
	}
	return b.Out, nil
}

// updateInPlace rewrites the emission row of the entries that had exactly
// one row and get one row with the same report module, emission type and
// factor, and returns the ids and rows of the entries still to replace.
func updateInPlace(ctx context.Context, q *dbsqlc.Queries, ids []int64, first []int, params []dbsqlc.EmissionsCopyFromParams, now time.Time,
) ([]int64, []dbsqlc.EmissionsCopyFromParams, error) {
	keys, err := q.RecalcEmissionKeys(ctx, ids)
	if err != nil {
		return nil, nil, fmt.Errorf("error reading emission rows: %w", err)
	}
	if len(keys) == 0 {
		return ids, params, nil
	}
	type old struct {
		key dbsqlc.RecalcEmissionKeysRow
		n   int
	}
	olds := make(map[int64]old, len(keys))
	for _, k := range keys {
		o := olds[k.EntryID]
		olds[k.EntryID] = old{key: k, n: o.n + 1}
	}
	u := dbsqlc.RecalcEmissionsUpdateParams{EngineVersion: emission.EngineVersion, ComputedAt: now}
	restIDs := make([]int64, 0, len(ids)-min(len(ids), len(keys)))
	rest := make([]dbsqlc.EmissionsCopyFromParams, 0, len(params)/2)
	for i, id := range ids {
		o, ok := olds[id]
		if !ok || o.n != 1 || first[i+1]-first[i] != 1 || !sameKey(&o.key, &params[first[i]]) {
			restIDs = append(restIDs, id)
			rest = append(rest, params[first[i]:first[i+1]]...)
			continue
		}
		p := &params[first[i]]
		var qty float64
		var unit string
		if p.QuantityUnit != nil {
			qty, unit = *p.Quantity, *p.QuantityUnit
		}
		u.Ids = append(u.Ids, o.key.ID)
		u.Scopes = append(u.Scopes, p.Scope)
		u.Categories = append(u.Categories, p.Category)
		u.KgCo2eqs = append(u.KgCo2eqs, p.KgCo2eq)
		u.Quantities = append(u.Quantities, qty)
		u.QuantityUnits = append(u.QuantityUnits, unit)
		u.Metas = append(u.Metas, string(p.Meta))
	}
	if len(u.Ids) > 0 {
		n, err := q.RecalcEmissionsUpdate(ctx, u)
		if err != nil {
			return nil, nil, fmt.Errorf("error updating emission rows: %w", err)
		}
		if n != int64(len(u.Ids)) {
			return nil, nil, fmt.Errorf("error updating emission rows: %d of %d updated", n, len(u.Ids))
		}
	}
	return restIDs, rest, nil
}

// sameKey reports whether a stored emission row has the key columns of a
// new row (so rewriting it in place stores the same as delete + COPY).
func sameKey(k *dbsqlc.RecalcEmissionKeysRow, p *dbsqlc.EmissionsCopyFromParams) bool {
	if k.ReportModuleID != p.ReportModuleID || k.EmissionType != p.EmissionType || (k.FactorID == nil) != (p.FactorID == nil) {
		return false
	}
	return k.FactorID == nil || *k.FactorID == *p.FactorID
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
