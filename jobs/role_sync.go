package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/auth"
	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// RoleSyncArgs refreshes the roles of one user (docs/jobs.md §4.9). The API
// enqueues it from POST /auth/refresh when the roles are older than 15 min;
// it is unique by user and 15-minute period.
type RoleSyncArgs struct {
	UserID int64 `json:"user_id"`
}

// Kind implements river.JobArgs.
func (RoleSyncArgs) Kind() string { return "role_sync" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (RoleSyncArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueIntegrations, MaxAttempts: 5,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: 15 * time.Minute}}
}

// RoleSyncWorker works RoleSyncArgs.
type RoleSyncWorker struct {
	river.WorkerDefaults[RoleSyncArgs]

	DB     postgres.DB
	Roles  auth.RoleProvider // nil: the job is cancelled (no provider configured)
	Logger *slog.Logger
	Now    func() time.Time
}

// Timeout implements river.Worker.
func (w *RoleSyncWorker) Timeout(*river.Job[RoleSyncArgs]) time.Duration { return time.Minute }

// Work asks the role provider, compares the normalised role sets and, when
// they differ, stores the new roles, rebuilds unit_users and audits
// user.roles_changed. roles_synced_at is always set. Provider "oidc" has
// nothing to do (roles are refreshed at the next login). Network errors
// return an error, so River retries.
func (w *RoleSyncWorker) Work(ctx context.Context, job *river.Job[RoleSyncArgs]) error {
	if w.Roles == nil {
		return river.JobCancel(errors.New("role_sync: no role provider configured"))
	}
	if w.Roles.Name() == auth.ProviderOIDC {
		return nil
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	u, err := dbsqlc.New(w.DB).UserGet(ctx, job.Args.UserID)
	if errors.Is(err, pgx.ErrNoRows) {
		return river.JobCancel(fmt.Errorf("role_sync: user %d not found", job.Args.UserID))
	}
	if err != nil {
		return err
	}
	res, err := w.Roles.Resolve(ctx, auth.Identity{Sciper: u.Sciper})
	if err != nil {
		return fmt.Errorf("role_sync: %w", err)
	}
	return postgres.WithTx(ctx, w.DB, func(ctx context.Context, tx pgx.Tx) error {
		t := now()
		prev := auth.StoredRoles(u.Roles)
		if perm.Equal(prev, res.Roles) {
			return dbsqlc.New(tx).UserTouchRolesSynced(ctx, dbsqlc.UserTouchRolesSyncedParams{SyncedAt: t, ID: u.ID})
		}
		nu, err := auth.ApplyRoles(ctx, tx, u, res.Roles, t)
		if err != nil {
			return err
		}
		if w.Logger != nil {
			w.Logger.InfoContext(ctx, "roles changed", slog.Int64("user_id", u.ID))
		}
		return auth.WriteRolesChanged(ctx, tx, &audit.Writer{Now: now}, nu, prev, res.Roles, auth.Meta{})
	})
}
