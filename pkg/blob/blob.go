// Package blob stores uploaded files and generated exports (spec docs/jobs.md §6).
//
// A Store is either an S3 bucket (aws-sdk-go-v2; AWS, MinIO, versitygw, …)
// or a local directory. Both stream: Put reads its input in bounded chunks
// (at most one 16 MiB part buffer per in-flight S3 upload, a 32 KiB copy
// buffer locally) and Get returns the object body as a stream, so a 100 MiB
// upload never sits in memory.
//
// Keys are slash-separated relative paths such as uploads/2025/{uuid}.csv
// or exports/{uuid}.xlsx; see ValidateKey for the rules, which both
// backends share.
//
// Downloads: on S3, PresignGet returns a time-limited URL the browser can
// fetch directly; the local backend returns ok=false and the API streams
// the object from Get instead.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Backends selectable in Config.Backend.
const (
	BackendLocal = "local"
	BackendS3    = "s3"
)

// DefaultContentType is stored when Put is given an empty content type.
const DefaultContentType = "application/octet-stream"

// MaxKeyLength is the longest accepted key in bytes (S3's limit, minus room
// for a prefix).
const MaxKeyLength = 900

var (
	// ErrNotFound is returned (wrapped) when a key does not exist.
	ErrNotFound = errors.New("blob: not found")
	// ErrInvalidKey is returned (wrapped) for keys ValidateKey rejects.
	ErrInvalidKey = errors.New("blob: invalid key")
	// ErrSizeMismatch is returned (wrapped) when Put is given a size that
	// the reader does not deliver exactly; nothing is stored.
	ErrSizeMismatch = errors.New("blob: size mismatch")
)

// Info describes a stored object.
type Info struct {
	Key         string
	Size        int64
	ContentType string
	// ETag is an opaque version tag: the S3 ETag (without quotes) or, for
	// the local backend, the hex SHA-256 of the content.
	ETag    string
	ModTime time.Time
}

// Store is a blob store. Implementations are safe for concurrent use.
type Store interface {
	// Put stores r under key, replacing any existing object. size is the
	// exact length of r, or -1 when unknown; a known size that r does not
	// match fails with ErrSizeMismatch and stores nothing. An empty
	// contentType stores DefaultContentType.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (Info, error)
	// Get opens key for streaming; the caller closes the reader.
	Get(ctx context.Context, key string) (io.ReadCloser, Info, error)
	// Stat describes key without reading it.
	Stat(ctx context.Context, key string) (Info, error)
	// Copy copies src to dst (content and content type), replacing dst.
	Copy(ctx context.Context, src, dst string) error
	// Delete removes key. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// PresignGet returns a URL that downloads key for ttl, with a
	// Content-Disposition attachment header naming filename (when not
	// empty). ok is false when the backend cannot presign (local): the
	// caller then streams the object from Get.
	PresignGet(ctx context.Context, key string, ttl time.Duration, filename string) (url string, ok bool, err error)
	// Check reports whether the store is usable (readiness): HeadBucket on
	// S3, a write/remove probe on the local directory.
	Check(ctx context.Context) error
	// Close releases idle network connections. The Store must not be used
	// afterwards.
	Close() error
}

// Config selects and configures a backend (BLOB_* and S3_* variables,
// docs/architecture.md §5).
type Config struct {
	// Backend is BackendS3 or BackendLocal; empty means BackendLocal.
	Backend string
	// LocalDir is the root directory of the local backend.
	LocalDir string

	// Bucket is the S3 bucket (required for BackendS3).
	Bucket string
	// Endpoint is a custom S3 endpoint URL (MinIO, versitygw, …); empty
	// uses AWS.
	Endpoint string
	// Region defaults to us-east-1.
	Region string
	// PathStyle addresses buckets as endpoint/bucket/key instead of
	// bucket.endpoint/key (needed by most S3-compatible servers).
	PathStyle bool
	// Prefix is prepended to every key ("tenant-a" → "tenant-a/uploads/…").
	Prefix string
	// AccessKeyID and SecretAccessKey are static credentials. Leave both
	// empty to use the standard AWS chain (AWS_ACCESS_KEY_ID, profiles,
	// web identity, instance roles, …), which is what deployments do.
	AccessKeyID     string
	SecretAccessKey string
}

// New builds the Store selected by cfg. It does not contact S3: call Check
// for readiness.
func New(ctx context.Context, cfg Config) (Store, error) {
	switch cfg.Backend {
	case "", BackendLocal:
		return NewLocal(cfg.LocalDir)
	case BackendS3:
		return NewS3(ctx, cfg)
	default:
		return nil, fmt.Errorf("blob: unknown backend %q (want %q or %q)", cfg.Backend, BackendS3, BackendLocal)
	}
}

// ValidateKey reports whether key is acceptable to every backend. A key is
// 1..MaxKeyLength bytes of slash-separated segments; each segment is
// non-empty, uses only ASCII letters, digits, '-', '_' and '.', and does not
// start with '.' (which rules out "." and ".." and keeps the local
// backend's hidden temp and metadata files out of the key space). Leading
// and trailing slashes, "//" and backslashes are rejected.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	}
	if len(key) > MaxKeyLength {
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidKey, MaxKeyLength)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" {
			return fmt.Errorf("%w: %q has an empty segment (leading, trailing or double slash)", ErrInvalidKey, key)
		}
		if seg[0] == '.' {
			return fmt.Errorf("%w: %q has a segment starting with '.'", ErrInvalidKey, key)
		}
		for i := range len(seg) {
			if !keyChar(seg[i]) {
				return fmt.Errorf("%w: %q contains %q", ErrInvalidKey, key, seg[i])
			}
		}
	}
	return nil
}

func keyChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	case c == '-', c == '_', c == '.':
		return true
	default:
		return false
	}
}

func contentTypeOrDefault(ct string) string {
	if ct == "" {
		return DefaultContentType
	}
	return ct
}
