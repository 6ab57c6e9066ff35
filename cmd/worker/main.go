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

	var addr, dataDir, accredUser, accredPassword, elasticKey string
	var tab fakes.TableauAuth
	fakesCmd := &cobra.Command{
		Use:   "fakes",
		Short: "Serve fake external services (ECB under /ecb, Accred under /accred, Tableau under /tableau, Elasticsearch under /elastic) from fixture files, for development and tests",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			ctx, _, stop := signals()
			defer stop()
			mux := http.NewServeMux()
			mux.Handle("/ecb/", http.StripPrefix("/ecb", fakes.NewECB(dataDir+"/ecb")))
			mux.Handle("/accred/", fakes.NewAccred(dataDir+"/accred", accredUser, accredPassword))
			tableauFake, err := fakes.NewTableau(dataDir+"/tableau", tab)
			if err != nil {
				return err
			}
			mux.Handle("/tableau/", tableauFake)
			mux.Handle("/elastic/", http.StripPrefix("/elastic", fakes.NewElastic(elasticKey)))
			ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
			if err != nil {
				return err
			}
			srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
			fmt.Printf("fakes listening on http://%s (ECB_BASE_URL=http://%s/ecb, ACCRED_BASE_URL=http://%s/accred)\n", ln.Addr(), ln.Addr(), ln.Addr())
			fmt.Printf("fake Tableau: TABLEAU_SERVER_URL=http://%s/tableau\n", ln.Addr())
			fmt.Printf("fake Elasticsearch: ES_URLS=http://%s/elastic (ES_API_KEY=%s)\n", ln.Addr(), elasticKey)
			go func() { <-ctx.Done(); _ = srv.Close() }()
			if err := srv.Serve(ln); err != http.ErrServerClosed {
				return err
			}
			return nil
		},
	}
	fakesCmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8099", "listen address")
	fakesCmd.Flags().StringVar(&dataDir, "data", "../shared/data/external", "fixture directory (holds ecb/, accred/ and tableau/)")
	fakesCmd.Flags().StringVar(&accredUser, "accred-username", "dev", "Basic-auth user the Accred fake expects (ACCRED_USERNAME)")
	fakesCmd.Flags().StringVar(&accredPassword, "accred-password", "dev", "Basic-auth password the Accred fake expects (ACCRED_PASSWORD)")
	fakesCmd.Flags().StringVar(&elasticKey, "elastic-api-key", "dev", "API key the Elasticsearch fake expects (ES_API_KEY); it keeps the shipped audit events in memory")
	fakesCmd.Flags().StringVar(&tab.ClientID, "tableau-client-id", "dev-connected-app", "Connected App client id the Tableau fake expects (TABLEAU_CLIENT_ID)")
	fakesCmd.Flags().StringVar(&tab.SecretID, "tableau-secret-id", "dev-secret-id", "Connected App secret id the Tableau fake expects (TABLEAU_SECRET_ID)")
	fakesCmd.Flags().StringVar(&tab.SecretValue, "tableau-secret-value", "dev-secret-value", "Connected App secret value the Tableau fake verifies the JWT with (TABLEAU_SECRET_VALUE)")
	fakesCmd.Flags().StringVar(&tab.Username, "tableau-username", "co2-sync", "service account the Tableau fake expects (TABLEAU_USERNAME)")
	fakesCmd.Flags().StringVar(&tab.SiteContentURL, "tableau-site", "co2demo", "site content URL the Tableau fake expects (TABLEAU_SITE_CONTENT_URL)")
	fakesCmd.Flags().StringVar(&tab.DatasourceLUID, "tableau-datasource", "4c1b2e7a-9d3f-4e0b-8a6c-5d2e1f0a9b8c", "datasource LUID the Tableau fake serves (TABLEAU_DATASOURCE_LUID)")
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
