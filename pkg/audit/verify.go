package audit

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

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

// Verify recomputes the hashes of the events fromSeq..toSeq (inclusive).
func Verify(ctx context.Context, db postgres.DBTX, fromSeq, toSeq int64) (Report, error) {
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
	rows, err := q.AuditRange(ctx, dbsqlc.AuditRangeParams{FromSeq: fromSeq, ToSeq: toSeq})
	if err != nil {
		return rep, fmt.Errorf("error reading audit range: %w", err)
	}
	want := fromSeq
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
	}
	if len(rows) > 0 {
		rep.LastSeq = rows[len(rows)-1].Seq
	}
	return rep, nil
}
