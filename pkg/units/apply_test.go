package units_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/auth"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
	"github.com/co2-calculator/co2-calculator/pkg/units"
)

func TestApply(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 1, 5, 2, 30, 0, 0, time.UTC)

	// Each test gets its own schema: Apply takes the unit-upsert lock and
	// upserts the fixture codes, which parallel transactions of one schema
	// would wait for.
	type testBundle struct {
		pool    *pgxpool.Pool
		fixture []units.Unit
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		src, _ := accredSource(t, accredFixtures)
		list, err := src.Fetch(ctx, nil)
		require.NoError(t, err)
		return &testBundle{pool: testdb.TestSchema(ctx, t).Pool, fixture: list}
	}
	apply := func(t *testing.T, b *testBundle, source string, list []units.Unit) (units.Applied, error) {
		t.Helper()
		return postgres.WithTxV(ctx, b.pool, func(ctx context.Context, tx pgx.Tx) (units.Applied, error) {
			return units.Apply(ctx, tx, source, list, now)
		})
	}
	unit := func(t *testing.T, b *testBundle, code string) dbsqlc.Unit {
		t.Helper()
		u, err := dbsqlc.New(b.pool).UnitGetByInstitutionalCode(ctx, code)
		require.NoError(t, err, code)
		return u
	}
	without := func(list []units.Unit, codes ...string) []units.Unit {
		return slices.DeleteFunc(slices.Clone(list), func(u units.Unit) bool { return slices.Contains(codes, u.Code) })
	}

	t.Run("AbsentUnitsDeactivatedNeverDeleted", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := apply(t, b, units.ProviderAccred, b.fixture)
		require.NoError(t, err)
		res, err := apply(t, b, units.ProviderAccred, without(b.fixture, "17919"))
		require.NoError(t, err)
		require.EqualValues(t, 1, res.Deactivated)
		require.False(t, unit(t, b, "17919").IsActive)
		require.True(t, unit(t, b, "17918").IsActive)
	})

	t.Run("CFGivenToAnotherUnit", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := apply(t, b, units.ProviderAccred, b.fixture)
		require.NoError(t, err)
		// LAB-ALPHA's cf 7919 goes to a new unit; LAB-ALPHA keeps existing
		// without cf: the unique cf never collides.
		list := slices.Clone(b.fixture)
		for i := range list {
			if list[i].Code == "17919" {
				list[i].CF = nil
			}
		}
		newcomer := list[len(list)-1]
		newcomer.Code, newcomer.Name, newcomer.CF = "19999", "LAB-NEWCOMER", new("7919")
		newcomer.PathNames = nil
		res, err := apply(t, b, units.ProviderAccred, append(list, newcomer))
		require.NoError(t, err)
		require.EqualValues(t, 1, res.Released)
		require.Nil(t, unit(t, b, "17919").Cf)
		require.Equal(t, "7919", *unit(t, b, "19999").Cf)
	})

	t.Run("DevFixturesTakenOverByAccred", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// A development database: the dev fixtures with the demo lab's data.
		dev, err := units.Dev{}.Fetch(ctx, nil)
		require.NoError(t, err)
		_, err = apply(t, b, units.ProviderDev, dev)
		require.NoError(t, err)
		demo := unit(t, b, "13032")
		require.Equal(t, "DEV-000002", *demo.PrincipalSciper)
		rep := testfactory.Report(ctx, t, b.pool, &testfactory.ReportOpts{UnitID: &demo.ID})
		testfactory.Entry(ctx, t, b.pool, &testfactory.EntryOpts{ReportModule: new(rep.Module("headcount"))})

		res, err := apply(t, b, units.ProviderAccred, b.fixture)
		require.NoError(t, err)
		require.Equal(t, 1, res.Adopted, "the Accred LAB-DEMO (cf 7918) takes the dev LAB-DEMO over")
		lab := unit(t, b, "17918")
		require.Equal(t, demo.ID, lab.ID, "same unit: its reports and entries stay")
		require.Equal(t, "accred", lab.Source)
		require.Equal(t, "17918", lab.PathCodes[len(lab.PathCodes)-1])
		var entries int
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM data_entries WHERE unit_id = $1`, lab.ID).Scan(&entries))
		require.Equal(t, 1, entries)
		require.True(t, unit(t, b, "13033").IsActive, "dev units Accred does not list stay as they are")
		require.Equal(t, "accred", unit(t, b, "10000").Source, "the same institutional code: the Accred unit")

		// The fixture upserts and the dev directory leave the taken-over
		// units alone (a later `make run` restart, UNIT_PROVIDER=dev).
		require.NoError(t, auth.UpsertDevUnits(ctx, b.pool, now))
		_, err = apply(t, b, units.ProviderDev, dev)
		require.NoError(t, err)
		lab = unit(t, b, "17918")
		require.Equal(t, "accred", lab.Source)
		require.Equal(t, "7918", *lab.Cf)
		_, err = dbsqlc.New(b.pool).UnitGetByInstitutionalCode(ctx, "13032")
		require.ErrorIs(t, err, pgx.ErrNoRows)
	})

	t.Run("FirstSync", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		res, err := apply(t, b, units.ProviderAccred, b.fixture)
		require.NoError(t, err)
		require.Equal(t, 30, res.Synced)
		require.Equal(t, 29, res.Active)
		lab := unit(t, b, "17918")
		parent := unit(t, b, byCode(b.fixture)["17918"].ParentCode)
		require.Equal(t, parent.ID, *lab.ParentID)
		require.Equal(t, append(slices.Clone(parent.PathCodes), "17918"), lab.PathCodes)
		require.Equal(t, append(slices.Clone(parent.PathCfs), "7918"), lab.PathCfs)
		require.Equal(t, "accred", lab.Source)
		require.NotNil(t, lab.SyncedAt)
		require.Nil(t, unit(t, b, "17933").Cf)

		// A second identical run changes nothing but the sync time.
		res, err = apply(t, b, units.ProviderAccred, b.fixture)
		require.NoError(t, err)
		require.Zero(t, res.Deactivated)
		require.Zero(t, res.Released)
		require.Equal(t, lab.ID, unit(t, b, "17918").ID)
	})

	t.Run("ParentListedAfterChild", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		list := slices.Clone(b.fixture)
		// A garbled level: the parent now sorts after its child.
		for i := range list {
			if list[i].Code == byCode(b.fixture)["17918"].ParentCode {
				list[i].Level = 4
			}
		}
		_, err := apply(t, b, units.ProviderAccred, list)
		require.NoError(t, err)
		require.Equal(t, unit(t, b, byCode(b.fixture)["17918"].ParentCode).ID, *unit(t, b, "17918").ParentID)
	})

	t.Run("SuspiciousAnswerChangesNothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := apply(t, b, units.ProviderAccred, b.fixture)
		require.NoError(t, err)
		before := unit(t, b, "17918")

		truncated := slices.Clone(b.fixture[:14]) // 14 active units of 29
		for i := range truncated {
			truncated[i].Name += "-RENAMED"
		}
		_, err = apply(t, b, units.ProviderAccred, truncated)
		require.Equal(t, units.ReasonSuspiciousCount, reasonOf(t, err))
		require.Contains(t, err.Error(), "14 active units, 29 are active now")
		require.Equal(t, before, unit(t, b, "17918"), "nothing changed")

		_, err = apply(t, b, units.ProviderAccred, nil)
		require.Equal(t, units.ReasonSuspiciousCount, reasonOf(t, err), "an empty answer")
	})

	t.Run("TreeChangeKeepsEntries", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := apply(t, b, units.ProviderAccred, b.fixture)
		require.NoError(t, err)
		lab := unit(t, b, "17918")
		rep := testfactory.Report(ctx, t, b.pool, &testfactory.ReportOpts{UnitID: &lab.ID})
		for range 3 {
			testfactory.Entry(ctx, t, b.pool, &testfactory.EntryOpts{ReportModule: new(rep.Module("headcount"))})
		}

		// LAB-DEMO moves under another institute (10210, IEA).
		moved := slices.Clone(b.fixture)
		target := byCode(b.fixture)["10210"]
		for i := range moved {
			if moved[i].Code == "17918" {
				moved[i].ParentCode = "10210"
				moved[i].AncestorCodes = append(slices.Clone(target.AncestorCodes), "10210")
				moved[i].PathNames = nil
			}
		}
		_, err = apply(t, b, units.ProviderAccred, moved)
		require.NoError(t, err)
		after := unit(t, b, "17918")
		require.Equal(t, lab.ID, after.ID, "the same unit")
		require.Equal(t, unit(t, b, "10210").ID, *after.ParentID)
		require.Equal(t, append(slices.Clone(unit(t, b, "10210").PathCodes), "17918"), after.PathCodes)
		require.Equal(t, "IEA", after.PathNames[len(after.PathNames)-2])
		var entries int
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM data_entries WHERE unit_id = $1`, lab.ID).Scan(&entries))
		require.Equal(t, 3, entries, "its entries stay with it")
	})
}

