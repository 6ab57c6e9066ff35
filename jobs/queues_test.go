package jobs_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
)

func TestParseQueues(t *testing.T) {
	t.Parallel()
	q, err := jobs.ParseQueues(jobs.DefaultQueues)
	require.NoError(t, err)
	require.Len(t, q, 6)
	require.Equal(t, 4, q["compute"].MaxWorkers)

	for _, bad := range []string{"", "imports", "imports=0", "imports=x", "nope=2", "imports=1,imports=2"} {
		_, err := jobs.ParseQueues(bad)
		require.Error(t, err, bad)
	}
}

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		attempt int
		r       float64
		want    time.Duration
	}{
		{1, 0.5, 10 * time.Second},
		{2, 0.5, 20 * time.Second},
		{4, 0.5, 80 * time.Second},
		{7, 0.5, 10 * time.Minute},
		{30, 0.5, 10 * time.Minute},
		{1, 0, 9 * time.Second},
		{1, 0.999999, 11 * time.Second},
	}
	for _, tt := range tests {
		require.InDelta(t, float64(tt.want), float64(jobs.RetryDelay(tt.attempt, tt.r)), float64(10*time.Millisecond), "attempt %d r %v", tt.attempt, tt.r)
	}
}

func TestPeriodicJobs(t *testing.T) {
	t.Parallel()
	p, err := jobs.PeriodicJobs(jobs.Schedules{ECB: "0 5 * * *"})
	require.NoError(t, err)
	require.Len(t, p, 1)
	p, err = jobs.PeriodicJobs(jobs.Schedules{})
	require.NoError(t, err)
	require.Empty(t, p)
	_, err = jobs.PeriodicJobs(jobs.Schedules{ECB: "not cron"})
	require.ErrorContains(t, err, "SCHEDULE_ECB")
}
