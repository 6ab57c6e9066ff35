package main

import (
	"context"
	"fmt"
	"os"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/spf13/cobra"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/config"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/telemetry"
)

func newEnqueueCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "enqueue",
		Short: "Insert one job in its own pipeline and print the pipeline id",
	}
	var years []int
	ecb := &cobra.Command{
		Use:   "ecb_fx_sync",
		Short: "Fetch ECB exchange rates once (default: current and previous year)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.LoadMigrate(nil) // only DATABASE_URL and logging are needed
			if err != nil {
				return err
			}
			for _, y := range years {
				if y < 1999 || y > 2200 {
					return fmt.Errorf("--year %d is out of range [1999, 2200]", y)
				}
			}
			logger := telemetry.NewLogger(os.Stderr, cfg.LogFormat, cfg.LogLevel)
			ctx := cmd.Context()
			pool, err := postgres.NewPool(ctx, cfg.DatabaseURL, 2, "co2-worker-enqueue")
			if err != nil {
				return err
			}
			defer pool.Close()
			id, err := enqueueInPipeline(ctx, pool, pipeline.CreateParams{Kind: pipeline.KindECBSync, Trigger: pipeline.TriggerSystem},
				jobs.ECBFXSyncArgs{Years: years})
			if err != nil {
				return err
			}
			logger.InfoContext(ctx, "job enqueued", "pipeline_id", id)
			fmt.Println(id)
			return nil
		},
	}
	ecb.Flags().IntSliceVar(&years, "year", nil, "year to fetch (repeatable)")
	cmd.AddCommand(ecb)
	return cmd
}

// enqueueInPipeline creates a pipeline and inserts its root job in one
// transaction with an insert-only River client.
func enqueueInPipeline(ctx context.Context, pool postgres.TxBeginner, p pipeline.CreateParams, args river.JobArgs) (string, error) {
	client, err := jobs.NewInsertClient(nil)
	if err != nil {
		return "", err
	}
	return postgres.WithTxV(ctx, pool, func(ctx context.Context, tx pgx.Tx) (string, error) {
		row, err := pipeline.Create(ctx, tx, p)
		if err != nil {
			return "", err
		}
		if _, err := pipeline.InsertTx(ctx, client, tx, row.ID, args, nil); err != nil {
			return "", err
		}
		return row.ID.String(), nil
	})
}
