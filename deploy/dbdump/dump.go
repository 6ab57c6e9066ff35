package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/co2-calculator/co2-calculator/pkg/blob"
)

// timeLayout is the UTC timestamp in a dump's key; keys sort by time.
const timeLayout = "20060102T150405Z"

// dumpMagic starts every pg_dump custom-format archive.
const dumpMagic = "PGDMP"

type dumpConfig struct {
	DatabaseURL string
	Blob        blob.Config
	KeyPrefix   string
	Name        string
	Retention   time.Duration
	KeepMin     int
	PGDump      string
	PGDumpArgs  []string
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
}

func loadConfig(lookup func(string) (string, bool)) (dumpConfig, error) {
	get := func(name, def string) string {
		if v, ok := lookup(name); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}
	cfg := dumpConfig{
		DatabaseURL: get("DATABASE_URL", ""),
		Blob: blob.Config{
			Backend:  blob.BackendS3,
			Bucket:   get("S3_BUCKET", ""),
			Endpoint: get("S3_ENDPOINT", ""),
			Region:   get("S3_REGION", "us-east-1"),
			Prefix:   get("S3_PREFIX", ""),
		},
		KeyPrefix: strings.Trim(get("DUMP_KEY_PREFIX", "db-dumps"), "/"),
		Name:      get("DUMP_NAME", "co2-calculator"),
		PGDump:    get("PG_DUMP", "pg_dump"),
	}
	if path := get("DATABASE_URL_FILE", ""); path != "" {
		if cfg.DatabaseURL != "" {
			return cfg, errors.New("DATABASE_URL: both DATABASE_URL and DATABASE_URL_FILE are set; set only one")
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("DATABASE_URL_FILE: %w", err)
		}
		cfg.DatabaseURL = strings.TrimSpace(string(b))
	}
	if cfg.DatabaseURL == "" {
		return cfg, errors.New("DATABASE_URL: is required (or DATABASE_URL_FILE)")
	}
	if cfg.Blob.Bucket == "" {
		return cfg, errors.New("S3_BUCKET: is required")
	}
	var err error
	if cfg.Blob.PathStyle, err = strconv.ParseBool(get("S3_PATH_STYLE", "false")); err != nil {
		return cfg, fmt.Errorf("S3_PATH_STYLE: %w", err)
	}
	if cfg.Retention, err = time.ParseDuration(get("DUMP_RETENTION", "720h")); err != nil || cfg.Retention < 0 {
		return cfg, fmt.Errorf("DUMP_RETENTION: invalid duration %q", get("DUMP_RETENTION", ""))
	}
	if cfg.KeepMin, err = strconv.Atoi(get("DUMP_KEEP_MIN", "3")); err != nil || cfg.KeepMin < 1 {
		return cfg, fmt.Errorf("DUMP_KEEP_MIN: want an integer >= 1, got %q", get("DUMP_KEEP_MIN", ""))
	}
	cfg.PGDumpArgs = strings.Fields(get("DUMP_PG_DUMP_ARGS", ""))
	if err := blob.ValidateKey(cfg.KeyPrefix + "/" + cfg.Name + "-" + timeLayout + ".dump"); err != nil {
		return cfg, fmt.Errorf("DUMP_KEY_PREFIX, DUMP_NAME: %w", err)
	}
	return cfg, nil
}

// result is what one run did.
type result struct {
	Key     string
	Size    int64
	Deleted []string
}

// run dumps the database into the bucket, then applies the retention.
func run(ctx context.Context, cfg dumpConfig, logger *slog.Logger) (result, error) {
	now := time.Now
	if cfg.Now != nil {
		now = cfg.Now
	}
	store, err := blob.NewS3(ctx, cfg.Blob)
	if err != nil {
		return result{}, err
	}
	defer store.Close()
	started := now().UTC()
	key := fmt.Sprintf("%s/%s-%s.dump", cfg.KeyPrefix, cfg.Name, started.Format(timeLayout))
	info, err := dump(ctx, cfg, store, key)
	if err != nil {
		return result{}, err
	}
	logger.Info("database dumped", slog.String("key", key), slog.Int64("bytes", info.Size),
		slog.Duration("took", now().Sub(started).Round(time.Millisecond)))

	client, err := s3Client(ctx, cfg.Blob)
	if err != nil {
		return result{}, err
	}
	deleted, err := prune(ctx, cfg, client, store, now().UTC())
	for _, k := range deleted {
		logger.Info("old dump deleted", slog.String("key", k))
	}
	if err != nil {
		return result{}, fmt.Errorf("retention: %w", err)
	}
	return result{Key: key, Size: info.Size, Deleted: deleted}, nil
}

