package postgres_test

import (
	"context"
	"encoding/json"
	"math"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

const (
	codeUnique     = "23505"
	codeCheck      = "23514"
	codeForeignKey = "23503"
	codeForbidden  = "42501"
)

// emissionRow is a valid emission row of an entry on a leaf.
func emissionRow(e dbsqlc.DataEntry, leaf emission.EmissionType, kg float64) dbsqlc.EmissionsCopyFromParams {
	n, ok := emission.LookupNode(leaf)
	if !ok || !n.Leaf {
		panic("not a leaf: " + string(leaf))
	}
	return dbsqlc.EmissionsCopyFromParams{
		EntryID: e.ID, ReportModuleID: e.ReportModuleID, EmissionType: string(leaf),
		Scope: int16(n.Scope), Category: string(n.Category), KgCo2eq: kg,
		Meta: json.RawMessage(`{}`), EngineVersion: emission.EngineVersion, ComputedAt: time.Now(),
	}
}

// The extensions are database-wide and installed in public; two schemas
// migrated side by side (with search_path = the schema only, as in every
// test) both get working citext and trigram search.
func TestExtensionsAcrossSchemas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	for _, s := range []testdb.Schema{testdb.TestSchema(ctx, t), testdb.TestSchema(ctx, t)} {
		var path string
		require.NoError(t, s.Pool.QueryRow(ctx, "SHOW search_path").Scan(&path))
		require.Equal(t, s.Name, path)

		tx, err := s.Pool.Begin(ctx)
		require.NoError(t, err)
		t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
		q := dbsqlc.New(tx)

		u := testfactory.User(ctx, t, tx, &testfactory.UserOpts{Email: new("Ada.Lovelace@Example.org")})
		got, err := q.UserGetByEmail(ctx, "ada.lovelace@example.ORG")
		require.NoError(t, err)
		require.Equal(t, u.ID, got.ID)

		testfactory.Location(ctx, t, tx, &testfactory.LocationOpts{IATA: new("GVA"), Name: new("Geneva Cointrin International Airport"), Municipality: new("Geneva")})
		found, err := q.LocationsSearch(ctx, dbsqlc.LocationsSearchParams{Q: "genva", TransportMode: "plane", Limit: 8})
		require.NoError(t, err)
		require.Len(t, found, 1)
		require.Equal(t, new("GVA"), found[0].IataCode)
	}
}

// In a database without the extensions, two schemas migrated concurrently
// race to create them: the advisory lock of 000002 serialises them.
func TestExtensionsConcurrentFreshDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	admin := testdb.Pool(t)

	dbName := testdb.RandomName("ext_")
	_, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{dbName}.Sanitize())
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{dbName}.Sanitize()+" WITH (FORCE)")
	})
	u, err := url.Parse(testdb.URLWithoutPoolParams())
	require.NoError(t, err)
	u.Path = "/" + dbName
	conn, err := pgx.Connect(ctx, u.String())
	require.NoError(t, err)
	defer conn.Close(ctx)

	schemas := []string{"one", "two", "three"}
	for _, s := range schemas {
		_, err := conn.Exec(ctx, "CREATE SCHEMA "+s)
		require.NoError(t, err)
	}
	errs := make(chan error, len(schemas))
	for _, s := range schemas {
		go func() {
			m, err := postgres.NewMigrator(u.String(), s, testdb.QuietLogger())
			if err == nil {
				err = m.Up(ctx)
			}
			errs <- err
		}()
	}
	for range schemas {
		require.NoError(t, <-errs)
	}
	var where []string
	rows, err := conn.Query(ctx, `SELECT extname || '@' || extnamespace::regnamespace::text FROM pg_extension WHERE extname IN ('pg_trgm', 'citext') ORDER BY 1`)
	require.NoError(t, err)
	where, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Equal(t, []string{"citext@public", "pg_trgm@public"}, where)
}

