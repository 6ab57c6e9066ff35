package calc

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// backfillBatch is the number of entries of one backfill transaction.
const backfillBatch = 5000

// BackfillSortValues fills the sort values (SortValues) of the entries
// computed before migration 000012, module-year by module-year as the
// migration listed them in entry_sort_backfill: the engine runs over the
// entries with the year's current lookup and only data_entries.distance_km
// and surface_m2 are written, where both are still null (numbers, emission
// rows and closed years stay as they are). Each batch commits on its own
// and a module-year's row is deleted once it is filled, so that a run
// interrupted is resumed by the next. `migrate up` calls it; it returns the
// number of entries it updated.
func BackfillSortValues(ctx context.Context, db postgres.DB) (int64, error) {
	pending, err := dbsqlc.New(db).EntrySortBackfillPending(ctx)
	if err != nil {
		return 0, fmt.Errorf("error reading the pending sort-value backfill: %w", err)
	}
	var total int64
	for _, p := range pending {
		n, err := backfillModuleYear(ctx, db, p.Year, emission.ModuleKey(p.Module))
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func backfillModuleYear(ctx context.Context, db postgres.DB, year int32, module emission.ModuleKey) (int64, error) {
	// A lookup with invalid factors is still usable: distances and
	// surfaces do not depend on factors.
	lk, err := LoadLookup(ctx, db, int(year), module)
	if lk == nil {
		return 0, err
	}
	var after, total int64
	for {
		var n int
		err := postgres.WithTx(ctx, db, func(ctx context.Context, tx pgx.Tx) error {
			q := dbsqlc.New(tx)
			entries, err := q.EntriesByYearModuleAfter(ctx, dbsqlc.EntriesByYearModuleAfterParams{
				Year: year, Module: string(module), AfterID: after, Limit: backfillBatch,
			})
			if err != nil {
				return fmt.Errorf("error reading the entries of %s/%d: %w", module, year, err)
			}
			if n = len(entries); n == 0 {
				return q.EntrySortBackfillDone(ctx, dbsqlc.EntrySortBackfillDoneParams{Year: year, Module: string(module)})
			}
			after = entries[n-1].ID
			p := dbsqlc.EntriesSetSortValuesParams{
				Ids: make([]int64, n), DistanceKms: make([]float64, n), SurfaceM2s: make([]float64, n),
			}
			var rows []emission.Row
			for i := range entries {
				ee := ToEntry(entries[i])
				var o emission.Outcome
				rows, o = emission.Compute(&ee, lk, rows[:0])
				distanceKm, surfaceM2 := SortValues(&o)
				p.Ids[i], p.DistanceKms[i], p.SurfaceM2s[i] = entries[i].ID, deref(distanceKm), deref(surfaceM2)
			}
			updated, err := q.EntriesSetSortValues(ctx, p)
			total += updated
			if err != nil {
				return fmt.Errorf("error storing the sort values of %s/%d: %w", module, year, err)
			}
			return nil
		})
		if err != nil || n == 0 {
			return total, err
		}
	}
}
