// Package audit writes the audit trail (docs/jobs.md §11): one global
// SHA-256 hash chain over RFC 8785 (JCS) canonical JSON, ordered by a
// gapless sequence number assigned under advisory lock (4,0) in the
// writer's transaction, so that seq order is commit order (D12). Payloads
// are scrubbed and cut; snapshots are diffed against the entity's previous
// version. Verify recomputes a range of the chain.
//
// It is infrastructure below the domain: it imports no domain package.
// Each domain package (entry, report, imports, pipeline, auth) builds the
// events of what it changes and writes them with Record in its own
// transaction; TestLayering keeps it that way.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/gowebpki/jcs"
	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// ZeroHash is prev_hash of seq 1.
var ZeroHash = strings.Repeat("0", 64)

// Actions.
const (
	ActionCreate = "C"
	ActionRead   = "R"
	ActionUpdate = "U"
	ActionDelete = "D"
)

// Actor types and special SCIPERs.
const (
	ActorUser     = "user"
	ActorSystem   = "system"
	ActorJob      = "job"
	SciperSystem  = "system"
	SciperUnknown = "unknown"
)

// MaxPayload is the size request payloads are cut to.
const MaxPayload = 16 << 10

const maxHandledIDs = 20

// Event is one audit event to write.
type Event struct {
	OccurredAt  time.Time // zero: the writer's clock
	ActorType   string    // default "user"
	ActorUserID *int64
	ActorSciper string
	ActorName   *string
	Action      string
	Event       string
	EntityType  string
	EntityID    string
	Reason      string
	HandledIDs  []string
	IP          *netip.Addr
	UserAgent   *string
	RequestID   *string
	Route       *string
	// RequestPayload is scrubbed and cut to MaxPayload before storage.
	RequestPayload any
	// Snapshot is the entity's state; diffed against the previous version.
	Snapshot any
	// Before is the entity's state before this change, when the caller
	// knows it. It is diffed against Snapshot only when the chain holds no
	// earlier version of the entity (one created outside the audited
	// writes, e.g. a factor loaded by an import), so that such an entity's
	// first audited change still shows what changed.
	Before any
}

// Written is what Write stored.
type Written struct {
	ID, Seq       int64
	EntityVersion int32
	Hash          string
}

// Writer writes events; Now is its clock.
type Writer struct {
	Now func() time.Time
}

// Write inserts ev in tx (which must be a transaction: the advisory lock is
// released at its end).
func (w *Writer) Write(ctx context.Context, tx postgres.DBTX, ev Event) (Written, error) {
	q := dbsqlc.New(tx)
	if err := q.AuditLock(ctx); err != nil {
		return Written{}, fmt.Errorf("error locking audit chain: %w", err)
	}
	prevSeq, prevHash := int64(0), ZeroHash
	head, err := q.AuditHead(ctx)
	switch {
	case err == nil:
		prevSeq, prevHash = head.Seq, head.Hash
	case !errors.Is(err, pgx.ErrNoRows):
		return Written{}, fmt.Errorf("error reading audit head: %w", err)
	}
	version := int32(1)
	var prevSnapshot json.RawMessage
	last, err := q.AuditEntityLast(ctx, dbsqlc.AuditEntityLastParams{EntityType: ev.EntityType, EntityID: ev.EntityID})
	switch {
	case err == nil:
		version, prevSnapshot = last.EntityVersion+1, last.Snapshot
	case !errors.Is(err, pgx.ErrNoRows):
		return Written{}, fmt.Errorf("error reading entity version: %w", err)
	}

	snapshot, err := canonicalOrNil(ev.Snapshot)
	if err != nil {
		return Written{}, err
	}
	var diff json.RawMessage
	if version == 1 && ev.Before != nil {
		if prevSnapshot, err = canonicalOrNil(ev.Before); err != nil {
			return Written{}, err
		}
	}
	if prevSnapshot != nil && snapshot != nil {
		if diff, err = Diff(prevSnapshot, snapshot); err != nil {
			return Written{}, err
		}
	}
	payload, err := scrubbedPayload(ev.RequestPayload)
	if err != nil {
		return Written{}, err
	}
	occurred := ev.OccurredAt
	if occurred.IsZero() {
		occurred = w.Now()
	}
	occurred = occurred.UTC().Truncate(time.Microsecond)
	actorType := ev.ActorType
	if actorType == "" {
		actorType = ActorUser
	}
	handled := ev.HandledIDs
	if len(handled) > maxHandledIDs {
		handled = handled[:maxHandledIDs]
	}
	if handled == nil {
		handled = []string{}
	}
	rec := ChainRecord{
		Seq: prevSeq + 1, OccurredAt: occurred, ActorSciper: ev.ActorSciper, Action: ev.Action, Event: ev.Event,
		EntityType: ev.EntityType, EntityID: ev.EntityID, EntityVersion: version, Reason: ev.Reason,
		HandledIDs: handled, IP: ev.IP, Route: ev.Route, Snapshot: snapshot, Diff: diff, PrevHash: prevHash,
	}
	hash, err := rec.Hash()
	if err != nil {
		return Written{}, err
	}
	id, err := q.AuditInsert(ctx, dbsqlc.AuditInsertParams{
		Seq: rec.Seq, OccurredAt: occurred, ActorType: actorType, ActorUserID: ev.ActorUserID, ActorSciper: ev.ActorSciper,
		ActorName: ev.ActorName, Action: ev.Action, Event: ev.Event, EntityType: ev.EntityType, EntityID: ev.EntityID,
		EntityVersion: version, Reason: ev.Reason, HandledIds: handled, Ip: ev.IP, UserAgent: ev.UserAgent,
		RequestID: ev.RequestID, Route: ev.Route, RequestPayload: payload, Snapshot: snapshot, Diff: diff,
		PrevHash: prevHash, Hash: hash,
	})
	if err != nil {
		return Written{}, fmt.Errorf("error inserting audit event: %w", err)
	}
	return Written{ID: id, Seq: rec.Seq, EntityVersion: version, Hash: hash}, nil
}

