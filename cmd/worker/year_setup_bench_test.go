package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/fakes"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

// BenchmarkYearSetup measures the setup of a year end to end, as the API
// starts it (POST /years: the year, its year_setup pipeline and
// accred_unit_sync in one transaction) and the real worker runs it
// against an Accred fake of 500 units and 5 000 people: the directory read
// in pages of 100, the 500 units upserted, unit_users rebuilt for the 5 000
// users (their stored roles), 500 reports with their 4 000 report modules,
// the year ready. Reported: the time from the commit of the request to the
// pipeline's SUCCESS, for the first setup and for a resync (nothing to
// create).
func BenchmarkYearSetup(b *testing.B) {
	ctx := context.Background()
	const nUnits, nPeople = 500, 5000
	schema := testdb.TestSchema(ctx, b)
	dir := b.TempDir()
	_, people, err := fakes.GenerateAccred(dir, nUnits, nPeople)
	require.NoError(b, err)
	srv := httptest.NewServer(fakes.NewAccred(dir, "bench", "secret"))
	b.Cleanup(srv.Close)

	// The people as users with the roles Accred grants them (what their
	// logins and role_sync stored).
	scipers, roles := make([]string, len(people)), make([]string, len(people))
	for i, p := range people {
		scipers[i] = p.Sciper
		kind := "own"
		if p.Role == "calco2.user.principal" {
			kind = "unit"
		}
		roles[i] = fmt.Sprintf(`[{"role": %q, "scope": {"kind": %q, "cf": %q}}]`, p.Role, kind, p.CF)
	}
	_, err = schema.Pool.Exec(ctx, `INSERT INTO users (sciper, provider, display_name, roles)
		SELECT s, 'accred', 'Person ' || s, r::jsonb FROM unnest($1::text[], $2::text[]) AS x (s, r)`, scipers, roles)
	require.NoError(b, err)

	startWorker(b, schema, "integrations=2", "UNIT_PROVIDER", "accred", "ACCRED_BASE_URL", srv.URL,
		"ACCRED_USERNAME", "bench", "ACCRED_PASSWORD", "secret", "SCHEDULE_ACCRED", "")
	svc := &years.Service{DB: schema.Pool, Enqueue: jobs.EnqueueUnitSync(insertClient(b))}
	q := dbsqlc.New(schema.Pool)
	run := func(start func() (years.Created, error)) time.Duration {
		t0 := time.Now()
		created, err := start()
		require.NoError(b, err)
		for {
			p, err := q.PipelineGet(ctx, created.Pipeline.ID)
			require.NoError(b, err)
			if p.Status == "SUCCESS" {
				break
			}
			require.NotEqual(b, "FAILED", p.Status, "the setup failed: %v", p.LastError)
			require.Less(b, time.Since(t0), 5*time.Minute)
			<-time.After(5 * time.Millisecond) // polling the worker's commits
		}
		return time.Since(t0)
	}

	year := int32(2025)
	for b.Loop() {
		year++
		setup := run(func() (years.Created, error) { return svc.Create(ctx, year, nil) })
		resync := run(func() (years.Created, error) {
			p, err := svc.Setup(ctx, year, nil)
			return years.Created{Pipeline: p}, err
		})
		y, err := q.YearGet(ctx, year)
		require.NoError(b, err)
		require.Equal(b, "ready", y.Status)
		var reports, links int
		require.NoError(b, schema.Pool.QueryRow(ctx, `SELECT count(*) FROM carbon_reports WHERE year = $1`, year).Scan(&reports))
		require.NoError(b, schema.Pool.QueryRow(ctx, `SELECT count(*) FROM unit_users`).Scan(&links))
		require.Equal(b, nUnits, reports)
		require.Equal(b, nPeople, links)
		b.ReportMetric(setup.Seconds()*1000, "setup_ms")
		b.ReportMetric(resync.Seconds()*1000, "resync_ms")
		fmt.Printf("year setup: %d units, %d people from the Accred fake: %s to ready (%d reports, %d unit_users); resync %s\n",
			nUnits, nPeople, setup.Round(time.Millisecond), reports, links, resync.Round(time.Millisecond))
	}
}
