package blob_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/blob"
	"github.com/co2-calculator/co2-calculator/pkg/blob/blobtest"
)

const mib = 1 << 20

// backends are the Stores every behaviour test runs against.
var backends = []struct {
	name   string
	config func(testing.TB) blob.Config
}{
	{"local", blobtest.Local},
	{"s3", blobtest.S3},
}

// eachBackend runs fn as a parallel subtest per backend with a fresh store.
func eachBackend(t *testing.T, fn func(t *testing.T, store blob.Store)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, newStore(t, b.config(t)))
		})
	}
}

func newStore(t testing.TB, cfg blob.Config) blob.Store {
	t.Helper()
	store, err := blob.New(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, store.Close()) })
	return store
}

func newKey(ext string) string {
	return fmt.Sprintf("uploads/2025/%s.%s", uuid.NewString(), ext)
}

// genReader yields n deterministic pseudo-random bytes without holding
// them; it has no WriteTo or Seek, like a request body.
type genReader struct {
	state uint64
	left  int64
}

func newGen(seed uint64, n int64) *genReader { return &genReader{state: seed | 1, left: n} }

func (g *genReader) Read(p []byte) (int, error) {
	if g.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	var w [8]byte
	for i := 0; i < len(p); i += 8 {
		g.state ^= g.state << 13
		g.state ^= g.state >> 7
		g.state ^= g.state << 17
		binary.LittleEndian.PutUint64(w[:], g.state)
		copy(p[i:], w[:])
	}
	g.left -= int64(len(p))
	return len(p), nil
}

func genSHA(t *testing.T, seed uint64, n int64) [32]byte {
	t.Helper()
	h := sha256.New()
	_, err := io.Copy(h, newGen(seed, n))
	require.NoError(t, err)
	return [32]byte(h.Sum(nil))
}

// readSHA streams a stored object through SHA-256.
func readSHA(ctx context.Context, t *testing.T, store blob.Store, key string) ([32]byte, int64, blob.Info) {
	t.Helper()
	rc, info, err := store.Get(ctx, key)
	require.NoError(t, err)
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	require.NoError(t, err)
	return [32]byte(h.Sum(nil)), n, info
}

func getBytes(ctx context.Context, t *testing.T, store blob.Store, key string) ([]byte, blob.Info) {
	t.Helper()
	rc, info, err := store.Get(ctx, key)
	require.NoError(t, err)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	return b, info
}

func TestStore_Check(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, store blob.Store) {
		require.NoError(t, store.Check(t.Context()))
	})
}

func TestStore_Concurrent(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, store blob.Store) {
		ctx := t.Context()
		const n = 16
		keys := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			keys[i] = newKey("csv")
			wg.Go(func() {
				body := strings.Repeat(fmt.Sprintf("row %d\n", i), 100*(i+1))
				_, errs[i] = store.Put(ctx, keys[i], strings.NewReader(body), int64(len(body)), "text/csv")
			})
		}
		wg.Wait()
		for i := range n {
			require.NoError(t, errs[i])
			got, _ := getBytes(ctx, t, store, keys[i])
			require.Equal(t, strings.Repeat(fmt.Sprintf("row %d\n", i), 100*(i+1)), string(got))
		}
	})
}

func TestStore_ContentType(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, store blob.Store) {
		ctx := t.Context()
		xlsx := "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
		key := newKey("xlsx")
		_, err := store.Put(ctx, key, strings.NewReader("PK"), 2, xlsx)
		require.NoError(t, err)
		info, err := store.Stat(ctx, key)
		require.NoError(t, err)
		require.Equal(t, xlsx, info.ContentType)
		_, info = getBytes(ctx, t, store, key)
		require.Equal(t, xlsx, info.ContentType)

		key = newKey("bin")
		info, err = store.Put(ctx, key, strings.NewReader("x"), 1, "")
		require.NoError(t, err)
		require.Equal(t, blob.DefaultContentType, info.ContentType)
	})
}

func TestStore_Copy(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, store blob.Store) {
		ctx := t.Context()
		src, dst := newKey("csv"), newKey("csv")
		_, err := store.Put(ctx, src, strings.NewReader("a;b\n1;2\n"), 8, "text/csv")
		require.NoError(t, err)

		require.NoError(t, store.Copy(ctx, src, dst))
		got, info := getBytes(ctx, t, store, dst)
		require.Equal(t, "a;b\n1;2\n", string(got))
		require.Equal(t, "text/csv", info.ContentType)
		_, err = store.Stat(ctx, src)
		require.NoError(t, err, "the source stays")

		err = store.Copy(ctx, newKey("csv"), newKey("csv"))
		require.ErrorIs(t, err, blob.ErrNotFound)
	})
}

