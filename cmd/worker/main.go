// Command worker runs the River worker fleet of co2-calculator: every job
// kind, the periodic schedules (enqueued by the elected leader only) and an
// admin listener with /healthz, /readyz and /metrics.
package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/co2-calculator/co2-calculator/pkg/buildinfo"
	"github.com/co2-calculator/co2-calculator/pkg/config"
	"github.com/co2-calculator/co2-calculator/pkg/fakes"
	"github.com/co2-calculator/co2-calculator/pkg/telemetry"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

// signals returns a context cancelled on the first SIGINT/SIGTERM and a
// channel closed on the second one (force: cancel running jobs now).
func signals() (context.Context, <-chan struct{}, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	hard := make(chan struct{})
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ch
		cancel()
		<-ch
		close(hard)
	}()
	return ctx, hard, func() { signal.Stop(ch); cancel() }
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "worker",
		Short:         "co2-calculator River worker",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	config.AttachEnvHelp(root, "worker")

	root.AddCommand(&cobra.Command{
		Use:   "run",
		Short: "Run the worker until SIGTERM (stop fetching, finish running jobs, a second signal cancels them)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			cfg, err := config.LoadWorker(nil)
			if err != nil {
				return err
			}
			ctx, hard, stop := signals()
			defer stop()
			logger := telemetry.NewLogger(os.Stderr, cfg.LogFormat, cfg.LogLevel)
			return run(ctx, hard, cfg, logger, nil)
		},
	})
	root.AddCommand(newEnqueueCmd())

	var addr, dataDir, accredUser, accredPassword string
	fakesCmd := &cobra.Command{
		Use:   "fakes",
		Short: "Serve fake external services (ECB under /ecb, Accred under /accred) from fixture files, for development and tests",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			ctx, _, stop := signals()
			defer stop()
			mux := http.NewServeMux()
			mux.Handle("/ecb/", http.StripPrefix("/ecb", fakes.NewECB(dataDir+"/ecb")))
			mux.Handle("/accred/", fakes.NewAccred(dataDir+"/accred", accredUser, accredPassword))
			ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
			if err != nil {
				return err
			}
			srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
			fmt.Printf("fakes listening on http://%s (ECB_BASE_URL=http://%s/ecb, ACCRED_BASE_URL=http://%s/accred)\n", ln.Addr(), ln.Addr(), ln.Addr())
			go func() { <-ctx.Done(); _ = srv.Close() }()
			if err := srv.Serve(ln); err != http.ErrServerClosed {
				return err
			}
			return nil
		},
	}
	fakesCmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8099", "listen address")
	fakesCmd.Flags().StringVar(&dataDir, "data", "../shared/data/external", "fixture directory (holds ecb/ and accred/)")
	fakesCmd.Flags().StringVar(&accredUser, "accred-username", "dev", "Basic-auth user the Accred fake expects (ACCRED_USERNAME)")
	fakesCmd.Flags().StringVar(&accredPassword, "accred-password", "dev", "Basic-auth password the Accred fake expects (ACCRED_PASSWORD)")
	root.AddCommand(fakesCmd)

	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(*cobra.Command, []string) {
			fmt.Printf("worker %s (%s)\n", buildinfo.Version, buildinfo.SHA())
		},
	})
	return root
}