// unit_users follows the stored roles of every user (docs/domain.md §2.2).
func TestRebuildUnitUsers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tx := testdb.TestTx(ctx, t)
	a := testfactory.Unit(ctx, t, tx, nil)
	b := testfactory.Unit(ctx, t, tx, nil)
	role := func(r, kind, cf string) map[string]any {
		return map[string]any{"role": r, "scope": map[string]any{"kind": kind, "cf": cf}}
	}
	principal := testfactory.User(ctx, t, tx, &testfactory.UserOpts{Roles: []any{
		role("calco2.user.principal", "unit", *a.Cf), role("calco2.user.standard", "own", *b.Cf), role("calco2.user.principal", "unit", "no-such-cf")}})
	member := testfactory.User(ctx, t, tx, &testfactory.UserOpts{Roles: []any{role("calco2.user.standard", "own", *a.Cf)}})
	nobody := testfactory.User(ctx, t, tx, nil)
	q := dbsqlc.New(tx)
	require.NoError(t, q.UnitUsersReplaceForUser(ctx, dbsqlc.UnitUsersReplaceForUserParams{UserID: nobody.ID, UnitIds: []int64{b.ID}, Roles: []string{"principal"}}))

	_, err := units.RebuildUnitUsers(ctx, tx)
	require.NoError(t, err)
	rows := func(u dbsqlc.User) map[int64]string {
		out := map[int64]string{}
		rs, err := q.UnitUsersByUser(ctx, u.ID)
		require.NoError(t, err)
		for _, r := range rs {
			out[r.UnitID] = r.Role
		}
		return out
	}
	require.Equal(t, map[int64]string{a.ID: "principal", b.ID: "standard"}, rows(principal))
	require.Equal(t, map[int64]string{a.ID: "standard"}, rows(member))
	require.Empty(t, rows(nobody), "a row no role justifies is removed")
}