func TestStore_Delete(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, store blob.Store) {
		ctx := t.Context()
		key := newKey("csv")
		_, err := store.Put(ctx, key, strings.NewReader("x"), 1, "text/csv")
		require.NoError(t, err)
		require.NoError(t, store.Delete(ctx, key))
		_, err = store.Stat(ctx, key)
		require.ErrorIs(t, err, blob.ErrNotFound)
		require.NoError(t, store.Delete(ctx, key), "deleting a missing key is not an error")
	})
}

func TestStore_InvalidKey(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, store blob.Store) {
		ctx := t.Context()
		for _, key := range []string{"../x", "/abs", `a\b`, "uploads/../../etc/passwd", "a//b", "a/", ""} {
			_, err := store.Put(ctx, key, strings.NewReader("x"), 1, "")
			require.ErrorIs(t, err, blob.ErrInvalidKey, key)
			_, _, err = store.Get(ctx, key)
			require.ErrorIs(t, err, blob.ErrInvalidKey, key)
			_, err = store.Stat(ctx, key)
			require.ErrorIs(t, err, blob.ErrInvalidKey, key)
			require.ErrorIs(t, store.Copy(ctx, key, "ok"), blob.ErrInvalidKey, key)
			require.ErrorIs(t, store.Copy(ctx, "ok", key), blob.ErrInvalidKey, key)
			require.ErrorIs(t, store.Delete(ctx, key), blob.ErrInvalidKey, key)
			_, _, err = store.PresignGet(ctx, key, time.Minute, "")
			require.ErrorIs(t, err, blob.ErrInvalidKey, key)
		}
	})
}

func TestStore_NotFound(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, store blob.Store) {
		ctx := t.Context()
		key := newKey("csv")
		_, _, err := store.Get(ctx, key)
		require.ErrorIs(t, err, blob.ErrNotFound)
		_, err = store.Stat(ctx, key)
		require.ErrorIs(t, err, blob.ErrNotFound)
		_, err = store.Stat(ctx, "uploads")
		require.ErrorIs(t, err, blob.ErrNotFound, "a key prefix (local: a directory) is not an object")
	})
}

func TestStore_Overwrite(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, store blob.Store) {
		ctx := t.Context()
		key := newKey("csv")
		first, err := store.Put(ctx, key, strings.NewReader("first version"), 13, "text/csv")
		require.NoError(t, err)
		second, err := store.Put(ctx, key, strings.NewReader("2nd"), 3, "text/plain")
		require.NoError(t, err)
		require.NotEqual(t, first.ETag, second.ETag)

		got, info := getBytes(ctx, t, store, key)
		require.Equal(t, "2nd", string(got))
		require.Equal(t, "text/plain", info.ContentType)
		require.Equal(t, int64(3), info.Size)
		require.Equal(t, second.ETag, info.ETag)
	})
}

func TestStore_PresignGet(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, store blob.Store) {
		ctx := t.Context()
		key := newKey("csv")
		_, err := store.Put(ctx, key, strings.NewReader("a;b\n"), 4, "text/csv")
		require.NoError(t, err)

		u, ok, err := store.PresignGet(ctx, key, 5*time.Minute, "Bilan carbone 2025.csv")
		require.NoError(t, err)
		if _, local := store.(*blob.Local); local {
			require.False(t, ok, "the local backend streams instead")
			require.Empty(t, u)
			return
		}
		require.True(t, ok)

		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		fetch := func(u string) (*http.Response, []byte) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
			require.NoError(t, err)
			resp, err := client.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			return resp, body
		}

		resp, body := fetch(u)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		require.Equal(t, "a;b\n", string(body))
		require.Equal(t, "text/csv", resp.Header.Get("Content-Type"))
		require.Equal(t, `attachment; filename="Bilan carbone 2025.csv"`, resp.Header.Get("Content-Disposition"))

		// A flipped signature character, and a URL re-pointed at another key.
		parsed, err := url.Parse(u)
		require.NoError(t, err)
		q := parsed.Query()
		sig := q.Get("X-Amz-Signature")
		last := "0"
		if strings.HasSuffix(sig, "0") {
			last = "1"
		}
		q.Set("X-Amz-Signature", sig[:len(sig)-1]+last)
		parsed.RawQuery = q.Encode()
		resp, body = fetch(parsed.String())
		require.Equal(t, http.StatusForbidden, resp.StatusCode, string(body))

		other := newKey("csv")
		_, err = store.Put(ctx, other, strings.NewReader("secret"), 6, "text/csv")
		require.NoError(t, err)
		resp, _ = fetch(strings.Replace(u, key, other, 1))
		require.Equal(t, http.StatusForbidden, resp.StatusCode)

		_, _, err = store.PresignGet(ctx, key, 0, "")
		require.Error(t, err)
		_, _, err = store.PresignGet(ctx, key, 8*24*time.Hour, "")
		require.Error(t, err)
	})
}

