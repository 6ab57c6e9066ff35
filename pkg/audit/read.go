package audit

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// Reading the trail (docs/api.md §13): the cursor-paginated list, one
// event, the counts, and putting failed shipments back in the queue.

// Shipping statuses of an event (docs/jobs.md §11.2).
const (
	ShipPending = "pending"
	ShipShipped = "shipped"
	ShipSkipped = "skipped"
	ShipFailed  = "failed"
)

// ReasonInvalidFilter is the 400 of a filter value the list does not know
// (docs/api.md §1 "Filtering").
const ReasonInvalidFilter apperr.Reason = "invalid_filter"

// The list's limits (docs/api.md §13: limit 1–100, default 25).
const (
	DefaultListLimit = 25
	MaxListLimit     = 100
	maxQueryLen      = 100
	summaryReasonLen = 60
)

// Filter selects events of the list; zero fields do not filter. Actions
// and ShipStatuses are validated by List; From is inclusive, To exclusive.
type Filter struct {
	ActorSciper  string
	Events       []string
	Actions      []string
	EntityType   string
	EntityID     string
	From, To     *time.Time
	Q            string
	Module       string
	ShipStatuses []string
}

// Actor is who did what an event records.
type Actor struct {
	UserID *int64  `json:"user_id"`
	Sciper string  `json:"sciper"`
	Name   *string `json:"name"`
}

// Item is one event of the list.
type Item struct {
	ID            int64     `json:"id"`
	Seq           int64     `json:"seq"`
	OccurredAt    time.Time `json:"occurred_at"`
	Actor         Actor     `json:"actor"`
	Action        string    `json:"action"`
	Event         string    `json:"event"`
	EntityType    string    `json:"entity_type"`
	EntityID      string    `json:"entity_id"`
	EntityVersion int32     `json:"entity_version"`
	Reason        string    `json:"reason"`
	HandledIDs    []string  `json:"handled_ids"`
	IP            *string   `json:"ip"`
	Route         *string   `json:"route"`
	// Summary is one line such as "UPDATE data_entry #12 — reason" (the
	// reason cut to 60 characters).
	Summary    string `json:"summary"`
	ShipStatus string `json:"ship_status"`
}

// Detail is one event with its payload, snapshot, diff, chain and
// shipping fields (GET /audit/events/{id}).
type Detail struct {
	Item

	ActorType      string          `json:"actor_type"`
	UserAgent      *string         `json:"user_agent"`
	RequestID      *string         `json:"request_id"`
	RequestPayload json.RawMessage `json:"request_payload"`
	Snapshot       json.RawMessage `json:"snapshot"`
	Diff           json.RawMessage `json:"diff"`
	PrevHash       string          `json:"prev_hash"`
	Hash           string          `json:"hash"`
	ShipAttempts   int32           `json:"ship_attempts"`
	ShipError      *string         `json:"ship_error"`
	NextShipAt     *time.Time      `json:"next_ship_at"`
	ShippedAt      *time.Time      `json:"shipped_at"`
}

