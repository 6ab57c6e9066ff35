package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Local is the local-directory backend. Key a/b/c.csv is the file
// <root>/a/b/c.csv; its content type and SHA-256 live in the sidecar
// <root>/a/b/.c.csv.meta (keys cannot start a segment with '.', so sidecars
// and temp files never collide with keys).
//
// Writes are atomic: content goes to a hidden temp file in the target
// directory, is fsynced, renamed over the target, and the directory is
// fsynced. The sidecar is replaced the same way right after the content, so
// during an overwrite a concurrent Stat may briefly see the old content
// type with the new content. Keys are immutable uuids in practice.
//
// A key cannot be both an object and a "directory" (a and a/b), unlike S3.
type Local struct {
	root string
}

var _ Store = (*Local)(nil)

type localMeta struct {
	ContentType string `json:"content_type"`
	SHA256      string `json:"sha256"`
}

// NewLocal returns a Local store rooted at dir, creating dir if needed.
func NewLocal(dir string) (*Local, error) {
	if dir == "" {
		return nil, errors.New("blob: local backend needs a directory (BLOB_LOCAL_DIR)")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("blob: resolving %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return nil, fmt.Errorf("blob: creating %q: %w", abs, err)
	}
	return &Local{root: abs}, nil
}

// Root is the absolute root directory.
func (l *Local) Root() string { return l.root }

// path maps a key to its content path and sidecar path.
func (l *Local) path(key string) (data, meta string, err error) {
	if err := ValidateKey(key); err != nil {
		return "", "", err
	}
	rel := filepath.FromSlash(key)
	if !filepath.IsLocal(rel) { // defence in depth; ValidateKey already ensures it
		return "", "", fmt.Errorf("%w: %q escapes the root", ErrInvalidKey, key)
	}
	data = filepath.Join(l.root, rel)
	dir, base := filepath.Split(data)
	return data, filepath.Join(dir, "."+base+".meta"), nil
}

// Put implements Store.
func (l *Local) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (Info, error) {
	data, meta, err := l.path(key)
	if err != nil {
		return Info{}, err
	}
	return l.put(ctx, key, data, meta, r, size, contentTypeOrDefault(contentType))
}

func (l *Local) put(ctx context.Context, key, data, meta string, r io.Reader, size int64, contentType string) (Info, error) {
	dir := filepath.Dir(data)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return Info{}, fmt.Errorf("blob: put %q: %w", key, err)
	}
	h := sha256.New()
	src := r
	if size >= 0 {
		src = io.LimitReader(r, size+1) // one extra byte detects a longer stream
	}
	n, err := writeAtomic(dir, data, func(w io.Writer) (int64, error) {
		return io.Copy(io.MultiWriter(w, h), ctxReader{ctx: ctx, r: src})
	}, func(n int64) error {
		if size >= 0 && n != size {
			return fmt.Errorf("%w: got %d bytes, want %d", ErrSizeMismatch, n, size)
		}
		return nil
	})
	if err != nil {
		return Info{}, fmt.Errorf("blob: put %q: %w", key, err)
	}
	m := localMeta{ContentType: contentType, SHA256: hex.EncodeToString(h.Sum(nil))}
	if err := writeMeta(dir, meta, m); err != nil {
		return Info{}, fmt.Errorf("blob: put %q: %w", key, err)
	}
	st, err := os.Stat(data)
	if err != nil {
		return Info{}, fmt.Errorf("blob: put %q: %w", key, err)
	}
	return Info{Key: key, Size: n, ContentType: m.ContentType, ETag: m.SHA256, ModTime: st.ModTime()}, nil
}

// writeAtomic writes a hidden temp file in dir with fill, lets check veto
// the result, then fsyncs, renames it to target and fsyncs dir. The temp
// file is removed on any failure.
func writeAtomic(dir, target string, fill func(io.Writer) (int64, error), check func(int64) error) (n int64, err error) {
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return 0, err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o640); err != nil {
		return 0, err
	}
	if n, err = fill(f); err != nil {
		return n, err
	}
	if err := check(n); err != nil {
		return n, err
	}
	if err := f.Sync(); err != nil {
		return n, err
	}
	if err := f.Close(); err != nil {
		return n, err
	}
	if err := os.Rename(tmp, target); err != nil {
		return n, err
	}
	return n, syncDir(dir)
}