// dump streams pg_dump's archive into key. pg_dump's exit status reaches the
// upload as the stream's error, so a failed dump aborts the upload and leaves
// no object behind.
func dump(ctx context.Context, cfg dumpConfig, store blob.Store, key string) (blob.Info, error) {
	conn, password := libpqURL(cfg.DatabaseURL)
	args := append([]string{"--format=custom", "--no-password", "--dbname=" + conn}, cfg.PGDumpArgs...)
	cmd := exec.CommandContext(ctx, cfg.PGDump, args...) //nolint:gosec // PG_DUMP and its arguments are the operator's configuration
	cmd.Env = os.Environ()
	if password != "" {
		cmd.Env = append(cmd.Env, "PGPASSWORD="+password)
	}
	var stderr tailBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return blob.Info{}, err
	}
	if err := cmd.Start(); err != nil {
		return blob.Info{}, fmt.Errorf("error starting %s: %w", cfg.PGDump, err)
	}
	pr, pw := io.Pipe()
	go func() {
		_, copyErr := io.Copy(pw, stdout)
		if copyErr != nil {
			_ = cmd.Process.Kill() // the upload gave up: nobody reads pg_dump's output any more
		}
		waitErr := cmd.Wait()
		switch {
		case copyErr != nil:
			pw.CloseWithError(copyErr)
		case waitErr != nil:
			pw.CloseWithError(fmt.Errorf("pg_dump: %w: %s", waitErr, strings.TrimSpace(stderr.String())))
		default:
			_ = pw.Close()
		}
	}()
	head := &headReader{r: pr}
	info, err := store.Put(ctx, key, head, -1, "application/octet-stream")
	_ = pr.CloseWithError(io.ErrClosedPipe) // unblocks the copier if Put gave up early
	if err != nil {
		return blob.Info{}, err
	}
	if !strings.HasPrefix(string(head.head), dumpMagic) {
		_ = store.Delete(context.WithoutCancel(ctx), key)
		return blob.Info{}, fmt.Errorf("pg_dump wrote no custom-format archive (%d bytes)", info.Size)
	}
	return info, nil
}

// lister lists object keys under a prefix (the whole key, S3_PREFIX included).
type lister interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// prune deletes the dumps older than the retention, keeping at least KeepMin
// (the newest). Only keys this program writes are considered.
func prune(ctx context.Context, cfg dumpConfig, client lister, store blob.Store, now time.Time) ([]string, error) {
	if cfg.Retention == 0 {
		return nil, nil
	}
	base := strings.Trim(cfg.Blob.Prefix, "/")
	if base != "" {
		base += "/"
	}
	namePrefix := cfg.KeyPrefix + "/" + cfg.Name + "-"
	type dumpKey struct {
		key string
		at  time.Time
	}
	var dumps []dumpKey
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{
		Bucket: aws.String(cfg.Blob.Bucket),
		Prefix: aws.String(base + namePrefix),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", base+namePrefix, err)
		}
		for _, o := range page.Contents {
			key := strings.TrimPrefix(aws.ToString(o.Key), base)
			stamp, ok := strings.CutSuffix(strings.TrimPrefix(key, namePrefix), ".dump")
			at, err := time.Parse(timeLayout, stamp)
			if !ok || err != nil {
				continue // not one of ours
			}
			dumps = append(dumps, dumpKey{key: key, at: at})
		}
	}
	slices.SortFunc(dumps, func(a, b dumpKey) int { return b.at.Compare(a.at) }) // newest first
	var deleted []string
	for i, d := range dumps {
		if i < cfg.KeepMin || now.Sub(d.at) <= cfg.Retention {
			continue
		}
		if err := store.Delete(ctx, d.key); err != nil {
			return deleted, err
		}
		deleted = append(deleted, d.key)
	}
	return deleted, nil
}

// s3Client builds a client for listing, configured like pkg/blob's.
func s3Client(ctx context.Context, c blob.Config) (*s3.Client, error) {
	opts := []func(*config.LoadOptions) error{config.WithRegion(c.Region)}
	if c.AccessKeyID != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, "")))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	return s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
		o.UsePathStyle = c.PathStyle
	}), nil
}

// headReader keeps the first bytes read through it.
type headReader struct {
	r    io.Reader
	head []byte
}

func (h *headReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if missing := len(dumpMagic) - len(h.head); missing > 0 && n > 0 {
		h.head = append(h.head, p[:min(n, missing)]...)
	}
	return n, err
}

// tailBuffer keeps the last 4 KiB written (pg_dump's stderr, for the error).
type tailBuffer struct{ b bytes.Buffer }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b.Write(p)
	if over := t.b.Len() - 4096; over > 0 {
		t.b.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return t.b.String() }
