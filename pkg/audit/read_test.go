package audit_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

func TestSummary(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ action, entityType, entityID, reason, want string }{
		{"U", "data_entry", "12", "typo", "UPDATE data_entry #12 — typo"},
		{"C", "year", "2025", "", "CREATE year #2025"},
		{"R", "report_module", "3", "  ", "READ report_module #3"},
		{"D", "factor", "7", strings.Repeat("é", 61), "DELETE factor #7 — " + strings.Repeat("é", 59) + "…"},
		{"D", "factor", "7", strings.Repeat("a", 60), "DELETE factor #7 — " + strings.Repeat("a", 60)},
	} {
		require.Equal(t, tt.want, audit.Summary(tt.action, tt.entityType, tt.entityID, tt.reason))
	}
}

// Verify reads the chain page by page: a gap or a broken link is found
// wherever it falls relative to the pages.
func TestVerifyPages(t *testing.T) { //nolint:tparallel // the subtests share one transaction (savepoints)
	t.Parallel()
	ctx := t.Context()
	tx := testdb.TestTx(ctx, t)
	w := &audit.Writer{Now: fixedClock()}
	for i := range 7 {
		_, err := w.Write(ctx, tx, audit.Event{ActorSciper: "DEV-000002", Action: audit.ActionUpdate, Event: "entry.update",
			EntityType: "data_entry", EntityID: strconv.Itoa(i % 3), Snapshot: map[string]any{"i": i}})
		require.NoError(t, err)
	}
	for _, chunk := range []int32{1, 2, 3, 7, 100} {
		rep, err := audit.VerifyChunked(ctx, tx, 1, 7, chunk)
		require.NoError(t, err)
		require.True(t, rep.OK, "chunk %d", chunk)
		require.Equal(t, 7, rep.Checked, "chunk %d", chunk)
		require.Equal(t, int64(7), rep.LastSeq)
	}
	rep, err := audit.VerifyChunked(ctx, tx, 1, 100, 3)
	require.NoError(t, err)
	require.True(t, rep.OK)
	require.Equal(t, int64(7), rep.LastSeq, "a range past the head ends at the head")

	_, err = tx.Exec(ctx, `ALTER TABLE audit_events DISABLE TRIGGER audit_events_guard_row`)
	require.NoError(t, err)
	for _, tt := range []struct {
		name, sql string
		chunk     int32
		seq       int64
		reason    string
	}{
		{name: "GapAtPageEnd", sql: `UPDATE audit_events SET seq = 40 WHERE seq = 3`, chunk: 3, seq: 3, reason: audit.ReasonSequenceGap},
		{name: "GapAtPageStart", sql: `UPDATE audit_events SET seq = 40 WHERE seq = 4`, chunk: 3, seq: 4, reason: audit.ReasonSequenceGap},
		{name: "HashOnSecondPage", sql: `UPDATE audit_events SET reason = 'x' WHERE seq = 5`, chunk: 2, seq: 5, reason: audit.ReasonHashMismatch},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sp, err := tx.Begin(ctx)
			require.NoError(t, err)
			defer func() { require.NoError(t, sp.Rollback(ctx)) }()
			_, err = sp.Exec(ctx, tt.sql)
			require.NoError(t, err)
			rep, err := audit.VerifyChunked(ctx, sp, 1, 7, tt.chunk)
			require.NoError(t, err)
			require.False(t, rep.OK)
			require.Equal(t, tt.reason, rep.Broken.Reason)
			require.Equal(t, tt.seq, rep.Broken.Seq)
		})
	}
}

// VerifyRange reads the head, then records audit.verify: a schema of its
// own keeps it out of the way of the tests that lock the package schema's
// trail (read then wait for the chain lock would deadlock with them).
func TestVerifyRange(t *testing.T) { //nolint:tparallel // the subtests share one trail, in order
	t.Parallel()
	ctx := t.Context()
	db := testdb.TestSchema(ctx, t).Pool

	t.Run("EmptyTrail", func(t *testing.T) {
		rep, err := audit.VerifyRange(ctx, db, nil, nil, nil)
		require.NoError(t, err)
		require.Equal(t, audit.Report{OK: true, FirstSeq: 1, LastSeq: 0, HeadHash: audit.ZeroHash}, rep)
	})

	t.Run("Invalid", func(t *testing.T) {
		for _, r := range [][2]*int64{{new(int64(0)), nil}, {nil, new(int64(-1))}, {new(int64(9)), new(int64(8))},
			{new(int64(1)), new(int64(audit.MaxVerifyRange + 1))}} {
			_, err := audit.VerifyRange(ctx, db, nil, r[0], r[1])
			require.Equal(t, apperr.CodeValidation, apperr.CodeOf(err), "%v", r)
		}
		rep, err := audit.VerifyRange(ctx, db, nil, new(int64(1)), new(int64(audit.MaxVerifyRange)))
		require.NoError(t, err, "exactly the largest range")
		require.Equal(t, 1, rep.Checked, "the first verification's event")
	})
}

func TestListCursor(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	tx := testdb.TestTx(ctx, t)
	for _, c := range []string{"x", "djE6MA", "djE6LTE", "djI6NQ", "%%%"} { // "v1:0", "v1:-1", "v2:5"
		_, err := audit.List(ctx, tx, audit.Filter{}, c, 0)
		require.Equal(t, apperr.CodeInvalid, apperr.CodeOf(err), c)
	}
	p, err := audit.List(ctx, tx, audit.Filter{}, "", 0)
	require.NoError(t, err)
	require.NotNil(t, p.Items, "an empty list is [] on the wire")
	require.Nil(t, p.NextCursor)
}
