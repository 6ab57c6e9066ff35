// Package postgres holds the PostgreSQL adapter shared by every binary: pool
// construction, the transaction helper, schema migrations (golang-migrate over
// the embedded files of package migrations) and the sqlc-generated queries in
// package dbsqlc.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DBTX is what repositories and sqlc queries accept: a pool, a connection or
// a transaction.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	CopyFrom(ctx context.Context, tableName pgx.Identifier, columnNames []string, rowSrc pgx.CopyFromSource) (int64, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// TxBeginner starts transactions (a pool, a connection or a transaction,
// which then opens a savepoint).
type TxBeginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// NewPool builds a pool from a connection string. It does not connect: the
// first query (or Ping) does, so a binary can start while the database is
// still down and report itself not ready.
func NewPool(ctx context.Context, databaseURL string, maxConns int32, appName string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("error parsing database URL: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	if appName != "" {
		if _, set := cfg.ConnConfig.RuntimeParams["application_name"]; !set {
			cfg.ConnConfig.RuntimeParams["application_name"] = appName
		}
	}
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	cfg.AfterConnect = AfterConnect
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("error creating pool: %w", err)
	}
	return pool, nil
}

// AfterConnect prepares every new connection of a pool: uuid.UUID
// parameters are encoded natively (RegisterUUID).
func AfterConnect(_ context.Context, conn *pgx.Conn) error {
	RegisterUUID(conn.TypeMap())
	return nil
}

// WaitReady pings the database until it answers or ctx ends, backing off
// exponentially from 250 ms to 10 s between attempts.
func WaitReady(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	delay := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := pool.Ping(pingCtx)
		cancel()
		if err == nil {
			if attempt > 1 {
				logger.InfoContext(ctx, "database reachable", slog.Int("attempt", attempt))
			}
			return nil
		}
		logger.WarnContext(ctx, "database not reachable, retrying",
			slog.Int("attempt", attempt), slog.Duration("retry_in", delay), slog.String("error", err.Error()))
		select {
		case <-ctx.Done():
			return fmt.Errorf("database not reachable: %w", errors.Join(ctx.Err(), err))
		case <-time.After(delay):
		}
		delay = min(delay*2, 10*time.Second)
	}
}

// WithTx runs fn in a transaction, committing when fn returns nil and rolling
// back otherwise.
func WithTx(ctx context.Context, db TxBeginner, fn func(ctx context.Context, tx pgx.Tx) error) error {
	_, err := WithTxV(ctx, db, func(ctx context.Context, tx pgx.Tx) (struct{}, error) {
		return struct{}{}, fn(ctx, tx)
	})
	return err
}

// WithTxV is WithTx for functions returning a value.
func WithTxV[T any](ctx context.Context, db TxBeginner, fn func(ctx context.Context, tx pgx.Tx) (T, error)) (T, error) {
	var zero T
	tx, err := db.Begin(ctx)
	if err != nil {
		return zero, fmt.Errorf("error beginning transaction: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()

	v, err := fn(ctx, tx)
	if err != nil {
		return zero, err
	}
	if err := tx.Commit(ctx); err != nil {
		return zero, fmt.Errorf("error committing transaction: %w", err)
	}
	return v, nil
}

// DB is a pool or a transaction: it runs queries and opens (nested)
// transactions. Workers take a DB so tests can hand them a test transaction.
type DB interface {
	DBTX
	TxBeginner
}
