package jobs_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/imports"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// Batches are written while the next one is parsed: the row errors of a
// file spanning many batches (skipped rows, and unknown_location warnings
// only known once a batch is computed) still come out in row order with
// exact counters.
func TestUploadImportBatchesKeepRowOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newImportEnv(ctx, t)
	unit := testfactory.Unit(ctx, t, e.schema.Pool, nil)
	// A schema of its own: fixed letter codes (IATA codes are letters).
	a := testfactory.Location(ctx, t, e.schema.Pool, &testfactory.LocationOpts{IATA: new("QAA")})
	b := testfactory.Location(ctx, t, e.schema.Pool, &testfactory.LocationOpts{IATA: new("QBB"), Latitude: new(48.85), Longitude: new(2.35)})

	var csv strings.Builder
	csv.WriteString("unit_institutional_id,user_institutional_id,origin_iata,destination_iata,departure_date,number_of_trips,cabin_class\n")
	row := func(cf, from, to, trips string) {
		fmt.Fprintf(&csv, "%s,100001,%s,%s,%d-03-01,%s,economy\n", cf, from, to, e.year, trips)
	}
	known, unknown := *a.IataCode, "QZZ"
	type want struct {
		row  int
		code string
	}
	var wants []want
	loaded := 0
	for i := 1; i <= 23; i++ {
		switch i % 4 {
		case 0: // skipped: bad number of trips
			row(*unit.Cf, known, *b.IataCode, "-1")
			wants = append(wants, want{i, "out_of_range"})
		case 2: // loaded with a warning: unknown airport
			row(*unit.Cf, unknown, *b.IataCode, "1")
			wants = append(wants, want{i, "unknown_location"})
			loaded++
		default:
			row(*unit.Cf, known, *b.IataCode, "2")
			loaded++
		}
	}
	id := e.upload(ctx, t, uploadSpec{kind: "data", module: "professional_travel", submodule: "plane"}, csv.String())
	pid, job := e.enqueue(ctx, t, pipeline.KindDataUpload, jobs.UploadImportArgs{UploadID: id})
	res, err := workImport(ctx, t, e, job, func(db postgres.DB) river.Worker[jobs.UploadImportArgs] {
		return &jobs.UploadImportWorker{Imports: &imports.Service{DB: db, Blob: e.store, BatchSize: 2}}
	}, nil, nil)
	require.NoError(t, err)
	require.Equal(t, river.EventKindJobCompleted, res.EventKind, "%v %v", res.Job.Errors, e.jobResult(ctx, t, pid, job.ID).RowErrors)

	r := e.jobResult(ctx, t, pid, job.ID)
	require.Equal(t, "succeeded", r.State)
	require.InDelta(t, loaded, r.Result["rows_loaded"], 0)
	require.InDelta(t, 5, r.Result["rows_skipped"], 0)
	require.InDelta(t, 6, r.Result["row_warnings"], 0)
	require.Equal(t, int32(len(wants)), r.RowErrorsTotal)
	got := make([]want, len(r.RowErrors))
	for i, re := range r.RowErrors {
		got[i] = want{int(re["row"].(float64)), re["code"].(string)} //nolint:forcetypeassert // test
	}
	require.Equal(t, wants, got)
	require.Equal(t, loaded, e.count(ctx, t, `SELECT count(*) FROM data_entries WHERE upload_id = $1`, id))
}
