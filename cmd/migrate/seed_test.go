package main

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

func TestMain(m *testing.M) { testdb.WrapTestMain(m) }

func TestSeedCommandsRegistered(t *testing.T) {
	t.Parallel()
	root := newRootCmd()
	for _, name := range []string{"up", "down", "version", "force", "seed-reference", "seed-demo"} {
		cmd, _, err := root.Find([]string{name})
		require.NoError(t, err, name)
		require.Equal(t, name, cmd.Name())
	}
	demo, _, err := root.Find([]string{"seed-demo"})
	require.NoError(t, err)
	require.Equal(t, defaultDataDir, demo.Flags().Lookup("data").DefValue)
}

func TestRunSeed(t *testing.T) {
	t.Parallel()
	dir := "../../" + defaultDataDir
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared data not available: %v", err)
	}
	ctx := context.Background()
	schema := testdb.TestSchema(ctx, t)
	var out bytes.Buffer
	require.NoError(t, runSeedReference(ctx, schema.Pool, dir, &out))
	require.Contains(t, out.String(), "4517 airports, 1021 stations")
	out.Reset()
	require.NoError(t, runSeedDemo(ctx, schema.Pool, dir, &out))
	require.Contains(t, out.String(), "214 entries, 776 emission rows, 1 calc issues, 192.432 t CO2-eq")

	require.ErrorContains(t, runSeedDemo(ctx, schema.Pool, "/nonexistent", &out), "data directory")
}
