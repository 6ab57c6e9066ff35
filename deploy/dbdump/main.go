// Command dbdump backs the database up to S3: the program of the Helm chart's
// db-dump CronJob, shipped in the image as /usr/local/bin/dbdump.
//
//	dbdump install DEST   copy this static binary to DEST (the image has no
//	                      shell and no cp: an init container puts dbdump into
//	                      the PostgreSQL image that runs pg_dump)
//	dbdump run            pg_dump --format=custom, streamed to S3 (no local
//	                      copy: at most one 16 MiB part in memory), then the
//	                      dumps older than DUMP_RETENTION are deleted, the
//	                      newest DUMP_KEEP_MIN always kept
//
// run reads the application's variables DATABASE_URL (or DATABASE_URL_FILE),
// S3_BUCKET, S3_ENDPOINT, S3_REGION, S3_PATH_STYLE and S3_PREFIX (credentials:
// the standard AWS chain, e.g. AWS_SHARED_CREDENTIALS_FILE), and its own:
//
//	DUMP_KEY_PREFIX     key prefix below S3_PREFIX (default db-dumps)
//	DUMP_NAME           file name prefix (default co2-calculator)
//	DUMP_RETENTION      delete dumps older than this (default 720h; 0 keeps all)
//	DUMP_KEEP_MIN       never keep fewer dumps than this (default 3, at least 1)
//	DUMP_PG_DUMP_ARGS   extra pg_dump arguments, space-separated
//	PG_DUMP             the pg_dump binary (default pg_dump on PATH)
//
// A dump is stored as <S3_PREFIX>/<DUMP_KEY_PREFIX>/<DUMP_NAME>-<UTC
// yyyymmddThhmmssZ>.dump and restored with pg_restore (README "Deploy"). A
// failed pg_dump stores nothing (the upload is aborted) and exits non-zero, so
// the Job fails visibly. Logs are JSON lines on stderr.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli(ctx, os.Args[1:], os.LookupEnv, logger)
	stop()
	if err != nil {
		logger.Error("dbdump failed", slog.String("error", err.Error()))
		os.Exit(1)
	}
}

func cli(ctx context.Context, args []string, lookup func(string) (string, bool), logger *slog.Logger) error {
	const usage = "usage: dbdump install DEST | dbdump run"
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch args[0] {
	case "install":
		if len(args) != 2 {
			return errors.New(usage)
		}
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("error finding this executable: %w", err)
		}
		if err := install(self, args[1]); err != nil {
			return err
		}
		logger.Info("dbdump installed", slog.String("path", args[1]))
		return nil
	case "run":
		if len(args) != 1 {
			return errors.New(usage)
		}
		cfg, err := loadConfig(lookup)
		if err != nil {
			return err
		}
		_, err = run(ctx, cfg, logger)
		return err
	default:
		return errors.New(usage)
	}
}

// install copies the file src to dest (mode 0755), through a temporary file
// renamed into place.
func install(src, dest string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("error opening %s: %w", src, err)
	}
	defer in.Close()
	tmp := dest + ".tmp"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755) //nolint:gosec // an executable, run by another container
	if err != nil {
		return fmt.Errorf("error creating %s: %w", tmp, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return fmt.Errorf("error copying to %s: %w", tmp, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("error writing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, dest); err != nil { //nolint:gosec // DEST is the init container's argument
		return fmt.Errorf("error renaming %s: %w", tmp, err)
	}
	return nil
}

// libpqURL returns a connection string pg_dump accepts: pgxpool's pool_*
// parameters removed, and the password taken out of the URL (it goes to
// pg_dump through PGPASSWORD, not its command line).
func libpqURL(s string) (conn, password string) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return s, "" // a key=value connection string: passed as it is
	}
	q := u.Query()
	for k := range q {
		if len(k) > 5 && k[:5] == "pool_" {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	if u.User != nil {
		if pw, ok := u.User.Password(); ok {
			password = pw
			u.User = url.User(u.User.Username())
		}
	}
	return u.String(), password
}
