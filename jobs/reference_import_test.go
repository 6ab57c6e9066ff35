package jobs_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/imports"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

func TestReferenceImport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	run := func(t *testing.T, e *importEnv, id uuid.UUID, check func(tx pgx.Tx)) jobResult {
		t.Helper()
		pid, job := e.enqueue(ctx, t, pipeline.KindReferenceUpload, jobs.ReferenceImportArgs{UploadID: id})
		res, err := workImport(ctx, t, e, job, func(db postgres.DB) river.Worker[jobs.ReferenceImportArgs] {
			return &jobs.ReferenceImportWorker{Imports: &imports.Service{DB: db, Blob: e.store}}
		}, nil, check)
		require.NoError(t, err)
		require.Equal(t, river.EventKindJobCompleted, res.EventKind, "%v", res.Job.Errors)
		r := e.jobResult(ctx, t, pid, job.ID)
		require.Equal(t, "succeeded", r.State)
		return r
	}
	locationIDs := func(t *testing.T, e *importEnv) map[string]int64 {
		t.Helper()
		rows, err := e.schema.Pool.Query(ctx, `SELECT natural_key, id FROM locations WHERE transport_mode = 'plane'`)
		require.NoError(t, err)
		out := map[string]int64{}
		for rows.Next() {
			var k string
			var id int64
			require.NoError(t, rows.Scan(&k, &id))
			out[k] = id
		}
		require.NoError(t, rows.Err())
		return out
	}
	planes := uploadSpec{kind: "reference", dataset: "locations_plane"}
	const header = "transport_mode,iata_code,name,municipality,country_code,continent,latitude,longitude,airport_size\n"

	t.Run("LocationsMergeKeepsIDs", func(t *testing.T) {
		t.Parallel()
		e := newImportEnv(ctx, t)
		// Years: e.year is open; a ready and a closed one besides.
		ready := testfactory.Year(ctx, t, e.schema.Pool, &testfactory.YearOpts{Status: new("ready")})
		closed := testfactory.Year(ctx, t, e.schema.Pool, &testfactory.YearOpts{Status: new("closed")})

		r := run(t, e, e.upload(ctx, t, planes, header+
			"plane,GVA,Geneva Airport,Geneva,CH,EU,46.2381,6.1089,large_airport\n"+
			"plane,CDG,Charles de Gaulle,Paris,FR,EU,49.0097,2.5479,large_airport\n"+
			"plane,ZRH,Zurich Airport,Zurich,CH,EU,47.4647,8.5492,large_airport\n"), nil)
		require.InDelta(t, 3, r.Result["locations_upserted"], 0)
		before := locationIDs(t, e)
		require.Len(t, before, 3)

		pid, job := e.enqueue(ctx, t, pipeline.KindReferenceUpload, jobs.ReferenceImportArgs{UploadID: e.upload(ctx, t, planes, header+
			"plane,GVA,Genève Aéroport,Geneva,CH,EU,46.2381,6.1089,large_airport\n"+
			"plane,CDG,Charles de Gaulle,Paris,FR,EU,49.0097,2.5479,large_airport\n"+
			"train,,Lausanne,Lausanne,CH,EU,46.5167,6.6291,\n"+
			"plane,JFK,John F. Kennedy,New York,US,NA,40.6398,-73.7789,large_airport\n")})
		res, err := workImport(ctx, t, e, job, func(db postgres.DB) river.Worker[jobs.ReferenceImportArgs] {
			return &jobs.ReferenceImportWorker{Imports: &imports.Service{DB: db, Blob: e.store}}
		}, nil, nil)
		require.NoError(t, err)
		require.Equal(t, river.EventKindJobCompleted, res.EventKind)
		r = e.jobResult(ctx, t, pid, job.ID)
		// The recalculations (coalesced with the first import's, still
		// queued) are linked as children: one per ready or open year.
		var recalcYears []int
		rows, err := e.schema.Pool.Query(ctx, `SELECT (j.args->>'year')::int FROM pipeline_jobs pj JOIN river_job j ON j.id = pj.job_id
			WHERE pj.pipeline_id = $1 AND pj.kind = 'emission_recalc' AND pj.role = 'child' AND j.args->>'module' = 'professional_travel'`, pid)
		require.NoError(t, err)
		for rows.Next() {
			var y int
			require.NoError(t, rows.Scan(&y))
			recalcYears = append(recalcYears, y)
		}
		require.NoError(t, rows.Err())
		require.ElementsMatch(t, []int{int(e.year), int(ready.Year)}, recalcYears, "ready and open years only")
		require.NotContains(t, recalcYears, int(closed.Year))
		require.InDelta(t, 1, r.Result["locations_deleted"], 0)
		after := locationIDs(t, e)
		require.Len(t, after, 3)
		require.Equal(t, before["plane:GVA"], after["plane:GVA"], "surviving keys keep their ids")
		require.Equal(t, before["plane:CDG"], after["plane:CDG"])
		require.NotContains(t, after, "plane:ZRH")
		require.Contains(t, after, "plane:JFK")
		var name string
		require.NoError(t, e.schema.Pool.QueryRow(ctx, `SELECT name FROM locations WHERE natural_key = 'plane:GVA'`).Scan(&name))
		require.Equal(t, "Genève Aéroport", name)
		codes := map[any]bool{}
		for _, re := range r.RowErrors {
			codes[re["code"]] = true
		}
		require.True(t, codes["mode_mismatch"], "%v", r.RowErrors)
		require.Equal(t, 0, e.count(ctx, t, `SELECT count(*) FROM locations_staging`), "staging rows cleared")
		require.Equal(t, 2, e.count(ctx, t, `SELECT recalc_requested_seq FROM module_year_state WHERE year = $1 AND module = 'professional_travel'`, ready.Year),
			"each import requested a recalculation")
	})

	t.Run("RoomsReplaced", func(t *testing.T) {
		t.Parallel()
		e := newImportEnv(ctx, t)
		rooms := uploadSpec{kind: "reference", dataset: "building_rooms"}
		const h = "building_location,building_name,room_name,room_type,room_surface_square_meter\n"
		r := run(t, e, e.upload(ctx, t, rooms, h+"ECUBLENS,BX,BX-010,laboratories,62.5\nECUBLENS,BX,BX-012,laboratories,48\n"), nil)
		require.InDelta(t, 2, r.Result["rooms_loaded"], 0)
		r = run(t, e, e.upload(ctx, t, rooms, h+"ECUBLENS,CH,CH-1,laboratories,20\nECUBLENS,CH,,laboratories,20\nECUBLENS,ch,ch-1,laboratories,25\n"), func(tx pgx.Tx) {
			var n, buildings int
			require.NoError(t, tx.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE args->>'module' = 'buildings') FROM river_job WHERE kind = 'emission_recalc'`).Scan(&n, &buildings))
			require.Positive(t, n)
			require.Equal(t, n, buildings, "rooms only recalculate buildings")
		})
		require.InDelta(t, 1, r.Result["rooms_loaded"], 0)
		require.InDelta(t, 2, r.Result["rooms_deleted"], 0)
		require.Equal(t, 1, e.count(ctx, t, `SELECT count(*) FROM building_rooms`))
		var surface float64
		require.NoError(t, e.schema.Pool.QueryRow(ctx, `SELECT surface_m2 FROM building_rooms`).Scan(&surface))
		require.InDelta(t, 25, surface, 0, "the last duplicate wins")
		codes := map[any]bool{}
		for _, re := range r.RowErrors {
			codes[re["code"]] = true
		}
		require.True(t, codes["required"], "%v", r.RowErrors)
		require.True(t, codes["duplicate_in_file"], "%v", r.RowErrors)
	})
}