func TestStore_PutGet(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, store blob.Store) {
		ctx := t.Context()
		key := newKey("csv")
		body := "unit;kg\nENAC;12.5\n"
		start := time.Now().Add(-time.Minute)
		info, err := store.Put(ctx, key, strings.NewReader(body), int64(len(body)), "text/csv")
		require.NoError(t, err)
		require.Equal(t, key, info.Key)
		require.Equal(t, int64(len(body)), info.Size)
		require.NotEmpty(t, info.ETag)
		require.True(t, info.ModTime.After(start), info.ModTime)

		got, getInfo := getBytes(ctx, t, store, key)
		require.Equal(t, body, string(got))
		require.Equal(t, info.Size, getInfo.Size)
		require.Equal(t, info.ETag, getInfo.ETag)

		stat, err := store.Stat(ctx, key)
		require.NoError(t, err)
		require.Equal(t, info.Key, stat.Key)
		require.Equal(t, info.Size, stat.Size)
		require.Equal(t, "text/csv", stat.ContentType)
		require.Equal(t, info.ETag, stat.ETag)
		require.WithinDuration(t, info.ModTime, stat.ModTime, time.Second)

		empty := newKey("csv")
		_, err = store.Put(ctx, empty, strings.NewReader(""), 0, "text/csv")
		require.NoError(t, err)
		got, _ = getBytes(ctx, t, store, empty)
		require.Empty(t, got)
	})
}

func TestStore_PutLargeStream(t *testing.T) {
	t.Parallel()
	// 20 MiB (known size, above the 16 MiB multipart threshold), 32 MiB
	// (exactly two parts) and 20 MiB of unknown size, from a generator.
	for _, tc := range []struct {
		name     string
		n        int64
		sizeArg  int64
		wantSize int64
	}{
		{"known20MiB", 20 * mib, 20 * mib, 20 * mib},
		{"knownOneFullPart", blob.PartSize, blob.PartSize, blob.PartSize},
		{"knownTwoFullParts", 2 * blob.PartSize, 2 * blob.PartSize, 2 * blob.PartSize},
		{"unknown20MiB", 20 * mib, -1, 20 * mib},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			eachBackend(t, func(t *testing.T, store blob.Store) {
				ctx := t.Context()
				key := newKey("csv")
				info, err := store.Put(ctx, key, newGen(uint64(tc.n), tc.n), tc.sizeArg, "text/csv")
				require.NoError(t, err)
				require.Equal(t, tc.wantSize, info.Size)
				sum, n, getInfo := readSHA(ctx, t, store, key)
				require.Equal(t, tc.wantSize, n)
				require.Equal(t, tc.wantSize, getInfo.Size)
				require.Equal(t, genSHA(t, uint64(tc.n), tc.n), sum)
			})
		})
	}
}

func TestStore_PutSizeMismatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		n, size int64
	}{
		{"shortSmall", 5, 10},
		{"longSmall", 11, 10},
		{"shortLarge", 17 * mib, 20 * mib},
		{"longLarge", 20 * mib, 17 * mib},
		{"longOnePart", blob.PartSize + 1, blob.PartSize},
		{"longTwoParts", 2*blob.PartSize + 1, 2 * blob.PartSize},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			eachBackend(t, func(t *testing.T, store blob.Store) {
				ctx := t.Context()
				key := newKey("csv")
				_, err := store.Put(ctx, key, newGen(1, tc.n), tc.size, "text/csv")
				require.ErrorIs(t, err, blob.ErrSizeMismatch)
				_, err = store.Stat(ctx, key)
				require.ErrorIs(t, err, blob.ErrNotFound, "nothing is stored")
			})
		})
	}
}

