// Command api serves the co2-calculator REST API under /api/v1 (and, later,
// the SPA). It authenticates, checks permissions, writes, and enqueues jobs
// with an insert-only River client; it never runs jobs.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/co2-calculator/co2-calculator/pkg/buildinfo"
	"github.com/co2-calculator/co2-calculator/pkg/config"
	"github.com/co2-calculator/co2-calculator/pkg/httpapi"
	"github.com/co2-calculator/co2-calculator/pkg/telemetry"
)

// defaultGCPercent is the API's GOGC when the variable is not set.
const defaultGCPercent = 400

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "api:", err)
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "api",
		Short:         "co2-calculator REST API",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	config.AttachEnvHelp(root, "api")
	root.AddCommand(&cobra.Command{
		Use:   "serve",
		Short: "Serve the API until SIGTERM",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			cfg, err := config.LoadAPI(nil)
			if err != nil {
				return err
			}
			if os.Getenv("GOGC") == "" {
				// The API's live heap is small and its garbage comes
				// from requests: collecting at 5× the live heap instead
				// of 2× takes GC off the tail latency of polling at a
				// few MiB of RSS (README "Configuration", issue 17).
				debug.SetGCPercent(defaultGCPercent)
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			logger := telemetry.NewLogger(os.Stderr, cfg.LogFormat, cfg.LogLevel)
			return run(ctx, cfg, logger, nil)
		},
	})
	root.AddCommand(&cobra.Command{
		Use:   "openapi",
		Short: "Print the OpenAPI document (JSON), e.g. for generating the SPA's TypeScript types",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			b, err := httpapi.OpenAPIDocument()
			if err != nil {
				return err
			}
			_, err = os.Stdout.Write(append(b, '\n'))
			return err
		},
	})
	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(*cobra.Command, []string) {
			fmt.Printf("api %s (%s)\n", buildinfo.Version, buildinfo.SHA())
		},
	})
	return root
}