// Page is one page of the list: next_cursor continues it (null on the
// last page).
type Page struct {
	Items      []Item  `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// cursorPrefix versions the opaque cursor ("v1:<seq>", base64url).
const cursorPrefix = "v1:"

// encodeCursor is the cursor of the page after the event seq.
func encodeCursor(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.FormatInt(seq, 10)))
}

// decodeCursor returns the seq a cursor continues after (400 when it is
// not one of ours).
func decodeCursor(c string) (int64, error) {
	bad := &apperr.Error{Code: apperr.CodeInvalid, Message: "cursor is not a cursor of this list",
		Fields: []apperr.FieldError{{Field: "cursor", Code: "invalid_format", Message: "not a cursor of this list"}}}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, bad
	}
	s, ok := strings.CutPrefix(string(raw), cursorPrefix)
	if !ok {
		return 0, bad
	}
	seq, err := strconv.ParseInt(s, 10, 64)
	if err != nil || seq < 1 {
		return 0, bad
	}
	return seq, nil
}

func badFilter(name, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &apperr.Error{Code: apperr.CodeInvalid, Reason: ReasonInvalidFilter, Message: msg,
		Fields: []apperr.FieldError{{Field: name, Code: "invalid_format", Message: msg}}}
}

// params checks the enumerations of f (actions upper-cased) and turns
// q into an ILIKE pattern (trimmed, at most 100 characters, "*" or "%"
// alone means no filter).
func (f Filter) params() (dbsqlc.AuditListParams, error) {
	p := dbsqlc.AuditListParams{Events: nonNil(f.Events), EntityType: optional(f.EntityType), EntityID: optional(f.EntityID),
		ActorSciper: optional(f.ActorSciper), Module: optional(f.Module), FromAt: f.From, ToAt: f.To}
	p.Actions = []string{}
	for _, a := range f.Actions {
		a = strings.ToUpper(strings.TrimSpace(a))
		if !slices.Contains([]string{ActionCreate, ActionRead, ActionUpdate, ActionDelete}, a) {
			return p, badFilter("action", "action must be C, R, U or D")
		}
		p.Actions = append(p.Actions, a)
	}
	p.ShipStatuses = []string{}
	for _, s := range f.ShipStatuses {
		if !slices.Contains([]string{ShipPending, ShipShipped, ShipSkipped, ShipFailed}, s) {
			return p, badFilter("ship_status", "ship_status must be pending, shipped, skipped or failed")
		}
		p.ShipStatuses = append(p.ShipStatuses, s)
	}
	if q := strings.TrimSpace(f.Q); q != "" && q != "*" && q != "%" {
		if len([]rune(q)) > maxQueryLen {
			return p, badFilter("q", "q must be at most %d characters", maxQueryLen)
		}
		p.Q = new("%" + likeEscaper.Replace(q) + "%")
	}
	return p, nil
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

func optional(s string) *string {
	if s = strings.TrimSpace(s); s == "" {
		return nil
	}
	return &s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// List returns the events matching f, newest first (seq descending),
// limit per page (1–MaxListLimit; 0 means DefaultListLimit) after cursor
// ("" for the first page).
func List(ctx context.Context, db postgres.DBTX, f Filter, cursor string, limit int) (Page, error) {
	p, err := f.params()
	if err != nil {
		return Page{}, err
	}
	if cursor != "" {
		seq, err := decodeCursor(cursor)
		if err != nil {
			return Page{}, err
		}
		p.BeforeSeq = &seq
	}
	if limit <= 0 {
		limit = DefaultListLimit
	}
	limit = min(limit, MaxListLimit)
	p.MaxRows = int32(limit + 1)
	rows, err := dbsqlc.New(db).AuditList(ctx, p)
	if err != nil {
		return Page{}, fmt.Errorf("error listing audit events: %w", err)
	}
	out := Page{Items: make([]Item, 0, min(len(rows), limit))}
	for i, r := range rows {
		if i == limit {
			out.NextCursor = new(encodeCursor(rows[i-1].Seq))
			break
		}
		out.Items = append(out.Items, toItem(dbsqlc.AuditEvent{ID: r.ID, Seq: r.Seq, OccurredAt: r.OccurredAt, ActorType: r.ActorType,
			ActorUserID: r.ActorUserID, ActorSciper: r.ActorSciper, ActorName: r.ActorName, Action: r.Action, Event: r.Event,
			EntityType: r.EntityType, EntityID: r.EntityID, EntityVersion: r.EntityVersion, Reason: r.Reason,
			HandledIds: r.HandledIds, Ip: r.Ip, Route: r.Route, ShipStatus: r.ShipStatus}))
	}
	return out, nil
}

// Get returns one event (404 when absent).
func Get(ctx context.Context, db postgres.DBTX, id int64) (Detail, error) {
	r, err := dbsqlc.New(db).AuditGet(ctx, id)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return Detail{}, apperr.NotFound("audit event %d not found", id)
	case err != nil:
		return Detail{}, fmt.Errorf("error reading audit event %d: %w", id, err)
	}
	return Detail{Item: toItem(r), ActorType: r.ActorType, UserAgent: r.UserAgent, RequestID: r.RequestID,
		RequestPayload: rawOrNull(r.RequestPayload), Snapshot: rawOrNull(r.Snapshot), Diff: rawOrNull(r.Diff),
		PrevHash: r.PrevHash, Hash: r.Hash, ShipAttempts: r.ShipAttempts, ShipError: r.ShipError,
		NextShipAt: r.NextShipAt, ShippedAt: r.ShippedAt}, nil
}

// actionWords name the actions in summaries.
var actionWords = map[string]string{ActionCreate: "CREATE", ActionRead: "READ", ActionUpdate: "UPDATE", ActionDelete: "DELETE"}

// Summary is the one-line description of an event: "UPDATE data_entry
// #12 — reason", the reason cut to 60 characters.
func Summary(action, entityType, entityID, reason string) string {
	word, ok := actionWords[action]
	if !ok {
		word = action
	}
	s := word + " " + entityType + " #" + entityID
	if reason = strings.TrimSpace(reason); reason != "" {
		if r := []rune(reason); len(r) > summaryReasonLen {
			reason = string(r[:summaryReasonLen-1]) + "…"
		}
		s += " — " + reason
	}
	return s
}

func toItem(r dbsqlc.AuditEvent) Item {
	it := Item{ID: r.ID, Seq: r.Seq, OccurredAt: r.OccurredAt.UTC(), Actor: Actor{UserID: r.ActorUserID, Sciper: r.ActorSciper, Name: r.ActorName},
		Action: r.Action, Event: r.Event, EntityType: r.EntityType, EntityID: r.EntityID, EntityVersion: r.EntityVersion,
		Reason: r.Reason, HandledIDs: nonNil(r.HandledIds), Route: r.Route, ShipStatus: r.ShipStatus,
		Summary: Summary(r.Action, r.EntityType, r.EntityID, r.Reason)}
	if r.Ip != nil {
		it.IP = new(ipString(*r.Ip))
	}
	return it
}

func ipString(a netip.Addr) string { return a.Unmap().String() }

// Stats are the counts of GET /audit/stats.
type Stats struct {
	Total        int64            `json:"total"`
	ByAction     map[string]int64 `json:"by_action"`
	ByShipStatus map[string]int64 `json:"by_ship_status"`
}

// CountStats counts the events that occurred in [from, to) (nil: no
// bound), by action and by shipping status. It scans the events of the
// range: keep the range bounded on a large trail.
func CountStats(ctx context.Context, db postgres.DBTX, from, to *time.Time) (Stats, error) {
	r, err := dbsqlc.New(db).AuditStats(ctx, dbsqlc.AuditStatsParams{FromAt: from, ToAt: to})
	if err != nil {
		return Stats{}, fmt.Errorf("error counting audit events: %w", err)
	}
	return Stats{Total: r.Total,
		ByAction:     map[string]int64{ActionCreate: r.Created, ActionRead: r.Read, ActionUpdate: r.Updated, ActionDelete: r.Deleted},
		ByShipStatus: map[string]int64{ShipPending: r.Pending, ShipShipped: r.Shipped, ShipSkipped: r.Skipped, ShipFailed: r.Failed},
	}, nil
}

// The events of the audit API itself (docs/jobs.md §11.1).
const (
	EventVerify      = "audit.verify"
	EventRetryFailed = "audit.retry_failed"
	entityAudit      = "audit"
)

// RetryFailed puts every failed event back to pending with attempts 0
// (POST /audit/shipping/retry-failed) and records audit.retry_failed with
// the count, in one transaction; userID is the caller (nil: system).
func RetryFailed(ctx context.Context, db postgres.TxBeginner, userID *int64) (int64, error) {
	return postgres.WithTxV(ctx, db, func(ctx context.Context, tx pgx.Tx) (int64, error) {
		n, err := dbsqlc.New(tx).AuditRetryFailed(ctx)
		if err != nil {
			return 0, fmt.Errorf("error resetting failed audit events: %w", err)
		}
		if err := Record(ctx, tx, userID, Event{Action: ActionUpdate, Event: EventRetryFailed, EntityType: entityAudit,
			EntityID: "shipping", Snapshot: map[string]any{"reset_count": n}}); err != nil {
			return 0, fmt.Errorf("error auditing the retry of failed audit events: %w", err)
		}
		return n, nil
	})
}
