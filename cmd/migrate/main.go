// Command migrate applies the embedded database migrations (the application
// schema and River's vendored schema) with golang-migrate, and seeds the
// reference data and the demo lab from the shared data directory
// (seed-reference, seed-demo).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/co2-calculator/co2-calculator/pkg/buildinfo"
	"github.com/co2-calculator/co2-calculator/pkg/config"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/telemetry"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "migrate:", err)
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "migrate",
		Short:         "Apply the co2-calculator database schema (application and River)",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	config.AttachEnvHelp(root, "migrate")

	withMigrator := func(fn func(ctx context.Context, m *postgres.Migrator) error) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.LoadMigrate(nil)
			if err != nil {
				return err
			}
			logger := telemetry.NewLogger(os.Stderr, cfg.LogFormat, cfg.LogLevel)
			m, err := postgres.NewMigrator(cfg.DatabaseURL, "", logger)
			if err != nil {
				return err
			}
			return fn(cmd.Context(), m)
		}
	}

	root.AddCommand(&cobra.Command{
		Use:   "up",
		Short: "Apply every pending migration (River's first, then the application's), then the data steps they leave (entry sort values)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withMigrator(func(ctx context.Context, m *postgres.Migrator) error {
				return withPool(ctx, func(ctx context.Context, db postgres.DB) error {
					return runUp(ctx, m, db, cmd.OutOrStdout())
				})
			})(cmd, args)
		},
	})
	var all bool
	down := &cobra.Command{
		Use:   "down N",
		Short: "Revert the last N migrations (application first, then River's); --all reverts everything",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n := -1
			if !all {
				if len(args) != 1 {
					return errors.New("down needs N (a positive number of migrations) or --all")
				}
				v, err := strconv.Atoi(args[0])
				if err != nil || v < 1 {
					return fmt.Errorf("down needs a positive integer, got %q", args[0])
				}
				n = v
			}
			return withMigrator(func(ctx context.Context, m *postgres.Migrator) error { return m.Down(ctx, n) })(cmd, args)
		},
	}
	down.Flags().BoolVar(&all, "all", false, "revert every migration")
	root.AddCommand(down)

	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print the binary version and the schema version of each migration set",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Printf("migrate %s (%s)\n", buildinfo.Version, buildinfo.SHA())
			return withMigrator(func(ctx context.Context, m *postgres.Migrator) error {
				vs, err := m.Versions(ctx)
				if err != nil {
					return err
				}
				enc := json.NewEncoder(os.Stdout)
				for _, v := range vs {
					if err := enc.Encode(v); err != nil {
						return err
					}
				}
				return nil
			})(cmd, args)
		},
	})
	var set string
	force := &cobra.Command{
		Use:   "force V",
		Short: "Record version V as applied without running anything (repair a dirty state)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := strconv.Atoi(args[0])
			if err != nil || v < -1 {
				return fmt.Errorf("force needs an integer >= -1, got %q", args[0])
			}
			return withMigrator(func(ctx context.Context, m *postgres.Migrator) error { return m.Force(ctx, set, v) })(cmd, args)
		},
	}
	force.Flags().StringVar(&set, "set", "app", "migration set: app or river")
	root.AddCommand(force)
	root.AddCommand(newSeedCmds()...)
	return root
}
