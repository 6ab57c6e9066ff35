// Command scaling is the worker scaling scenario (`make scale`): the evidence
// that adding worker processes, which is what KEDA does on queue depth,
// drains River's queues faster.
//
// For each fleet size (default 1, then 4) it creates a fresh database, runs
// `migrate up`, enqueues -jobs import-sized jobs on the imports queue, starts
// that many real `worker run` processes against the same database (each with
// the production WORKER_QUEUES share of the imports queue, imports=2) and
// reports how long the fleet takes to drain the queue:
//
//	go run ./deploy/scaling -jobs 20000 -fleets 1,4
//
// An import-sized job is River's noop job on the imports queue holding its
// worker slot for -job-ms (default 10 ms, the time a small upload_import
// holds it: validate, one COPY, chain the aggregate) with the argument
// payload of an upload_import job. The drain time is the span from the first
// job's start (attempted_at) to the last job's completion (finalized_at) as
// River recorded them, so process start-up does not count; wall is the time
// from starting the processes to the last completion.
//
// The binaries are built with go build unless -bin names a directory holding
// worker and migrate (e.g. bin/ after `make build`). The database is
// TEST_DATABASE_URL's server (any database on it; each run creates and drops
// its own).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/co2-calculator/co2-calculator/jobs"
)

// importArgs are the noop job's arguments padded to an upload_import job's
// ({"upload_id": "<uuid>"}).
type importArgs struct {
	SleepMS  int    `json:"sleep_ms"`
	UploadID string `json:"upload_id"`
}

func (importArgs) Kind() string { return "noop" }

func (importArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueImports, MaxAttempts: 3}
}

type options struct {
	serverURL string
	jobs      int
	fleets    []int
	queues    string
	jobMS     int
	bin       string
	timeout   time.Duration
}

// result is one fleet's drain.
type result struct {
	workers     int
	drain, wall time.Duration
}

func main() {
	if err := mainErr(); err != nil {
		fmt.Fprintln(os.Stderr, "scaling:", err)
		os.Exit(1)
	}
}

func mainErr() error {
	var o options
	var fleets string
	flag.StringVar(&o.serverURL, "database-url", os.Getenv("TEST_DATABASE_URL"), "a PostgreSQL URL of the server to use (default TEST_DATABASE_URL)")
	flag.IntVar(&o.jobs, "jobs", 20000, "jobs to enqueue per fleet")
	flag.StringVar(&fleets, "fleets", "1,4", "comma list of worker process counts")
	flag.StringVar(&o.queues, "queues", "imports=2", "WORKER_QUEUES of each worker process")
	flag.IntVar(&o.jobMS, "job-ms", 10, "milliseconds one job holds its worker slot")
	flag.StringVar(&o.bin, "bin", "", "directory holding the worker and migrate binaries (default: go build them)")
	flag.DurationVar(&o.timeout, "timeout", 20*time.Minute, "give up a fleet after this long")
	flag.Parse()
	if o.serverURL == "" {
		return errors.New("no -database-url and no TEST_DATABASE_URL")
	}
	for f := range strings.SplitSeq(fleets, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("-fleets: %q is not a positive count", f)
		}
		o.fleets = append(o.fleets, n)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.bin == "" {
		dir, err := os.MkdirTemp("", "co2-scaling-bin-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		fmt.Fprintln(os.Stderr, "scaling: go build ./cmd/worker ./cmd/migrate")
		cmd := exec.CommandContext(ctx, "go", "build", "-o", dir+"/", "./cmd/worker", "./cmd/migrate") //nolint:gosec // a temporary directory
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go build: %w", err)
		}
		o.bin = dir
	}
	var results []result
	for _, n := range o.fleets {
		r, err := fleet(ctx, o, n)
		if err != nil {
			return fmt.Errorf("%d worker(s): %w", n, err)
		}
		results = append(results, r)
		fmt.Fprintf(os.Stderr, "scaling: %d worker(s) drained %d jobs in %s\n", n, o.jobs, r.drain.Round(time.Millisecond))
	}
	fmt.Printf("%d import-sized jobs (noop on the imports queue, %d ms each), WORKER_QUEUES=%s per process\n", o.jobs, o.jobMS, o.queues)
	fmt.Printf("%-8s %10s %10s %10s %8s\n", "workers", "drain", "wall", "jobs/s", "speedup")
	for _, r := range results {
		fmt.Printf("%-8d %9.1fs %9.1fs %10.0f %7.2fx\n", r.workers, r.drain.Seconds(), r.wall.Seconds(),
			float64(o.jobs)/r.drain.Seconds(), results[0].drain.Seconds()/r.drain.Seconds())
	}
	return nil
}

