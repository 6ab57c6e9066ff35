package helm_test

import (
	"context"
	"database/sql"
	"math"
	"strconv"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the driver KEDA's PostgreSQL scaler uses
	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

func TestMain(m *testing.M) { testdb.WrapTestMain(m) }

// scaler is one PostgreSQL trigger of the rendered ScaledObject, as KEDA's
// scaler reads it.
type scaler struct {
	name              string
	query             string
	target            float64 // targetQueryValue
	activation        float64 // activationTargetQueryValue
	connectionFromKey string
}

// desiredReplicas is the replica count the HPA that KEDA manages asks for
// (from scratch, before its tolerance and stabilisation windows): each
// PostgreSQL trigger is an AverageValue external metric, ceil(value /
// target) replicas; the HPA takes the largest; KEDA keeps the result within
// [minReplicaCount, maxReplicaCount]. Activation only decides between 0 and
// 1 replica, and minReplicaCount is at least 1 (a worker must run to enqueue
// periodic jobs), so it plays no part here.
func desiredReplicas(so *kedav1alpha1.ScaledObject, scalers []scaler, values map[string]float64) int32 {
	want := int32(0)
	for _, s := range scalers {
		want = max(want, int32(math.Ceil(values[s.name]/s.target)))
	}
	return min(max(want, *so.Spec.MinReplicaCount), *so.Spec.MaxReplicaCount)
}

// TestKEDAScaler renders the chart with the database of a test schema as
// DATABASE_URL, takes the PostgreSQL triggers of the ScaledObject and the
// connection string their TriggerAuthentication points at (the chart's
// Secret), and runs each trigger's SQL the way KEDA's scaler does
// (database/sql with pgx, QueryRow into a float64) against River's table
// holding 0, 1, 500 and 50 000 waiting jobs per queue (available and
// retryable; jobs in other states must not count). It checks the counts and
// the replica count KEDA would choose.
func TestKEDAScaler(t *testing.T) { //nolint:tparallel // the subtests fill the same river_job table, in turn
	t.Parallel()
	ctx := context.Background()
	schema := testdb.TestSchema(ctx, t)

	values, err := yaml.Marshal(map[string]any{
		"secrets": map[string]any{"values": map[string]any{"DATABASE_URL": schema.URL}},
		"worker": map[string]any{"autoscaling": map[string]any{"keda": map[string]any{
			"minReplicas": 1, "maxReplicas": 12, "queueTargets": map[string]any{"imports": 4},
		}}},
	})
	require.NoError(t, err)
	m := decodeStrict(t, template(t, string(values)))
	so := m.ScaledObjects[name("worker")]
	require.NotNil(t, so)

	var scalers []scaler
	for _, tr := range so.Spec.Triggers {
		if tr.Type != "postgresql" {
			continue
		}
		target, err := strconv.ParseFloat(tr.Metadata["targetQueryValue"], 64)
		require.NoError(t, err)
		activation, err := strconv.ParseFloat(tr.Metadata["activationTargetQueryValue"], 64)
		require.NoError(t, err)
		ref := m.TriggerAuths[tr.AuthenticationRef.Name].Spec.SecretTargetRef[0]
		require.Equal(t, "connection", ref.Parameter)
		scalers = append(scalers, scaler{name: tr.Name, query: tr.Metadata["query"], target: target, activation: activation,
			connectionFromKey: m.Secrets[ref.Name].StringData[ref.Key]})
	}
	// One trigger per queue of the default WORKER_QUEUES, targets = MaxWorkers (imports overridden).
	targets := map[string]float64{}
	for _, s := range scalers {
		targets[s.name] = s.target
	}
	require.Equal(t, map[string]float64{"queue-imports": 4, "queue-compute": 4, "queue-integrations": 2, "queue-exports": 2,
		"queue-audit": 1, "queue-default": 4}, targets)

	// KEDA's connection: sql.Open("pgx", connection) and a Ping.
	db, err := sql.Open("pgx", scalers[0].connectionFromKey)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, db.PingContext(ctx))

	queues := []string{"imports", "compute", "integrations", "exports", "audit", "default"}
	fill := func(t *testing.T, perQueue map[string]int) {
		t.Helper()
		_, err := schema.Pool.Exec(ctx, `TRUNCATE river_job`)
		require.NoError(t, err)
		for _, q := range queues {
			// n waiting jobs: half available, half retryable (scheduled in the future, as after a failed attempt) ...
			_, err := schema.Pool.Exec(ctx, `
				INSERT INTO river_job (state, max_attempts, kind, queue, args, scheduled_at)
				SELECT CASE WHEN g % 2 = 0 THEN 'available' ELSE 'retryable' END::river_job_state, 3, 'noop', $1, '{}',
				       CASE WHEN g % 2 = 0 THEN now() ELSE now() + interval '30 seconds' END
				FROM generate_series(1, $2::int) g`, q, perQueue[q])
			require.NoError(t, err)
			// ... and jobs that are not waiting: running, scheduled, pending, completed, cancelled, discarded.
			_, err = schema.Pool.Exec(ctx, `
				INSERT INTO river_job (state, max_attempts, kind, queue, args, scheduled_at, attempt, attempted_at, finalized_at)
				SELECT s::river_job_state, 3, 'noop', $1, '{}', now() + interval '1 hour', 1, now(),
				       CASE WHEN s IN ('completed', 'cancelled', 'discarded') THEN now() END
				FROM unnest(ARRAY['running', 'scheduled', 'pending', 'completed', 'cancelled', 'discarded']) s, generate_series(1, 7)`, q)
			require.NoError(t, err)
		}
	}
	measure := func(t *testing.T) map[string]float64 {
		t.Helper()
		out := map[string]float64{}
		for _, s := range scalers {
			var v float64
			start := time.Now()
			require.NoError(t, db.QueryRowContext(ctx, s.query).Scan(&v), s.query)
			t.Logf("%s: %.0f waiting (%s)", s.name, v, time.Since(start).Round(time.Microsecond))
			out[s.name] = v
		}
		return out
	}

	for _, tc := range []struct {
		jobs           int
		every, imports int32 // replicas with every queue holding jobs, with only imports holding them
	}{
		{jobs: 0, every: 1, imports: 1},        // nothing waiting: minReplicaCount
		{jobs: 1, every: 1, imports: 1},        // ceil(1/target) = 1
		{jobs: 500, every: 12, imports: 12},    // audit: ceil(500/1) = 500; imports: ceil(500/4) = 125; capped at 12
		{jobs: 50_000, every: 12, imports: 12}, // capped at maxReplicaCount
	} {
		t.Run(strconv.Itoa(tc.jobs), func(t *testing.T) {
			every := map[string]int{}
			for _, q := range queues {
				every[q] = tc.jobs
			}
			fill(t, every)
			got := measure(t)
			for _, s := range scalers {
				require.InDelta(t, float64(tc.jobs), got[s.name], 0, s.name)
				require.Equal(t, tc.jobs > 0, got[s.name] > s.activation, "%s: active", s.name)
			}
			require.Equal(t, tc.every, desiredReplicas(so, scalers, got), "every queue holds %d jobs", tc.jobs)

			fill(t, map[string]int{"imports": tc.jobs})
			got = measure(t)
			require.InDelta(t, float64(tc.jobs), got["queue-imports"], 0)
			require.Zero(t, got["queue-compute"])
			require.Equal(t, tc.imports, desiredReplicas(so, scalers, got), "imports holds %d jobs", tc.jobs)
		})
	}
	t.Run("Uncapped", func(t *testing.T) {
		// Below maxReplicaCount the count follows the queue: 30 imports / 4 per replica = 8 replicas.
		fill(t, map[string]int{"imports": 30, "compute": 9})
		require.Equal(t, int32(8), desiredReplicas(so, scalers, measure(t)))
	})
}
