package audit

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// Reasons a chain is broken.
const (
	ReasonSequenceGap      = "sequence_gap"
	ReasonPrevLinkMismatch = "prev_link_mismatch"
	ReasonHashMismatch     = "hash_mismatch"
)

// Broken describes the first broken link.
type Broken struct {
	Seq          int64  `json:"seq"`
	Reason       string `json:"reason"`
	StoredHash   string `json:"stored_hash"`
	ExpectedHash string `json:"expected_hash"`
}

// Report is the result of Verify (docs/api.md §13 /audit/verify).
type Report struct {
	OK       bool    `json:"ok"`
	Checked  int     `json:"checked"`
	FirstSeq int64   `json:"first_seq"`
	LastSeq  int64   `json:"last_seq"`
	HeadHash string  `json:"head_hash"`
	Broken   *Broken `json:"broken"`
}

// verifyChunk is how many events Verify reads at a time (keyset pages) (memory stays
// bounded whatever the range).
const verifyChunk = 2000

// Verify recomputes the hashes of the events fromSeq..toSeq (inclusive).
func Verify(ctx context.Context, db postgres.DBTX, fromSeq, toSeq int64) (Report, error) {
	return verify(ctx, db, fromSeq, toSeq, verifyChunk)
}

// verify is Verify reading chunk events at a time.
func verify(ctx context.Context, db postgres.DBTX, fromSeq, toSeq int64, chunk int32) (Report, error) {
	q := dbsqlc.New(db)
	rep := Report{OK: true, FirstSeq: fromSeq, LastSeq: toSeq}
	prevHash := ZeroHash
	if fromSeq > 1 {
		h, err := q.AuditHashAt(ctx, fromSeq-1)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			rep.OK, rep.Broken = false, &Broken{Seq: fromSeq - 1, Reason: ReasonSequenceGap}
			return rep, nil
		case err != nil:
			return rep, fmt.Errorf("error reading audit hash: %w", err)
		}
		prevHash = h
	}
	want, last := fromSeq, int64(0)
	for lo := fromSeq; lo <= toSeq; {
		rows, err := q.AuditRangePage(ctx, dbsqlc.AuditRangePageParams{FromSeq: lo, ToSeq: toSeq, MaxRows: chunk})
		if err != nil {
			return rep, fmt.Errorf("error reading audit range: %w", err)
		}
		for _, r := range rows {
			rec := ChainRecord{Seq: r.Seq, OccurredAt: r.OccurredAt, ActorSciper: r.ActorSciper, Action: r.Action, Event: r.Event,
				EntityType: r.EntityType, EntityID: r.EntityID, EntityVersion: r.EntityVersion, Reason: r.Reason,
				HandledIDs: r.HandledIds, IP: r.Ip, Route: r.Route, Snapshot: r.Snapshot, Diff: r.Diff, PrevHash: r.PrevHash}
			expected, err := rec.Hash()
			if err != nil {
				return rep, err
			}
			switch {
			case r.Seq != want:
				rep.Broken = &Broken{Seq: want, Reason: ReasonSequenceGap}
			case r.PrevHash != prevHash:
				rep.Broken = &Broken{Seq: r.Seq, Reason: ReasonPrevLinkMismatch, StoredHash: r.PrevHash, ExpectedHash: prevHash}
			case r.Hash != expected:
				rep.Broken = &Broken{Seq: r.Seq, Reason: ReasonHashMismatch, StoredHash: r.Hash, ExpectedHash: expected}
			}
			if rep.Broken != nil {
				rep.OK = false
				return rep, nil
			}
			rep.Checked++
			rep.HeadHash, prevHash = r.Hash, r.Hash
			want++
			last = r.Seq
		}
		if len(rows) < int(chunk) {
			break // the range is exhausted
		}
		lo = last + 1
	}
	if rep.Checked > 0 {
		rep.LastSeq = last
	}
	return rep, nil
}

// The query parameters of GET /audit/verify, named in errors and in the
// audit.verify event.
const (
	fieldFromSeq = "from_seq"
	fieldToSeq   = "to_seq"
	// detailOutOfRange is the detail code of a bound outside the range.
	detailOutOfRange = "out_of_range"
)

// MaxVerifyRange is the most events one verification walks (docs/api.md
// §13 GET /audit/verify).
const MaxVerifyRange = 100_000

// VerifyRange is GET /audit/verify: it verifies fromSeq..toSeq (nil
// bounds: the last MaxVerifyRange events, toSeq clamped to the head) and
// records audit.verify with the range and the outcome (userID: the caller,
// nil: system). A range that is empty, reversed or longer than
// MaxVerifyRange is 422. An empty trail is ok with nothing checked.
func VerifyRange(ctx context.Context, db postgres.DB, userID *int64, fromSeq, toSeq *int64) (Report, error) {
	var fields []apperr.FieldError
	if fromSeq != nil && *fromSeq < 1 {
		fields = append(fields, apperr.FieldError{Field: fieldFromSeq, Code: detailOutOfRange, Message: "must be at least 1"})
	}
	if toSeq != nil && *toSeq < 1 {
		fields = append(fields, apperr.FieldError{Field: fieldToSeq, Code: detailOutOfRange, Message: "must be at least 1"})
	}
	if fromSeq != nil && toSeq != nil && len(fields) == 0 {
		switch {
		case *toSeq < *fromSeq:
			fields = append(fields, apperr.FieldError{Field: fieldToSeq, Code: detailOutOfRange, Message: "must not be below from_seq"})
		case *toSeq-*fromSeq >= MaxVerifyRange:
			fields = append(fields, apperr.FieldError{Field: fieldToSeq, Code: detailOutOfRange,
				Message: fmt.Sprintf("the range holds at most %d events", MaxVerifyRange)})
		}
	}
	if len(fields) > 0 {
		return Report{}, apperr.Validation("invalid verification range", fields...)
	}
	head := int64(0)
	switch h, err := dbsqlc.New(db).AuditHead(ctx); {
	case err == nil:
		head = h.Seq
	case !errors.Is(err, pgx.ErrNoRows):
		return Report{}, fmt.Errorf("error reading audit head: %w", err)
	}
	var from, to int64
	switch {
	case fromSeq == nil && toSeq == nil:
		to = head
		from = max(1, to-MaxVerifyRange+1)
	case fromSeq == nil:
		to = min(*toSeq, head)
		from = max(1, to-MaxVerifyRange+1)
	case toSeq == nil:
		from = *fromSeq
		to = min(head, from+MaxVerifyRange-1)
	default:
		from, to = *fromSeq, min(*toSeq, head)
	}
	rep := Report{OK: true, FirstSeq: from, LastSeq: to, HeadHash: ZeroHash}
	if head > 0 && from <= to {
		var err error
		if rep, err = Verify(ctx, db, from, to); err != nil {
			return Report{}, err
		}
	}
	snapshot := map[string]any{fieldFromSeq: from, fieldToSeq: to, "ok": rep.OK, "checked": rep.Checked}
	if rep.Broken != nil {
		snapshot["broken_seq"], snapshot["broken_reason"] = rep.Broken.Seq, rep.Broken.Reason
	}
	if err := Record(ctx, db, userID, Event{Action: ActionRead, Event: EventVerify, EntityType: entityAudit, EntityID: "chain",
		Snapshot: snapshot, RequestPayload: map[string]any{fieldFromSeq: fromSeq, fieldToSeq: toSeq}}); err != nil {
		return Report{}, fmt.Errorf("error auditing the verification: %w", err)
	}
	return rep, nil
}