func TestStore_PutUnknownSizeSmall(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, store blob.Store) {
		ctx := t.Context()
		key := newKey("csv")
		// A reader of unknown length (no Len, Seek or WriteTo).
		info, err := store.Put(ctx, key, io.MultiReader(strings.NewReader("a;"), strings.NewReader("b\n")), -1, "text/csv")
		require.NoError(t, err)
		require.Equal(t, int64(4), info.Size)
		got, _ := getBytes(ctx, t, store, key)
		require.Equal(t, "a;b\n", string(got))
	})
}

func TestLocal_Layout(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cfg := blobtest.Local(t)
	store, err := blob.NewLocal(cfg.LocalDir)
	require.NoError(t, err)
	_, err = store.Put(ctx, "exports/abc.xlsx", bytes.NewReader([]byte("PK")), 2, "application/zip")
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(store.Root(), "exports", "abc.xlsx"))
	require.NoError(t, err)
	require.Equal(t, "PK", string(got), "keys map to plain files under the root")
}

func TestS3_Prefix(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cfg := blobtest.S3(t)
	store := newStore(t, cfg)
	key := newKey("csv")
	_, err := store.Put(ctx, key, strings.NewReader("x"), 1, "text/csv")
	require.NoError(t, err)

	bare := cfg
	bare.Prefix = ""
	unprefixed := newStore(t, bare)
	info, err := unprefixed.Stat(ctx, cfg.Prefix+"/"+key)
	require.NoError(t, err, "objects live under S3_PREFIX")
	require.Equal(t, int64(1), info.Size)
	_, err = unprefixed.Stat(ctx, key)
	require.ErrorIs(t, err, blob.ErrNotFound)
}

func TestS3_CheckFails(t *testing.T) {
	t.Parallel()
	ctx := t.Context()

	cfg := blobtest.S3(t)
	cfg.Bucket = "no-such-bucket-" + strings.ToLower(uuid.NewString()[:8])
	require.Error(t, newStore(t, cfg).Check(ctx), "missing bucket")

	cfg = blobtest.S3(t)
	cfg.SecretAccessKey = "wrong-secret"
	store := newStore(t, cfg)
	require.Error(t, store.Check(ctx), "bad credentials")
	_, err := store.Put(ctx, newKey("csv"), strings.NewReader("x"), 1, "")
	require.Error(t, err)
	require.NotErrorIs(t, err, blob.ErrNotFound)
}

func TestNew(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	for _, tc := range []struct {
		name string
		cfg  blob.Config
	}{
		{"unknownBackend", blob.Config{Backend: "gcs"}},
		{"localWithoutDir", blob.Config{Backend: blob.BackendLocal}},
		{"s3WithoutBucket", blob.Config{Backend: blob.BackendS3}},
		{"s3BadEndpoint", blob.Config{Backend: blob.BackendS3, Bucket: "b", Endpoint: "127.0.0.1:9000"}},
		{"s3HalfCredentials", blob.Config{Backend: blob.BackendS3, Bucket: "b", AccessKeyID: "k"}},
		{"s3BadPrefix", blob.Config{Backend: blob.BackendS3, Bucket: "b", Prefix: "../x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := blob.New(ctx, tc.cfg)
			require.Error(t, err)
		})
	}

	t.Run("defaultsToLocal", func(t *testing.T) {
		t.Parallel()
		store, err := blob.New(ctx, blob.Config{LocalDir: t.TempDir()})
		require.NoError(t, err)
		require.IsType(t, &blob.Local{}, store)
	})
}

func TestValidateKey(t *testing.T) {
	t.Parallel()
	for _, key := range []string{
		"uploads/2025/0f8fad5b-d9cb-469f-a165-70867728950e.csv",
		"exports/0f8fad5b-d9cb-469f-a165-70867728950e.xlsx",
		"a", "A_b-c.d/e",
	} {
		require.NoError(t, blob.ValidateKey(key), key)
	}
	for _, key := range []string{
		"", "../x", "..", ".", "a/../b", "a/./b", "/abs", `a\b`, "a//b", "a/", ".hidden",
		"a/.tmp-1", "a b", "a?b", "a%2e", "é", "a\x00b", strings.Repeat("a", blob.MaxKeyLength+1),
	} {
		require.ErrorIs(t, blob.ValidateKey(key), blob.ErrInvalidKey, key)
	}
}