// fleet runs one fleet size on a fresh database.
func fleet(ctx context.Context, o options, workers int) (result, error) {
	dbURL, drop, err := freshDatabase(ctx, o.serverURL)
	if err != nil {
		return result{}, err
	}
	defer drop()
	env := append(os.Environ(), "DATABASE_URL="+dbURL, "LOG_LEVEL=warn", "LOG_FORMAT=json", "APP_ENV=test")
	migrate := exec.CommandContext(ctx, filepath.Join(o.bin, "migrate"), "up") //nolint:gosec // the binaries of -bin
	migrate.Env = env
	if out, err := migrate.CombinedOutput(); err != nil {
		return result{}, fmt.Errorf("migrate up: %w: %s", err, out)
	}
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return result{}, err
	}
	defer pool.Close()
	if err := enqueue(ctx, pool, o.jobs, o.jobMS); err != nil {
		return result{}, err
	}

	// The periodic jobs are disabled so the fleet works only the scenario's jobs.
	wenv := slices.Concat(env, []string{"WORKER_QUEUES=" + o.queues, "ADMIN_ADDR=127.0.0.1:0", "SCHEDULE_ECB=",
		"SCHEDULE_ACCRED=", "SCHEDULE_TABLEAU=", "SCHEDULE_AUDIT_SHIP=", "SCHEDULE_EXPORT_CLEANUP="})
	start := time.Now()
	var procs []*exec.Cmd
	defer func() {
		for _, p := range procs {
			_ = p.Process.Signal(syscall.SIGTERM)
		}
		for _, p := range procs {
			_ = p.Wait()
		}
	}()
	for range workers {
		cmd := exec.CommandContext(ctx, filepath.Join(o.bin, "worker"), "run") //nolint:gosec // the binaries of -bin
		cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
		cmd.Env = wenv
		cmd.Stderr = os.Stderr // warnings and errors only
		if err := cmd.Start(); err != nil {
			return result{}, err
		}
		procs = append(procs, cmd)
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(o.timeout)
	defer deadline.Stop()
	for {
		var done int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'noop' AND state = 'completed'`).Scan(&done); err != nil {
			return result{}, err
		}
		if done == o.jobs {
			break
		}
		select {
		case <-ctx.Done():
			return result{}, ctx.Err()
		case <-deadline.C:
			return result{}, fmt.Errorf("only %d of %d jobs done after %s", done, o.jobs, o.timeout)
		case <-tick.C:
		}
	}
	r := result{workers: workers}
	var first, last time.Time
	if err := pool.QueryRow(ctx, `SELECT min(attempted_at), max(finalized_at) FROM river_job WHERE kind = 'noop'`).Scan(&first, &last); err != nil {
		return result{}, err
	}
	r.drain = last.Sub(first)
	r.wall = last.Sub(start)
	var ran int
	if err := pool.QueryRow(ctx, `SELECT count(DISTINCT attempted_by[array_upper(attempted_by, 1)]) FROM river_job WHERE kind = 'noop'`).Scan(&ran); err != nil {
		return result{}, err
	}
	if ran != workers {
		slog.Warn("not every worker process ran jobs", slog.Int("workers", workers), slog.Int("ran_jobs", ran))
	}
	return r, nil
}

// enqueue inserts n jobs in batches of 2 000 (InsertManyFast: COPY).
func enqueue(ctx context.Context, pool *pgxpool.Pool, n, jobMS int) error {
	client, err := jobs.NewInsertClient(pool)
	if err != nil {
		return err
	}
	for i := 0; i < n; i += 2000 {
		params := make([]river.InsertManyParams, 0, 2000)
		for range min(2000, n-i) {
			params = append(params, river.InsertManyParams{Args: importArgs{SleepMS: jobMS, UploadID: uuid.NewString()}})
		}
		if _, err := client.InsertManyFast(ctx, params); err != nil {
			return fmt.Errorf("enqueue: %w", err)
		}
	}
	return nil
}

// freshDatabase creates a database on the server of serverURL and returns
// its URL and a function dropping it.
func freshDatabase(ctx context.Context, serverURL string) (string, func(), error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", nil, err
	}
	q := u.Query()
	for k := range q {
		if strings.HasPrefix(k, "pool_") {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	admin, err := pgx.Connect(ctx, u.String())
	if err != nil {
		return "", nil, err
	}
	name := fmt.Sprintf("co2_scaling_%d", time.Now().UnixNano())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		_ = admin.Close(ctx)
		return "", nil, err
	}
	drop := func() {
		_, _ = admin.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		_ = admin.Close(context.WithoutCancel(ctx))
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}
