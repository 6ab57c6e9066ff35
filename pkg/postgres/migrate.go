package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/golang-migrate/migrate/v4"
	migratepgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/co2-calculator/co2-calculator/migrations"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// SetVersion is the state of one migration sequence in a database.
type SetVersion struct {
	Set     string `json:"set"`
	Version uint   `json:"version"` // 0 when nothing is applied
	Dirty   bool   `json:"dirty"`
	Latest  uint   `json:"latest"` // highest version embedded in this binary
}

// UpToDate reports whether the sequence is fully applied and clean.
func (v SetVersion) UpToDate() bool { return !v.Dirty && v.Version == v.Latest }

// Migrator applies the embedded migrations with golang-migrate.
type Migrator struct {
	connConfig *pgx.ConnConfig
	logger     *slog.Logger
}

// NewMigrator builds a migrator for a database URL. When schema is not empty
// every object is created in that schema (used by tests); the schema must
// exist.
func NewMigrator(databaseURL, schema string, logger *slog.Logger) (*Migrator, error) {
	cc, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("error parsing database URL: %w", err)
	}
	if schema != "" {
		cc.RuntimeParams["search_path"] = schema
	}
	return &Migrator{connConfig: cc, logger: logger}, nil
}

// open returns a golang-migrate instance for one set plus its close function.
func (m *Migrator) open(set migrations.Set) (*migrate.Migrate, func(), error) {
	db := stdlib.OpenDB(*m.connConfig)
	drv, err := migratepgx.WithInstance(db, &migratepgx.Config{MigrationsTable: set.Table})
	if err != nil {
		_ = db.Close()
		return nil, nil, fmt.Errorf("error opening migration driver for %s: %w", set.Name, err)
	}
	src, err := iofs.New(set.FS, ".")
	if err != nil {
		_ = db.Close()
		return nil, nil, fmt.Errorf("error opening migration source %s: %w", set.Name, err)
	}
	mg, err := migrate.NewWithInstance("iofs", src, "pgx5", drv)
	if err != nil {
		_ = db.Close()
		return nil, nil, fmt.Errorf("error creating migrator for %s: %w", set.Name, err)
	}
	return mg, func() { _, _ = mg.Close(); _ = db.Close() }, nil
}

// Up applies every pending migration, River's sequence first.
func (m *Migrator) Up(ctx context.Context) error {
	for _, set := range migrations.Sets() {
		if err := m.withSet(set, func(mg *migrate.Migrate) error {
			err := mg.Up()
			if errors.Is(err, migrate.ErrNoChange) {
				return nil
			}
			return err
		}); err != nil {
			return fmt.Errorf("error migrating %s up: %w", set.Name, err)
		}
		m.logger.InfoContext(ctx, "migrations applied", slog.String("set", set.Name))
	}
	return nil
}

// Down reverts n migrations over the combined sequence (application
// migrations first, then River's). n < 0 reverts everything.
func (m *Migrator) Down(ctx context.Context, n int) error {
	sets := migrations.Sets()
	for i := len(sets) - 1; i >= 0 && n != 0; i-- {
		set := sets[i]
		err := m.withSet(set, func(mg *migrate.Migrate) error {
			v, _, err := mg.Version()
			if errors.Is(err, migrate.ErrNilVersion) {
				return nil
			}
			if err != nil {
				return err
			}
			applied, err := countApplied(set, v)
			if err != nil {
				return err
			}
			steps := applied
			if n > 0 {
				steps = min(n, applied)
				n -= steps
			}
			if steps == 0 {
				return nil
			}
			return mg.Steps(-steps)
		})
		if err != nil {
			return fmt.Errorf("error migrating %s down: %w", set.Name, err)
		}
		m.logger.InfoContext(ctx, "migrations reverted", slog.String("set", set.Name))
	}
	return nil
}

// Force sets the recorded version of one set without running anything, to
// recover from a dirty state after a failed migration was repaired by hand.
func (m *Migrator) Force(_ context.Context, setName string, version int) error {
	for _, set := range migrations.Sets() {
		if set.Name == setName {
			return m.withSet(set, func(mg *migrate.Migrate) error { return mg.Force(version) })
		}
	}
	return fmt.Errorf("unknown migration set %q (want river or app)", setName)
}

// Versions reports the state of each migration set.
func (m *Migrator) Versions(_ context.Context) ([]SetVersion, error) {
	var out []SetVersion
	for _, set := range migrations.Sets() {
		latest, err := set.LatestVersion()
		if err != nil {
			return nil, err
		}
		sv := SetVersion{Set: set.Name, Latest: latest}
		err = m.withSet(set, func(mg *migrate.Migrate) error {
			v, dirty, err := mg.Version()
			if errors.Is(err, migrate.ErrNilVersion) {
				return nil
			}
			sv.Version, sv.Dirty = v, dirty
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("error reading %s version: %w", set.Name, err)
		}
		out = append(out, sv)
	}
	return out, nil
}

func (m *Migrator) withSet(set migrations.Set, fn func(*migrate.Migrate) error) error {
	mg, closeFn, err := m.open(set)
	if err != nil {
		return err
	}
	defer closeFn()
	return fn(mg)
}

// countApplied counts the migrations of a set up to and including version v.
func countApplied(set migrations.Set, v uint) (int, error) {
	src, err := iofs.New(set.FS, ".")
	if err != nil {
		return 0, err
	}
	defer src.Close()
	n := 0
	cur, err := src.First()
	for err == nil && cur <= v {
		n++
		cur, err = src.Next(cur)
	}
	return n, nil
}

// CheckSchema reports an error unless both migration sets are applied up to
// the versions embedded in this binary and clean (readiness check).
func CheckSchema(ctx context.Context, db DBTX) error {
	q := dbsqlc.New(db)
	for _, set := range migrations.Sets() {
		latest, err := set.LatestVersion()
		if err != nil {
			return err
		}
		var row struct {
			Version int64
			Dirty   bool
		}
		switch set.Name {
		case "river":
			r, err := q.RiverSchemaVersion(ctx)
			if err != nil {
				return fmt.Errorf("schema %s: %w", set.Name, err)
			}
			row.Version, row.Dirty = r.Version, r.Dirty
		default:
			r, err := q.AppSchemaVersion(ctx)
			if err != nil {
				return fmt.Errorf("schema %s: %w", set.Name, err)
			}
			row.Version, row.Dirty = r.Version, r.Dirty
		}
		if row.Dirty || row.Version != int64(latest) {
			return fmt.Errorf("schema %s at version %d (dirty=%t), binary expects %d: run migrate up", set.Name, row.Version, row.Dirty, latest)
		}
	}
	return nil
}
