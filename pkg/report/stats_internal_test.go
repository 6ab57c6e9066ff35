package report

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestITLeavesEverywhere: the IT leaves of the statistics are listed in
// three places that must agree (stats.go's itLeaves, AggITTopItems and the
// predicate of data_entries_it_idx, which the planner uses only when the
// query's filter implies it), and so is the embodied-energy filter.
func TestITLeavesEverywhere(t *testing.T) {
	t.Parallel()
	quoted := make([]string, len(itLeaves))
	for i, l := range itLeaves {
		quoted[i] = "'" + l + "'"
	}
	list := "IN (" + strings.Join(quoted, ", ") + ")"
	query, err := os.ReadFile("../postgres/queries/stats.sql")
	require.NoError(t, err)
	migration, err := os.ReadFile("../../migrations/app/000018_stats_partial_indexes.up.sql")
	require.NoError(t, err)
	require.Contains(t, string(query), "e.emission_type "+list)
	require.Contains(t, string(migration), "row_emission_type "+list)
	require.Contains(t, string(query), "e.category = 'embodied_energy'")
	require.Contains(t, string(migration), "row_category = 'embodied_energy'")
}