// The CHECK lists of the schema match the Go catalogue and tree.
func TestCatalogueMatchesSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("EveryEntrySubmodule", func(t *testing.T) {
		t.Parallel()
		tx := testdb.TestTx(ctx, t)
		rep := testfactory.Report(ctx, t, tx, nil)
		for _, m := range emission.Modules() {
			for _, sub := range m.Submodules {
				info, _ := emission.LookupSubmodule(sub)
				if info.FactorsOnly {
					requirePgError(ctx, t, tx, codeCheck, "data_entries_submodule_of_module", func(tx pgx.Tx) error {
						_, err := dbsqlc.New(tx).EntryInsert(ctx, dbsqlc.EntryInsertParams{
							ReportModuleID: rep.Module(m.Key).ID, UnitID: rep.Report.UnitID, Year: rep.Report.Year,
							Module: string(m.Key), Submodule: string(sub), Data: json.RawMessage(`{}`), Source: "manual",
						})
						return err
					})
					continue
				}
				rm := rep.Module(m.Key)
				e := testfactory.Entry(ctx, t, tx, &testfactory.EntryOpts{ReportModule: &rm, Submodule: new(string(sub))})
				require.Equal(t, string(m.Key), e.Module)
			}
		}
	})

	t.Run("EveryFactorSubmodule", func(t *testing.T) {
		t.Parallel()
		tx := testdb.TestTx(ctx, t)
		year := testfactory.Year(ctx, t, tx, nil)
		for _, m := range emission.Modules() {
			for _, sub := range m.Submodules {
				f := testfactory.Factor(ctx, t, tx, &testfactory.FactorOpts{Year: &year.Year, Submodule: new(string(sub))})
				require.Equal(t, string(m.Key), f.Module)
			}
		}
	})

	t.Run("EveryLeafAndCategory", func(t *testing.T) {
		t.Parallel()
		tx := testdb.TestTx(ctx, t)
		e := testfactory.Entry(ctx, t, tx, nil)
		var rows []dbsqlc.EmissionsCopyFromParams
		for _, n := range emission.Leaves() {
			rows = append(rows, emissionRow(e, n.Path, 1))
		}
		copied, err := dbsqlc.New(tx).EmissionsCopyFrom(ctx, rows)
		require.NoError(t, err)
		require.Equal(t, int64(len(rows)), copied)
	})
}

