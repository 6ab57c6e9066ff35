package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/co2-calculator/co2-calculator/pkg/calc"
	"github.com/co2-calculator/co2-calculator/pkg/config"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/seed"
)

// defaultDataDir is the shared data directory next to the repository.
const defaultDataDir = "../shared/data"

// newSeedCmds returns seed-reference and seed-demo.
func newSeedCmds() []*cobra.Command {
	reference := &cobra.Command{
		Use:   "seed-reference",
		Short: "Load the reference data (airports, train stations, building rooms) from --data (idempotent)",
		Args:  cobra.NoArgs,
	}
	refDir := reference.Flags().String("data", defaultDataDir, "shared data directory (locations/, reference/)")
	reference.RunE = func(cmd *cobra.Command, _ []string) error {
		return withPool(cmd.Context(), func(ctx context.Context, db postgres.DB) error {
			return runSeedReference(ctx, db, *refDir, cmd.OutOrStdout())
		})
	}

	demo := &cobra.Command{
		Use:   "seed-demo",
		Short: "Load the dev units and the demo lab LAB-DEMO (year 2025: factors, FX rates, samples, emissions) from --data (idempotent)",
		Args:  cobra.NoArgs,
	}
	demoDir := demo.Flags().String("data", defaultDataDir, "shared data directory (factors/, samples/, external/ecb/)")
	demo.RunE = func(cmd *cobra.Command, _ []string) error {
		return withPool(cmd.Context(), func(ctx context.Context, db postgres.DB) error {
			return runSeedDemo(ctx, db, *demoDir, cmd.OutOrStdout())
		})
	}
	return []*cobra.Command{reference, demo}
}

func withPool(ctx context.Context, fn func(ctx context.Context, db postgres.DB) error) error {
	cfg, err := config.LoadMigrate(nil)
	if err != nil {
		return err
	}
	pool, err := postgres.NewPool(ctx, cfg.DatabaseURL, 2, "co2-migrate")
	if err != nil {
		return err
	}
	defer pool.Close()
	return fn(ctx, pool)
}

func runSeedReference(ctx context.Context, db postgres.TxBeginner, dir string, out io.Writer) error {
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	start := time.Now()
	st, err := seed.ReferenceData(ctx, db, dir)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "seed-reference: %d airports, %d stations (%d upserted, %d deleted), %d rooms in %s\n",
		st.Airports, st.Stations, st.LocationsUpserted, st.LocationsDeleted, st.Rooms, time.Since(start).Round(time.Millisecond))
	return err
}

func runSeedDemo(ctx context.Context, db postgres.TxBeginner, dir string, out io.Writer) error {
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	start := time.Now()
	st, err := seed.Demo(ctx, db, dir)
	if err != nil {
		return err
	}
	total := 0.0
	for _, kg := range st.KgByModule {
		total += kg
	}
	_, err = fmt.Fprintf(out, "seed-demo: %d units, %d factors, %d FX rates, LAB-DEMO %d: %d entries, %d emission rows, %d calc issues, %.3f t CO2-eq in %s\n",
		st.Units, st.Factors, st.FXRates, seed.DemoYear, st.Entries, st.EmissionRows, st.CalcIssues, total/1000, time.Since(start).Round(time.Millisecond))
	return err
}

// runUp is `migrate up`: every pending migration, then the data steps
// they leave (runBackfill). Both are idempotent: a second run, or a run
// after an interrupted one, finishes what is left and changes nothing
// else.
func runUp(ctx context.Context, m *postgres.Migrator, db postgres.DB, out io.Writer) error {
	if err := m.Up(ctx); err != nil {
		return err
	}
	return runBackfill(ctx, db, out)
}

// runBackfill fills what a migration left to the engine: the sort values of
// the entries computed before migration 000012 (calc.BackfillSortValues;
// nothing to do once done).
func runBackfill(ctx context.Context, db postgres.DB, out io.Writer) error {
	start := time.Now()
	n, err := calc.BackfillSortValues(ctx, db)
	if err != nil {
		return err
	}
	if n > 0 {
		_, _ = fmt.Fprintf(out, "entry sort values: %d entries filled in %s\n", n, time.Since(start).Round(time.Millisecond))
	}
	return nil
}
