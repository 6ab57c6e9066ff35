package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/auth"
	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

type stubRoles struct {
	roles []perm.Assignment
	err   error
}

func (stubRoles) Name() string { return auth.ProviderAccred }
func (s stubRoles) Resolve(context.Context, auth.Identity) (auth.Resolved, error) {
	return auth.Resolved{Roles: s.roles}, s.err
}

func TestRoleSync(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }

	setup := func(t *testing.T) (context.Context, *dbsqlc.Queries, dbsqlc.User, dbsqlc.Unit, func(jobs.RoleSyncWorker) (*rivertest.WorkResult, error)) {
		t.Helper()
		ctx := t.Context()
		tx := testdb.TestTx(ctx, t)
		unit := testfactory.Unit(ctx, t, tx, nil)
		user := testfactory.User(ctx, t, tx, &testfactory.UserOpts{Roles: []perm.Assignment{perm.New(perm.RoleStandard, *unit.Cf)}})
		work := func(w jobs.RoleSyncWorker) (*rivertest.WorkResult, error) {
			w.DB, w.Now = tx, clock
			return rivertest.NewWorker(t, riverpgxv5.New(nil), &river.Config{}, &w).Work(ctx, t, tx, jobs.RoleSyncArgs{UserID: user.ID}, nil)
		}
		return ctx, dbsqlc.New(tx), user, unit, work
	}

	t.Run("Changed", func(t *testing.T) {
		t.Parallel()
		ctx, q, user, unit, work := setup(t)
		_, err := work(jobs.RoleSyncWorker{Roles: stubRoles{roles: []perm.Assignment{perm.New(perm.RolePrincipal, *unit.Cf)}}})
		require.NoError(t, err)
		u, err := q.UserGet(ctx, user.ID)
		require.NoError(t, err)
		require.Equal(t, []perm.Assignment{perm.New(perm.RolePrincipal, *unit.Cf)}, auth.StoredRoles(u.Roles))
		require.Equal(t, now, u.RolesSyncedAt.UTC())
		members, err := q.UnitUsersByUser(ctx, user.ID)
		require.NoError(t, err)
		require.Len(t, members, 1)
		require.Equal(t, "principal", members[0].Role)
		evs, err := q.AuditByEvent(ctx, dbsqlc.AuditByEventParams{Event: "user.roles_changed", MaxRows: 1})
		require.NoError(t, err)
		require.Len(t, evs, 1)
		require.Contains(t, string(evs[0].Snapshot), "calco2.user.principal")
	})

	t.Run("Unchanged", func(t *testing.T) {
		t.Parallel()
		ctx, q, user, unit, work := setup(t)
		_, err := work(jobs.RoleSyncWorker{Roles: stubRoles{roles: []perm.Assignment{perm.New(perm.RoleStandard, *unit.Cf)}}})
		require.NoError(t, err)
		u, err2 := q.UserGet(ctx, user.ID)
		require.NoError(t, err2)
		require.Equal(t, now, u.RolesSyncedAt.UTC(), "roles_synced_at is always set")
		evs, err := q.AuditByEvent(ctx, dbsqlc.AuditByEventParams{Event: "user.roles_changed", MaxRows: 1})
		require.NoError(t, err)
		require.Empty(t, evs)
	})

	t.Run("NetworkErrorRetries", func(t *testing.T) {
		t.Parallel()
		_, _, _, _, work := setup(t)
		_, err := work(jobs.RoleSyncWorker{Roles: stubRoles{err: auth.ErrUpstream}})
		require.ErrorIs(t, err, auth.ErrUpstream)
	})

	t.Run("NoProviderCancels", func(t *testing.T) {
		t.Parallel()
		_, _, _, _, work := setup(t)
		res, err := work(jobs.RoleSyncWorker{})
		require.NoError(t, err)
		require.Equal(t, river.EventKindJobCancelled, res.EventKind)
	})

	t.Run("UniqueByUserAndPeriod", func(t *testing.T) {
		t.Parallel()
		opts := jobs.RoleSyncArgs{}.InsertOpts()
		require.True(t, opts.UniqueOpts.ByArgs)
		require.Equal(t, 15*time.Minute, opts.UniqueOpts.ByPeriod)
		require.Equal(t, "role_sync", jobs.RoleSyncArgs{}.Kind())
	})
}