func TestConstraints(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	type testBundle struct {
		tx  pgx.Tx
		q   *dbsqlc.Queries
		rep testfactory.ReportBundle
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		tx := testdb.TestTx(ctx, t)
		return &testBundle{tx: tx, q: dbsqlc.New(tx), rep: testfactory.Report(ctx, t, tx, nil)}
	}

	t.Run("AuditEventsAppendOnly", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		zeros := "0000000000000000000000000000000000000000000000000000000000000000"
		var id int64
		require.NoError(t, b.tx.QueryRow(ctx, `
			INSERT INTO audit_events (seq, occurred_at, actor_type, actor_sciper, action, event,
			                          entity_type, entity_id, entity_version, handled_ids, ip, prev_hash, hash)
			VALUES (1, now(), 'user', 'DEV-000002', 'C', 'entry.create', 'data_entry', '42', 1,
			        '{123456}', '192.0.2.10', $1, $2)
			RETURNING id`, zeros, "9f34d11bdee90d0fd10a349eda692d1e5db9e370c1224a39f239643484c7a4fe").Scan(&id))

		requireOK(ctx, t, b.tx, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE audit_events SET ship_status = 'failed', ship_attempts = ship_attempts + 1,
				ship_error = 'boom', next_ship_at = now(), shipped_at = NULL WHERE id = $1`, id)
			return err
		})
		for _, sql := range []string{
			`UPDATE audit_events SET event = 'entry.delete' WHERE id = $1`,
			`UPDATE audit_events SET hash = prev_hash WHERE id = $1`,
			`UPDATE audit_events SET ship_status = 'shipped', reason = 'x' WHERE id = $1`,
			`DELETE FROM audit_events WHERE id = $1`,
		} {
			requirePgError(ctx, t, b.tx, codeForbidden, "", func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, sql, id)
				return err
			})
		}
		requirePgError(ctx, t, b.tx, codeForbidden, "", func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `TRUNCATE audit_events`)
			return err
		})
		var status string
		require.NoError(t, b.tx.QueryRow(ctx, `SELECT ship_status FROM audit_events WHERE id = $1`, id).Scan(&status))
		require.Equal(t, "failed", status)
	})

	t.Run("CascadeReportToEmissions", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		rm := b.rep.Module(emission.ModuleHeadcount)
		e := testfactory.Entry(ctx, t, b.tx, &testfactory.EntryOpts{ReportModule: &rm})
		_, err := b.q.EmissionsCopyFrom(ctx, []dbsqlc.EmissionsCopyFromParams{
			emissionRow(e, "food.vegetarian", 160), emissionRow(e, "commuting.car", 240),
		})
		require.NoError(t, err)
		require.Equal(t, int64(2), count(ctx, t, b.tx, `SELECT count(*) FROM emissions WHERE entry_id = $1`, e.ID))

		_, err = b.tx.Exec(ctx, `DELETE FROM carbon_reports WHERE id = $1`, b.rep.Report.ID)
		require.NoError(t, err)
		require.Zero(t, count(ctx, t, b.tx, `SELECT count(*) FROM report_modules WHERE report_id = $1`, b.rep.Report.ID))
		require.Zero(t, count(ctx, t, b.tx, `SELECT count(*) FROM data_entries WHERE id = $1`, e.ID))
		require.Zero(t, count(ctx, t, b.tx, `SELECT count(*) FROM emissions WHERE entry_id = $1`, e.ID))
	})

	t.Run("DenormalisedColumnsPinned", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		rm := b.rep.Module(emission.ModuleHeadcount)
		// An entry claiming another module than its report module's.
		requirePgError(ctx, t, b.tx, codeForeignKey, "data_entries_report_module_fkey", func(tx pgx.Tx) error {
			_, err := dbsqlc.New(tx).EntryInsert(ctx, dbsqlc.EntryInsertParams{
				ReportModuleID: rm.ID, UnitID: rm.UnitID, Year: rm.Year, Module: "process_emissions",
				Submodule: "process_gas", Data: json.RawMessage(`{"category":"co2","quantity":1}`), Source: "manual",
			})
			return err
		})
		// An emission row claiming another report module than its entry's.
		e := testfactory.Entry(ctx, t, b.tx, &testfactory.EntryOpts{ReportModule: &rm})
		requirePgError(ctx, t, b.tx, codeForeignKey, "emissions_entry_fkey", func(tx pgx.Tx) error {
			row := emissionRow(e, "food.vegetarian", 1)
			row.ReportModuleID = b.rep.Module(emission.ModuleBuildings).ID
			_, err := dbsqlc.New(tx).EmissionsCopyFrom(ctx, []dbsqlc.EmissionsCopyFromParams{row})
			return err
		})
	})

	// Migration 000015: the key of entries to their report module is checked
	// once per statement (a COPY with one bad row among good ones is
	// refused whole) and kept on the report module's side.
	t.Run("EntryReportModuleKeyByStatement", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		rm := b.rep.Module(emission.ModuleProcessEmissions)
		q := dbsqlc.New(b.tx)
		ids, err := q.EntryIDsReserve(ctx, 3)
		require.NoError(t, err)
		row := func(id int64, module string) dbsqlc.EntriesCopyFromParams {
			return dbsqlc.EntriesCopyFromParams{ID: id, ReportModuleID: rm.ID, UnitID: rm.UnitID, Year: rm.Year, Module: module,
				Submodule: "process_gas", Data: json.RawMessage(`{"category":"co2","quantity":1}`), Source: "csv_year", CalcStatus: "pending"}
		}
		requirePgError(ctx, t, b.tx, codeForeignKey, "data_entries_report_module_fkey", func(tx pgx.Tx) error {
			bad := row(ids[1], rm.Module)
			bad.Year++ // no report module of that year
			_, err := dbsqlc.New(tx).EntriesCopyFrom(ctx, []dbsqlc.EntriesCopyFromParams{row(ids[0], rm.Module), bad, row(ids[2], rm.Module)})
			return err
		})
		require.Zero(t, count(ctx, t, b.tx, `SELECT count(*) FROM data_entries WHERE id = ANY($1)`, ids))
		n, err := q.EntriesCopyFrom(ctx, []dbsqlc.EntriesCopyFromParams{row(ids[0], rm.Module), row(ids[1], rm.Module)})
		require.NoError(t, err)
		require.Equal(t, int64(2), n)

		requirePgError(ctx, t, b.tx, codeForeignKey, "data_entries_report_module_fkey", func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE data_entries SET year = year + 1 WHERE id = $1`, ids[0])
			return err
		})
		requirePgError(ctx, t, b.tx, codeForeignKey, "data_entries_report_module_fkey", func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE report_modules SET id = -id WHERE id = $1`, rm.ID)
			return err
		})
		_, err = b.tx.Exec(ctx, `DELETE FROM report_modules WHERE id = $1`, rm.ID)
		require.NoError(t, err)
		require.Zero(t, count(ctx, t, b.tx, `SELECT count(*) FROM data_entries WHERE id = ANY($1)`, ids[:2]))
	})

	// Migration 000017: the key of emission rows to their entry is checked
	// once per statement (a COPY with one bad row among good ones is
	// refused whole); deleting entries deletes their rows in one statement;
	// an entry with rows keeps its id and report module.
	t.Run("EmissionEntryKeyByStatement", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		rm := b.rep.Module(emission.ModuleHeadcount)
		e1 := testfactory.Entry(ctx, t, b.tx, &testfactory.EntryOpts{ReportModule: &rm})
		e2 := testfactory.Entry(ctx, t, b.tx, &testfactory.EntryOpts{ReportModule: &rm})
		keep := testfactory.Entry(ctx, t, b.tx, &testfactory.EntryOpts{ReportModule: &rm})
		for _, mutate := range []func(*dbsqlc.EmissionsCopyFromParams){
			func(r *dbsqlc.EmissionsCopyFromParams) { r.EntryID = -1 },                                               // no such entry
			func(r *dbsqlc.EmissionsCopyFromParams) { r.ReportModuleID = b.rep.Module(emission.ModuleBuildings).ID }, // not the entry's module
		} {
			requirePgError(ctx, t, b.tx, codeForeignKey, "emissions_entry_fkey", func(tx pgx.Tx) error {
				bad := emissionRow(e2, "commuting.car", 1)
				mutate(&bad)
				_, err := dbsqlc.New(tx).EmissionsCopyFrom(ctx, []dbsqlc.EmissionsCopyFromParams{emissionRow(e1, "food.vegetarian", 1), bad})
				return err
			})
		}
		require.Zero(t, count(ctx, t, b.tx, `SELECT count(*) FROM emission_rows WHERE entry_id = $1`, e1.ID), "refused whole")

		_, err := b.q.EmissionsCopyFrom(ctx, []dbsqlc.EmissionsCopyFromParams{
			emissionRow(e1, "food.vegetarian", 1), emissionRow(e1, "commuting.car", 2),
			emissionRow(e2, "food.vegetarian", 3), emissionRow(keep, "food.vegetarian", 4),
		})
		require.NoError(t, err)
		requirePgError(ctx, t, b.tx, codeForeignKey, "emissions_entry_fkey", func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE emission_rows SET entry_id = -1 WHERE entry_id = $1`, e1.ID)
			return err
		})
		requirePgError(ctx, t, b.tx, codeForeignKey, "emissions_entry_fkey", func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE data_entries SET id = -id WHERE id = $1`, e1.ID)
			return err
		})
		// An entry without rows may change (what the key allowed too).
		bare := testfactory.Entry(ctx, t, b.tx, &testfactory.EntryOpts{ReportModule: &rm})
		_, err = b.tx.Exec(ctx, `UPDATE data_entries SET id = -id WHERE id = $1`, bare.ID)
		require.NoError(t, err)

		// The single-row rule (migration 000013), enforced both ways.
		single := testfactory.Entry(ctx, t, b.tx, &testfactory.EntryOpts{ReportModule: &rm})
		_, err = b.tx.Exec(ctx, `UPDATE data_entries SET row_emission_type = 'food.vegetarian', row_scope = 3, row_category = 'food',
			row_meta = '{}', row_engine_version = 'v', computed_at = now() WHERE id = $1`, single.ID)
		require.NoError(t, err)
		requirePgError(ctx, t, b.tx, codeCheck, "emissions_entry_single_row", func(tx pgx.Tx) error {
			_, err := dbsqlc.New(tx).EmissionsCopyFrom(ctx, []dbsqlc.EmissionsCopyFromParams{emissionRow(single, "commuting.car", 1)})
			return err
		})
		requirePgError(ctx, t, b.tx, codeCheck, "emissions_entry_single_row", func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE data_entries SET row_emission_type = 'food.vegetarian', row_scope = 3, row_category = 'food',
				row_meta = '{}', row_engine_version = 'v', computed_at = now() WHERE id = $1`, keep.ID)
			return err
		})

		n, err := b.q.ImportDeleteEntries(ctx, []int64{e1.ID, e2.ID})
		require.NoError(t, err)
		require.Equal(t, int64(2), n)
		require.Zero(t, count(ctx, t, b.tx, `SELECT count(*) FROM emission_rows WHERE entry_id = ANY($1)`, []int64{e1.ID, e2.ID}))
		require.Equal(t, int64(1), count(ctx, t, b.tx, `SELECT count(*) FROM emission_rows WHERE entry_id = $1`, keep.ID),
			"another entry's rows stay")
	})

	// TRUNCATE locks the table: in a schema of its own, not in the
	// package's shared one.
	t.Run("EntriesTruncateTakesEmissionRows", func(t *testing.T) {
		t.Parallel()
		pool := testdb.TestSchema(ctx, t).Pool
		rep := testfactory.Report(ctx, t, pool, nil)
		rm := rep.Module(emission.ModuleHeadcount)
		e := testfactory.Entry(ctx, t, pool, &testfactory.EntryOpts{ReportModule: &rm})
		_, err := dbsqlc.New(pool).EmissionsCopyFrom(ctx, []dbsqlc.EmissionsCopyFromParams{emissionRow(e, "food.vegetarian", 1)})
		require.NoError(t, err)
		_, err = pool.Exec(ctx, `TRUNCATE data_entries`)
		require.NoError(t, err)
		var n int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM emission_rows`).Scan(&n))
		require.Zero(t, n)
	})

	t.Run("EmissionScopeAndKg", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		e := testfactory.Entry(ctx, t, b.tx, nil)
		for _, tt := range []struct {
			name       string
			mutate     func(*dbsqlc.EmissionsCopyFromParams)
			constraint string
		}{
			{"Scope0", func(r *dbsqlc.EmissionsCopyFromParams) { r.Scope = 0 }, "emissions_scope_check"},
			{"Scope4", func(r *dbsqlc.EmissionsCopyFromParams) { r.Scope = 4 }, "emissions_scope_check"},
			{"NegativeKg", func(r *dbsqlc.EmissionsCopyFromParams) { r.KgCo2eq = -0.01 }, "emissions_kg_co2eq_check"},
			{"InfiniteKg", func(r *dbsqlc.EmissionsCopyFromParams) { r.KgCo2eq = math.Inf(1) }, "emissions_kg_co2eq_check"},
			{"NaNKg", func(r *dbsqlc.EmissionsCopyFromParams) { r.KgCo2eq = math.NaN() }, "emissions_kg_co2eq_check"},
			{"UnknownCategory", func(r *dbsqlc.EmissionsCopyFromParams) { r.Category = "misc" }, "emissions_category_check"},
			{"NotAPath", func(r *dbsqlc.EmissionsCopyFromParams) { r.EmissionType = "Food" }, "emissions_emission_type_check"},
			{"UnitWithoutQuantity", func(r *dbsqlc.EmissionsCopyFromParams) { r.QuantityUnit = new("kg") }, "emissions_quantity_unit"},
		} {
			requirePgError(ctx, t, b.tx, codeCheck, tt.constraint, func(tx pgx.Tx) error {
				row := emissionRow(e, "food.vegetarian", 1)
				tt.mutate(&row)
				_, err := dbsqlc.New(tx).EmissionsCopyFrom(ctx, []dbsqlc.EmissionsCopyFromParams{row})
				return err
			})
		}
		zero := emissionRow(e, "food.vegetarian", 0) // legitimately zero (fte = 0)
		zero.Quantity, zero.QuantityUnit = new(0.0), new("kg")
		_, err := b.q.EmissionsCopyFrom(ctx, []dbsqlc.EmissionsCopyFromParams{zero})
		require.NoError(t, err)
	})

	t.Run("FactorClassKeyUnique", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		year := b.rep.Report.Year
		f := testfactory.Factor(ctx, t, b.tx, &testfactory.FactorOpts{Year: &year})
		insert := func(tx pgx.Tx, year int32, sub string) error {
			_, err := tx.Exec(ctx, `INSERT INTO factors (year, module, submodule, emission_type, classification, class_key, "values", source)
				VALUES ($1, $2, $3, $4, $5, $6, '{}', 'csv')`, year, f.Module, sub, f.EmissionType, f.Classification, f.ClassKey)
			return err
		}
		requirePgError(ctx, t, b.tx, codeUnique, "factors_year_submodule_class_key_key", func(tx pgx.Tx) error {
			return insert(tx, year, f.Submodule)
		})
		other := testfactory.Year(ctx, t, b.tx, nil)
		requireOK(ctx, t, b.tx, func(tx pgx.Tx) error { return insert(tx, other.Year, f.Submodule) })

		// The upsert updates the same factor; case and spacing of the
		// classification fold into the same class key.
		again := testfactory.Factor(ctx, t, b.tx, &testfactory.FactorOpts{
			Year:           &year,
			Classification: map[string]string{"category": " Refrigerants ", "subcategory": "r134A"},
			Values:         map[string]any{"ef_kg_co2eq_per_unit": 1300, "unit": "kg"},
		})
		require.Equal(t, f.ID, again.ID)
		require.JSONEq(t, `{"ef_kg_co2eq_per_unit": 1300, "unit": "kg"}`, string(again.Values))
	})

	t.Run("MemberSciperUniquePerReportModule", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		rm := b.rep.Module(emission.ModuleHeadcount)
		member := func(sciper string) map[string]any {
			return map[string]any{"name": "Ada", "sius_code": "53", "user_institutional_id": sciper, "fte": 1}
		}
		first := testfactory.Entry(ctx, t, b.tx, &testfactory.EntryOpts{ReportModule: &rm, Data: member("123456")})

		taken, err := b.q.EntryMemberSciperExists(ctx, dbsqlc.EntryMemberSciperExistsParams{ReportModuleID: rm.ID, Sciper: "123456"})
		require.NoError(t, err)
		require.True(t, taken)
		taken, err = b.q.EntryMemberSciperExists(ctx, dbsqlc.EntryMemberSciperExistsParams{ReportModuleID: rm.ID, Sciper: "123456", ExceptID: &first.ID})
		require.NoError(t, err)
		require.False(t, taken, "an entry does not collide with itself")

		requirePgError(ctx, t, b.tx, codeUnique, "data_entries_member_sciper_key", func(tx pgx.Tx) error {
			_, err := dbsqlc.New(tx).EntryInsert(ctx, dbsqlc.EntryInsertParams{
				ReportModuleID: rm.ID, UnitID: rm.UnitID, Year: rm.Year, Module: "headcount", Submodule: "member",
				Data: json.RawMessage(`{"name":"Ada bis","sius_code":"53","user_institutional_id":"123456","fte":0.5}`), Source: "csv_year",
			})
			return err
		})
		requirePgError(ctx, t, b.tx, codeCheck, "data_entries_member_sciper", func(tx pgx.Tx) error {
			_, err := dbsqlc.New(tx).EntryInsert(ctx, dbsqlc.EntryInsertParams{
				ReportModuleID: rm.ID, UnitID: rm.UnitID, Year: rm.Year, Module: "headcount", Submodule: "member",
				Data: json.RawMessage(`{"name":"Nobody","sius_code":"53","fte":0.5}`), Source: "manual",
			})
			return err
		})
		// Same SCIPER in another unit's report, or as a traveller: fine.
		other := testfactory.Report(ctx, t, b.tx, &testfactory.ReportOpts{Year: &b.rep.Report.Year})
		otherRM := other.Module(emission.ModuleHeadcount)
		testfactory.Entry(ctx, t, b.tx, &testfactory.EntryOpts{ReportModule: &otherRM, Data: member("123456")})
		travel := b.rep.Module(emission.ModuleProfessionalTravel)
		trip := testfactory.Entry(ctx, t, b.tx, &testfactory.EntryOpts{ReportModule: &travel, Submodule: new("plane"),
			Data: map[string]any{"origin_iata": "GVA", "destination_iata": "ZRH", "user_institutional_id": "123456", "cabin_class": "economy"}})
		require.Equal(t, new("123456"), trip.OwnerSciper)
	})

	t.Run("OneStudentPerReportModule", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		rm := b.rep.Module(emission.ModuleHeadcount)
		exists, err := b.q.EntryStudentExists(ctx, rm.ID)
		require.NoError(t, err)
		require.False(t, exists)
		testfactory.Entry(ctx, t, b.tx, &testfactory.EntryOpts{ReportModule: &rm, Submodule: new("student")})
		exists, err = b.q.EntryStudentExists(ctx, rm.ID)
		require.NoError(t, err)
		require.True(t, exists)
		requirePgError(ctx, t, b.tx, codeUnique, "data_entries_student_key", func(tx pgx.Tx) error {
			_, err := dbsqlc.New(tx).EntryInsert(ctx, dbsqlc.EntryInsertParams{
				ReportModuleID: rm.ID, UnitID: rm.UnitID, Year: rm.Year, Module: "headcount", Submodule: "student",
				Data: json.RawMessage(`{"fte":1}`), Source: "manual",
			})
			return err
		})
	})

	t.Run("PipelineLinksDeferred", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		missing := uuid.New()
		// Deferred: accepted until the constraints are checked (commit).
		_, err := b.tx.Exec(ctx, `INSERT INTO pipelines (id, kind, trigger, phases, upload_id) VALUES ($1, 'data_upload', 'user', '{validate}', $2)`,
			uuid.New(), missing)
		require.NoError(t, err)
		requirePgError(ctx, t, b.tx, codeForeignKey, "pipelines_upload_id_fkey", func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `SET CONSTRAINTS ALL IMMEDIATE`)
			return err
		})
	})

	t.Run("SubmoduleBelongsToModule", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		rm := b.rep.Module(emission.ModuleHeadcount)
		requirePgError(ctx, t, b.tx, codeCheck, "data_entries_submodule_of_module", func(tx pgx.Tx) error {
			_, err := dbsqlc.New(tx).EntryInsert(ctx, dbsqlc.EntryInsertParams{
				ReportModuleID: rm.ID, UnitID: rm.UnitID, Year: rm.Year, Module: "headcount", Submodule: "plane",
				Data: json.RawMessage(`{}`), Source: "manual",
			})
			return err
		})
		requirePgError(ctx, t, b.tx, codeCheck, "factors_submodule_of_module", func(tx pgx.Tx) error {
			_, err := dbsqlc.New(tx).FactorUpsert(ctx, dbsqlc.FactorUpsertParams{
				Year: rm.Year, Module: "equipment", Submodule: "cloud", EmissionType: "external_cloud_ai.clouds.compute",
				Classification: json.RawMessage(`{"service_type":"compute"}`), ClassKey: "service_type=compute",
				Values: json.RawMessage(`{}`), Source: "csv",
			})
			return err
		})
		requirePgError(ctx, t, b.tx, codeCheck, "data_entries_owner_only_travel", func(tx pgx.Tx) error {
			_, err := dbsqlc.New(tx).EntryInsert(ctx, dbsqlc.EntryInsertParams{
				ReportModuleID: rm.ID, UnitID: rm.UnitID, Year: rm.Year, Module: "headcount", Submodule: "student",
				Data: json.RawMessage(`{"fte":1}`), Source: "manual", OwnerSciper: new("123456"),
			})
			return err
		})
	})

	t.Run("YearRange", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, y := range []int32{1999, 2101} {
			requirePgError(ctx, t, b.tx, codeCheck, "years_year_check", func(tx pgx.Tx) error {
				_, err := dbsqlc.New(tx).YearCreate(ctx, dbsqlc.YearCreateParams{Year: y, Config: json.RawMessage(`{}`)})
				return err
			})
		}
		requirePgError(ctx, t, b.tx, codeCheck, "years_status_check", func(tx pgx.Tx) error {
			_, err := dbsqlc.New(tx).YearCreate(ctx, dbsqlc.YearCreateParams{Year: 2000, Status: new("archived"), Config: json.RawMessage(`{}`)})
			return err
		})
	})
}