func writeMeta(dir, path string, m localMeta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = writeAtomic(dir, path, func(w io.Writer) (int64, error) {
		n, err := w.Write(b)
		return int64(n), err
	}, func(int64) error { return nil })
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func readMeta(path string) localMeta {
	var m localMeta
	if b, err := os.ReadFile(path); err == nil {
		_ = json.Unmarshal(b, &m) // a missing or damaged sidecar degrades to defaults
	}
	m.ContentType = contentTypeOrDefault(m.ContentType)
	return m
}

func notFound(err error) bool {
	// ENOTDIR: a path component is a file (key a/b when a is an object).
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

func (l *Local) info(key, meta string, st fs.FileInfo) Info {
	m := readMeta(meta)
	return Info{Key: key, Size: st.Size(), ContentType: m.ContentType, ETag: m.SHA256, ModTime: st.ModTime()}
}

// Get implements Store. The returned reader is the open file.
func (l *Local) Get(_ context.Context, key string) (io.ReadCloser, Info, error) {
	data, meta, err := l.path(key)
	if err != nil {
		return nil, Info{}, err
	}
	f, err := os.Open(data)
	if err != nil {
		if notFound(err) {
			return nil, Info{}, fmt.Errorf("blob: get %q: %w", key, ErrNotFound)
		}
		return nil, Info{}, fmt.Errorf("blob: get %q: %w", key, err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, Info{}, fmt.Errorf("blob: get %q: %w", key, err)
	}
	if !st.Mode().IsRegular() {
		_ = f.Close()
		return nil, Info{}, fmt.Errorf("blob: get %q: %w", key, ErrNotFound)
	}
	return f, l.info(key, meta, st), nil
}

// Stat implements Store.
func (l *Local) Stat(_ context.Context, key string) (Info, error) {
	data, meta, err := l.path(key)
	if err != nil {
		return Info{}, err
	}
	st, err := os.Stat(data)
	if err != nil {
		if notFound(err) {
			return Info{}, fmt.Errorf("blob: stat %q: %w", key, ErrNotFound)
		}
		return Info{}, fmt.Errorf("blob: stat %q: %w", key, err)
	}
	if !st.Mode().IsRegular() {
		return Info{}, fmt.Errorf("blob: stat %q: %w", key, ErrNotFound)
	}
	return l.info(key, meta, st), nil
}

// Copy implements Store (a streamed copy through the same atomic write).
func (l *Local) Copy(ctx context.Context, src, dst string) error {
	dstData, dstMeta, err := l.path(dst)
	if err != nil {
		return err
	}
	rc, info, err := l.Get(ctx, src)
	if err != nil {
		return fmt.Errorf("blob: copy %q to %q: %w", src, dst, err)
	}
	defer rc.Close()
	if _, err := l.put(ctx, dst, dstData, dstMeta, rc, info.Size, info.ContentType); err != nil {
		return fmt.Errorf("blob: copy %q to %q: %w", src, dst, err)
	}
	return nil
}

// Delete implements Store.
func (l *Local) Delete(_ context.Context, key string) error {
	data, meta, err := l.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(data); err != nil && !notFound(err) {
		return fmt.Errorf("blob: delete %q: %w", key, err)
	}
	if err := os.Remove(meta); err != nil && !notFound(err) {
		return fmt.Errorf("blob: delete %q: %w", key, err)
	}
	return nil
}

// PresignGet implements Store: the local backend cannot presign (ok=false).
func (l *Local) PresignGet(_ context.Context, key string, _ time.Duration, _ string) (string, bool, error) {
	if err := ValidateKey(key); err != nil {
		return "", false, err
	}
	return "", false, nil
}

// Check implements Store: the root must exist and be writable.
func (l *Local) Check(_ context.Context) error {
	if err := os.MkdirAll(l.root, 0o750); err != nil {
		return fmt.Errorf("blob: local root %q: %w", l.root, err)
	}
	f, err := os.CreateTemp(l.root, ".check-*")
	if err != nil {
		return fmt.Errorf("blob: local root %q is not writable: %w", l.root, err)
	}
	name := f.Name()
	_ = f.Close()
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("blob: local root %q: %w", l.root, err)
	}
	return nil
}

// Close implements Store (nothing to release).
func (l *Local) Close() error { return nil }

// ctxReader stops a long copy when ctx is done.
type ctxReader struct {
	ctx context.Context //nolint:containedctx // scoped to one copy
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
