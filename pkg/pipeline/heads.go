package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/singleflight"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/notifycache"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// Head is what the visibility check and the If-None-Match answer need of
// a pipeline: its version and the fields that never change after creation.
type Head struct {
	ID        uuid.UUID
	Version   int64
	CreatedBy *int64
	UnitID    *int64
	Module    *string
}

const (
	// HeadTTL bounds how long a head read from the database is reused,
	// even while the notifications keep it current.
	HeadTTL = 10 * time.Second
	// maxHeads bounds the cache; when full it is emptied.
	maxHeads = 50_000
)

// Head returns the head of pipeline id: from the cache while the listener
// is LISTENing (a notification of a newer version updates it), otherwise
// one indexed read. An unknown pipeline is apperr not_found. l may be nil
// (no cache).
func (l *Listener) Head(ctx context.Context, db postgres.DBTX, id uuid.UUID) (Head, error) {
	if l == nil {
		return readHead(ctx, db, id)
	}
	if h, _, ok := l.heads.get(id); ok {
		return h, nil
	}
	// The polls that miss together (when the entry expires) share one
	// read; it outlives a caller that goes away.
	ch := l.heads.flight.DoChan(id.String(), func() (any, error) {
		h, seq, ok := l.heads.get(id)
		if ok {
			return h, nil
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedReadTimeout)
		defer cancel()
		h, err := readHead(ctx, db, id)
		if err == nil {
			l.heads.put(h, seq)
		}
		return h, err
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return Head{}, r.Err
		}
		return r.Val.(Head), nil //nolint:forcetypeassert // the flight returns a Head or an error
	case <-ctx.Done():
		return Head{}, ctx.Err()
	}
}

// sharedReadTimeout bounds a head read shared by several requests (it does
// not end with the request that started it).
const sharedReadTimeout = 10 * time.Second

// readHead is one indexed read of a pipeline's head.
func readHead(ctx context.Context, db postgres.DBTX, id uuid.UUID) (Head, error) {
	row, err := dbsqlc.New(db).PipelineHead(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Head{}, apperr.NotFound("pipeline %s not found", id)
	}
	if err != nil {
		return Head{}, fmt.Errorf("error reading pipeline %s: %w", id, err)
	}
	return Head{ID: row.ID, Version: row.Version, CreatedBy: row.CreatedBy, UnitID: row.UnitID, Module: row.Module}, nil
}

// headCache holds heads while the listener is live: every notification
// counts as an invalidation, so a head read from the database is stored
// only when no notification arrived (and the connection did not change)
// since the read began — a read that raced with a change never stores an
// old version (pkg/notifycache).
type headCache struct {
	flight singleflight.Group
	m      *notifycache.Map[uuid.UUID, Head]
}

func newHeadCache(ttl time.Duration, maxEntries int) *headCache {
	return &headCache{m: notifycache.New[uuid.UUID, Head](maxEntries, ttl, nil)}
}

// get returns the cached head, or the sequence number a database read
// must hand back to put.
func (c *headCache) get(id uuid.UUID) (Head, uint64, bool) {
	return c.m.Get(id)
}

func (c *headCache) put(h Head, seq uint64) {
	c.m.Put(h.ID, h, seq)
}

// notified records that pipeline id reached version (0: unknown, the head
// is dropped).
func (c *headCache) notified(id uuid.UUID, version int64) {
	c.m.Alter(id, func(h Head) (Head, bool) {
		if version <= 0 {
			return h, false
		}
		h.Version = max(h.Version, version)
		return h, true
	})
}

// setLive empties the cache and sets whether it may be used.
func (c *headCache) setLive(live bool) {
	c.m.SetLive(live)
}
