package web_test

import (
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/web"
)

const (
	cacheImmutable = "public, max-age=31536000, immutable"
	cacheNoCache   = "no-cache"
)

func serve(t *testing.T, h http.Handler, method, target string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	maps.Copy(req.Header, header)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// embeddedIndex is the index.html that Handler("") must answer: the stub,
// or the real SPA when `make web/build` ran before the tests.
func embeddedIndex(t *testing.T) string {
	t.Helper()
	b, err := fs.ReadFile(web.Embedded(), "index.html")
	require.NoError(t, err)
	return string(b)
}

func TestEmbedded(t *testing.T) {
	t.Parallel()

	index := embeddedIndex(t)
	if _, err := fs.Stat(web.Embedded(), "assets"); err != nil {
		require.Contains(t, index, "SPA not built", "without dist/spa the stub is embedded")
	} else {
		require.Contains(t, index, "q-app", "with dist/spa the built SPA is embedded")
	}
}

func TestHandlerEmbedded(t *testing.T) {
	t.Parallel()

	h := web.Handler("")
	index := embeddedIndex(t)

	t.Run("FallbackForClientRoutes", func(t *testing.T) {
		t.Parallel()
		for _, target := range []string{"/en/workspace", "/fr/u/12/2024/modules/headcount?x=1", "/apis", "/index.html/x"} {
			rec := serve(t, h, http.MethodGet, target, nil)
			require.Equal(t, http.StatusOK, rec.Code, target)
			require.Equal(t, index, rec.Body.String(), target)
			require.Equal(t, cacheNoCache, rec.Header().Get("Cache-Control"), target)
			require.True(t, strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html"), target)
		}
	})

	t.Run("HeadWithoutBody", func(t *testing.T) {
		t.Parallel()
		rec := serve(t, h, http.MethodHead, "/en/login", nil)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Empty(t, rec.Body.String())
	})

	t.Run("IndexRevalidatesWithETag", func(t *testing.T) {
		t.Parallel()
		rec := serve(t, h, http.MethodGet, "/", nil)
		etag := rec.Header().Get("ETag")
		require.NotEmpty(t, etag)

		rec = serve(t, h, http.MethodGet, "/en/workspace", http.Header{"If-None-Match": {etag}})
		require.Equal(t, http.StatusNotModified, rec.Code)
		require.Empty(t, rec.Body.String())
	})

	t.Run("MethodNotAllowed", func(t *testing.T) {
		t.Parallel()
		rec := serve(t, h, http.MethodPost, "/en/workspace", nil)
		require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
		require.Equal(t, "GET, HEAD", rec.Header().Get("Allow"))
	})

	t.Run("ReservedPathsAre404", func(t *testing.T) {
		t.Parallel()
		for _, target := range []string{
			"/api", "/api/", "/api/v1/x", "/api/v1/pipelines/1/events",
			"/healthz", "/readyz", "/readyz/x", "/dev-oidc/authorize", "/system/metrics",
			"/en/../api/v1/x", // cleaned before the check
		} {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				rec := serve(t, h, method, target, nil)
				require.Equal(t, http.StatusNotFound, rec.Code, "%s %s", method, target)
				require.NotContains(t, rec.Body.String(), "<html", "%s %s", method, target)
			}
		}
		rec := serve(t, h, http.MethodGet, "/api/v1/x", nil)
		require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
		require.JSONEq(t, `{"error":{"code":"not_found","message":"no such route","details":[]}}`, rec.Body.String())
	})

	t.Run("StubServedAtRoot", func(t *testing.T) {
		t.Parallel()
		rec := serve(t, h, http.MethodGet, "/", nil)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, index, rec.Body.String())
		require.Equal(t, cacheNoCache, rec.Header().Get("Cache-Control"))
		require.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
		require.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
	})
}

func TestHandlerDir(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		dir string
		h   http.Handler
	}
	setup := func(t *testing.T, files map[string]string) *testBundle {
		t.Helper()
		dir := t.TempDir()
		for name, content := range files {
			p := filepath.Join(dir, filepath.FromSlash(name))
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		}
		return &testBundle{dir: dir, h: web.Handler(dir)}
	}
	built := map[string]string{
		"index.html":                   `<!doctype html><div id="q-app"></div>`,
		"assets/index-B1a2c3D4.js":     `console.log("app")`,
		"assets/index-Zz9y8X7w.css":    `body{}`,
		"assets/roboto-Ab12Cd34.woff2": "wOF2",
		"favicon.svg":                  `<svg xmlns="http://www.w3.org/2000/svg"/>`,
	}

	t.Run("DirectoryWithoutIndexIs404", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t, map[string]string{"assets/a-1.js": "x"})
		rec := serve(t, bundle.h, http.MethodGet, "/en/workspace", nil)
		require.Equal(t, http.StatusNotFound, rec.Code)
	})

	t.Run("DirectoryIsNotAFile", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t, built)
		for _, target := range []string{"/assets", "/assets/"} {
			rec := serve(t, bundle.h, http.MethodGet, target, nil)
			require.Equal(t, http.StatusOK, rec.Code, target)
			require.Equal(t, built["index.html"], rec.Body.String(), "no directory listing for %s", target)
		}
	})

	t.Run("FallbackAndIndex", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t, built)
		for _, target := range []string{"/", "/index.html", "/en/workspace", "/fr/about", "/../../etc/passwd"} {
			rec := serve(t, bundle.h, http.MethodGet, target, nil)
			require.Equal(t, http.StatusOK, rec.Code, target)
			require.Equal(t, built["index.html"], rec.Body.String(), target)
			require.Equal(t, cacheNoCache, rec.Header().Get("Cache-Control"), target)
			require.NotEmpty(t, rec.Header().Get("Last-Modified"), target)
		}
	})

	t.Run("HashedAssetsAreImmutable", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t, built)
		for target, contentType := range map[string]string{
			"/assets/index-B1a2c3D4.js":     "text/javascript; charset=utf-8",
			"/assets/index-Zz9y8X7w.css":    "text/css; charset=utf-8",
			"/assets/roboto-Ab12Cd34.woff2": "font/woff2",
		} {
			rec := serve(t, bundle.h, http.MethodGet, target, nil)
			require.Equal(t, http.StatusOK, rec.Code, target)
			require.Equal(t, built[strings.TrimPrefix(target, "/")], rec.Body.String(), target)
			require.Equal(t, cacheImmutable, rec.Header().Get("Cache-Control"), target)
			require.Equal(t, contentType, rec.Header().Get("Content-Type"), target)
		}
	})

	t.Run("MissingAssetIs404", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t, built)
		rec := serve(t, bundle.h, http.MethodGet, "/assets/index-OLDHASH.js", nil)
		require.Equal(t, http.StatusNotFound, rec.Code)
		require.Empty(t, rec.Header().Get("Cache-Control"), "a 404 must not be cached as immutable")
	})

	t.Run("OtherFilesRevalidate", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t, built)
		rec := serve(t, bundle.h, http.MethodGet, "/favicon.svg", nil)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, cacheNoCache, rec.Header().Get("Cache-Control"))
		require.Equal(t, "image/svg+xml", rec.Header().Get("Content-Type"))
	})

	t.Run("ReservedPathsAre404", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t, map[string]string{"index.html": "x", "api/v1/version": "shadowed"})
		rec := serve(t, bundle.h, http.MethodGet, "/api/v1/version", nil)
		require.Equal(t, http.StatusNotFound, rec.Code, "a file under api/ in the directory is never served")
	})
}