// ChainRecord holds the hashed fields of an event (docs/jobs.md §11.3).
type ChainRecord struct {
	Seq           int64
	OccurredAt    time.Time
	ActorSciper   string
	Action        string
	Event         string
	EntityType    string
	EntityID      string
	EntityVersion int32
	Reason        string
	HandledIDs    []string
	IP            *netip.Addr
	Route         *string
	Snapshot      json.RawMessage // nil: JSON null
	Diff          json.RawMessage // nil: JSON null
	PrevHash      string
}

const jsonNull = "null"

func rawOrNull(r json.RawMessage) json.RawMessage {
	if len(r) == 0 {
		return json.RawMessage(jsonNull)
	}
	return r
}

// Hash is the lowercase hex SHA-256 of the JCS form of the record.
func (r ChainRecord) Hash() (string, error) {
	var ip any
	if r.IP != nil {
		ip = r.IP.String()
	}
	var route any
	if r.Route != nil {
		route = *r.Route
	}
	handled := r.HandledIDs
	if handled == nil {
		handled = []string{}
	}
	doc := map[string]any{
		"seq": r.Seq, "occurred_at": r.OccurredAt.UTC().Format("2006-01-02T15:04:05.000000Z"),
		"actor_sciper": r.ActorSciper, "action": r.Action, "event": r.Event,
		"entity_type": r.EntityType, "entity_id": r.EntityID, "entity_version": r.EntityVersion,
		"reason": r.Reason, "handled_ids": handled, "ip": ip, "route": route,
		"snapshot": rawOrNull(r.Snapshot), "diff": rawOrNull(r.Diff), "prev_hash": r.PrevHash,
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("error encoding audit record: %w", err)
	}
	canon, err := jcs.Transform(b)
	if err != nil {
		return "", fmt.Errorf("error canonicalising audit record: %w", err)
	}
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:]), nil
}

// canonicalOrNil marshals v to JSON (nil stays nil).
func canonicalOrNil(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	if r, ok := v.(json.RawMessage); ok {
		if len(r) == 0 || string(r) == jsonNull {
			return nil, nil
		}
		return r, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("error encoding audit snapshot: %w", err)
	}
	if string(b) == jsonNull {
		return nil, nil
	}
	return b, nil
}

// scrubbedKeys are replaced by "[redacted]" at any depth (case-insensitive).
var scrubbedKeys = []string{"code", "state", "session_state", "id_token", "access_token", "refresh_token", "token", "authorization", "password", "secret"}

// Scrub returns v (decoded JSON) with the sensitive keys redacted.
func Scrub(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			if slices.Contains(scrubbedKeys, strings.ToLower(k)) {
				out[k] = "[redacted]"
				continue
			}
			out[k] = Scrub(val)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = Scrub(val)
		}
		return out
	default:
		return v
	}
}

// scrubbedPayload scrubs a payload and cuts it to MaxPayload: a payload
// too large is stored as {"truncated": true, "prefix": "<first bytes>"}.
func scrubbedPayload(v any) (json.RawMessage, error) {
	raw, err := canonicalOrNil(v)
	if raw == nil || err != nil {
		return nil, err
	}
	var decoded any
	if err := json.Unmarshal(raw, &decoded); err != nil {
		return nil, fmt.Errorf("error decoding audit payload: %w", err)
	}
	b, err := json.Marshal(Scrub(decoded))
	if err != nil {
		return nil, err
	}
	if len(b) <= MaxPayload {
		return b, nil
	}
	prefix := strings.ToValidUTF8(string(b[:MaxPayload-64]), "")
	return json.Marshal(map[string]any{"truncated": true, "prefix": prefix})
}

// Diff compares two JSON objects: {added: {}, removed: {}, changed: {k:
// {old, new}}} on the top-level keys. Non-object snapshots are compared
// as a whole under the key "value".
func Diff(prev, next json.RawMessage) (json.RawMessage, error) {
	toMap := func(r json.RawMessage) (map[string]any, error) {
		if len(r) == 0 || string(r) == jsonNull {
			return map[string]any{}, nil
		}
		var v any
		if err := json.Unmarshal(r, &v); err != nil {
			return nil, fmt.Errorf("error decoding snapshot: %w", err)
		}
		if m, ok := v.(map[string]any); ok {
			return m, nil
		}
		return map[string]any{"value": v}, nil
	}
	a, err := toMap(prev)
	if err != nil {
		return nil, err
	}
	b, err := toMap(next)
	if err != nil {
		return nil, err
	}
	d := map[string]map[string]any{"added": {}, "removed": {}, "changed": {}}
	for _, k := range slices.Sorted(maps.Keys(b)) {
		old, ok := a[k]
		switch {
		case !ok:
			d["added"][k] = b[k]
		case !reflect.DeepEqual(old, b[k]):
			d["changed"][k] = map[string]any{"old": old, "new": b[k]}
		}
	}
	for k, v := range a {
		if _, ok := b[k]; !ok {
			d["removed"][k] = v
		}
	}
	return json.Marshal(d)
}
