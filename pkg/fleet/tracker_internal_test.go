package fleet

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"
)

// The tracker's rules on a fake clock: which attempts it forgets, which
// running jobs are orphans.
func TestTracker(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	const grace = time.Minute

	setup := func() (*Tracker, *time.Time) {
		clock := t0
		tr := NewTracker()
		tr.now = func() time.Time { return clock }
		return tr, &clock
	}
	ids := func(jobs []RunningJob) []int64 {
		out := []int64{}
		for _, j := range jobs {
			out = append(out, j.ID)
		}
		return out
	}

	t.Run("Work", func(t *testing.T) {
		t.Parallel()
		tr, clock := setup()
		boom := errors.New("boom")
		err := tr.Work(ctx, &rivertype.JobRow{ID: 1, Attempt: 2}, func(context.Context) error {
			require.Equal(t, trackedAttempt{attempt: 2}, tr.jobs[1])
			*clock = t0.Add(time.Second)
			return boom
		})
		require.ErrorIs(t, err, boom)
		require.Equal(t, trackedAttempt{attempt: 2, ended: t0.Add(time.Second)}, tr.jobs[1])

		require.Panics(t, func() {
			_ = tr.Work(ctx, &rivertype.JobRow{ID: 2, Attempt: 1}, func(context.Context) error { panic("kaboom") })
		})
		require.False(t, tr.jobs[2].ended.IsZero(), "a panic ends the attempt too")
		require.Equal(t, 2, tr.Len())
	})

	t.Run("Forget", func(t *testing.T) {
		t.Parallel()
		tr, clock := setup()
		tr.started(1, 1) // running
		tr.started(2, 1)
		tr.ended(2, 1) // returned at t0, River has not recorded it
		tr.started(3, 1)
		tr.ended(3, 1) // returned at t0, recorded (not running any more)
		tr.started(4, 1)
		tr.ended(4, 1) // returned at t0; attempt 2 runs now (fetched again)
		*clock = t0.Add(time.Second)
		tr.started(5, 1)
		tr.ended(5, 1) // returned after the snapshot below started
		tr.ended(1, 7) // not the tracked attempt: ignored

		running := []RunningJob{{ID: 1, Attempt: 1}, {ID: 2, Attempt: 1}, {ID: 4, Attempt: 2}}
		tr.forget(running, t0.Add(time.Millisecond))
		require.ElementsMatch(t, []int64{1, 2, 5}, keys(tr))
		require.True(t, tr.jobs[1].ended.IsZero())

		tr.forget(nil, t0.Add(2*time.Second))
		require.ElementsMatch(t, []int64{1}, keys(tr), "only the running attempt stays")
	})

	t.Run("Orphans", func(t *testing.T) {
		t.Parallel()
		tr, _ := setup()
		tr.started(1, 1)
		tr.started(2, 1)
		tr.ended(2, 1)
		running := []RunningJob{
			{ID: 1, Attempt: 1, FetchedAgo: time.Hour},           // running here
			{ID: 2, Attempt: 1, FetchedAgo: time.Hour},           // its outcome is on its way
			{ID: 3, Attempt: 1, FetchedAgo: grace - time.Second}, // may still be starting
			{ID: 4, Attempt: 1, FetchedAgo: grace},
			{ID: 5, Attempt: 3, FetchedAgo: time.Hour},
		}
		require.Equal(t, []int64{4, 5}, ids(tr.orphans(running, grace)))
		require.Empty(t, tr.orphans(nil, grace))
	})
}

func keys(tr *Tracker) []int64 {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	out := []int64{}
	for id := range tr.jobs {
		out = append(out, id)
	}
	return out
}
