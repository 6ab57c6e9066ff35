package audit

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// Request is the request metadata of the audited call (actor, client,
// route), carried in the context by the HTTP adapter (httpapi sets it
// after authentication) and read by Record. It keeps the domain packages
// that record events free of net/http.
type Request struct {
	UserID    *int64
	Sciper    string
	Name      *string
	IP        *netip.Addr
	UserAgent *string
	RequestID *string
	// Route is "METHOD /api/v1/route/{pattern}".
	Route *string
	// Query are the query parameters (entry.list snapshots).
	Query map[string][]string
}

type requestKey struct{}

// WithRequest returns ctx carrying the request metadata.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom returns the request metadata of ctx.
func RequestFrom(ctx context.Context) (Request, bool) {
	r, ok := ctx.Value(requestKey{}).(Request)
	return r, ok
}

// defaultWriter writes with the wall clock.
var defaultWriter = &Writer{Now: time.Now}

// Record writes ev on behalf of the caller with the wall clock: see
// Writer.Record.
func Record(ctx context.Context, db postgres.DBTX, userID *int64, ev Event) error {
	return defaultWriter.Record(ctx, db, userID, ev)
}

// Record is how the domain packages audit what they change (entries,
// module statuses, uploads, pipelines, sessions): ev names the action, the
// event, the entity and its snapshot; Record fills the actor and request
// fields from the request metadata of ctx, else from the user userID (nil
// or 0: the system). It writes in db when db is a transaction — the
// caller's, so that a failed write aborts the change (docs/jobs.md §11.1)
// — and otherwise in a transaction of its own (the chain's advisory lock
// must be held until commit).
func (w *Writer) Record(ctx context.Context, db postgres.DBTX, userID *int64, ev Event) error {
	return inTx(ctx, db, func(ctx context.Context, tx postgres.DBTX) error {
		actor, err := actorOf(ctx, tx, userID)
		if err != nil {
			return err
		}
		actor.OccurredAt, actor.Reason, actor.HandledIDs = ev.OccurredAt, ev.Reason, ev.HandledIDs
		actor.Action, actor.Event, actor.EntityType, actor.EntityID = ev.Action, ev.Event, ev.EntityType, ev.EntityID
		actor.RequestPayload, actor.Snapshot, actor.Before = ev.RequestPayload, ev.Snapshot, ev.Before
		_, err = w.Write(ctx, tx, actor)
		return err
	})
}

// actorOf fills the actor and request fields of an event: from the request
// metadata of ctx when present, else from the user userID (nil: system).
func actorOf(ctx context.Context, db postgres.DBTX, userID *int64) (Event, error) {
	if req, ok := RequestFrom(ctx); ok {
		e := Event{
			ActorType: ActorUser, ActorUserID: req.UserID, ActorSciper: req.Sciper, ActorName: req.Name,
			IP: req.IP, UserAgent: req.UserAgent, RequestID: req.RequestID, Route: req.Route,
		}
		if e.ActorSciper == "" {
			e.ActorSciper = SciperUnknown
		}
		if e.ActorUserID == nil {
			e.ActorUserID = userID
		}
		return e, nil
	}
	if userID == nil || *userID == 0 {
		return Event{ActorType: ActorSystem, ActorSciper: SciperSystem}, nil
	}
	u, err := dbsqlc.New(db).UserGet(ctx, *userID)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return Event{ActorType: ActorUser, ActorUserID: userID, ActorSciper: SciperUnknown}, nil
	case err != nil:
		return Event{}, fmt.Errorf("error reading the audited actor: %w", err)
	}
	return Event{ActorType: ActorUser, ActorUserID: userID, ActorSciper: u.Sciper, ActorName: u.DisplayName}, nil
}

// inTx runs fn in db when it is a transaction, else in a transaction of
// its own.
func inTx(ctx context.Context, db postgres.DBTX, fn func(context.Context, postgres.DBTX) error) error {
	if tx, ok := db.(pgx.Tx); ok {
		return fn(ctx, tx)
	}
	if b, ok := db.(postgres.TxBeginner); ok {
		return postgres.WithTx(ctx, b, func(ctx context.Context, tx pgx.Tx) error { return fn(ctx, tx) })
	}
	return fn(ctx, db)
}
