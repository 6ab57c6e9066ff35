// Package web embeds the single-page application (Vue 3 + Quasar, sources in
// this directory) and serves it with history-mode fallback.
//
// Layout of dist/ (riverui style: the Go build never needs npm):
//
//	dist/index.html   committed stub ("SPA not built: run make web/build")
//	dist/spa/...      output of `quasar build` (git-ignored), preferred when present
//
// The binary embeds all of dist/ and serves dist/spa/ when it holds an
// index.html, otherwise the stub. A directory given to [Handler] (the SPA_DIR
// setting) replaces the embedded files; it is the root of a built SPA, i.e. the
// directory holding index.html and assets/.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"
	"time"
)

//go:embed all:dist
var distFS embed.FS

const (
	indexFile = "index.html"
	// assetsDir holds Vite's content-hashed files; they never change in place.
	assetsDir = "assets/"

	cacheImmutable = "public, max-age=31536000, immutable"
	cacheNoCache   = "no-cache"
)

// reservedRoots are server paths (and everything below them) that the SPA
// must never answer, not even with the history fallback: a typo in an API
// path has to stay a 404.
var reservedRoots = []string{"/api", "/healthz", "/readyz", "/dev-oidc", "/system"}

// Embedded returns the embedded SPA: dist/spa when it was built before
// `go build`, else the stub directory dist/ (index.html only).
func Embedded() fs.FS {
	if spa, err := fs.Sub(distFS, "dist/spa"); err == nil {
		if _, err := fs.Stat(spa, indexFile); err == nil {
			return spa
		}
	}
	stub, err := fs.Sub(distFS, "dist")
	if err != nil { // cannot happen: "dist" is a valid, embedded path
		panic(err)
	}
	return stub
}

// CSP is the Content-Security-Policy of the SPA: its own scripts and
// stylesheets only (no inline or evaluated script, no inline <style>),
// inline style attributes (Quasar's and ECharts' positioning), images and
// fonts from itself or data:/blob: URLs (ECharts' image export), API calls
// to itself and to connectSrc (the error-reporting host), no plugins, no
// framing.
func CSP(connectSrc ...string) string {
	connect := strings.Join(append([]string{"'self'"}, connectSrc...), " ")
	return "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; " +
		"img-src 'self' data: blob:; font-src 'self' data:; connect-src " + connect + "; worker-src 'self' blob:; " +
		"manifest-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
}

// Handler serves the SPA: the embedded build, or the directory dir when dir
// is not empty (SPA_DIR). connectSrc are the origins besides its own the
// SPA may send requests to (the APP_SENTRY_DSN host).
//
//   - Files under /assets/ get "Cache-Control: public, max-age=31536000,
//     immutable" (their names carry a content hash); a missing asset is a 404.
//   - index.html and the other files get "Cache-Control: no-cache" with an
//     ETag (embedded) or Last-Modified (directory) for revalidation.
//   - Any other GET/HEAD path that is not a file answers index.html with 200,
//     so that client-side routes such as /en/workspace survive a reload.
//   - Paths under /api/, /healthz, /readyz, /dev-oidc/ and /system/ are never
//     handled: 404 (with the API's JSON error envelope under /api/).
//   - Methods other than GET and HEAD get 405.
//   - Every answer carries the security headers: CSP(connectSrc...),
//     X-Frame-Options DENY, Referrer-Policy same-origin,
//     X-Content-Type-Options nosniff.
func Handler(dir string, connectSrc ...string) http.Handler {
	var h *handler
	if dir != "" {
		h = newHandler(os.DirFS(dir), false)
	} else {
		h = newHandler(Embedded(), true)
	}
	h.csp = CSP(connectSrc...)
	return h
}

type handler struct {
	csp   string
	files fs.FS
	// etags holds a strong ETag per file of an embedded FS (whose files have
	// no modification time); nil for a directory, where Last-Modified is used.
	etags map[string]string
}

func newHandler(files fs.FS, embedded bool) *handler {
	h := &handler{files: files, csp: CSP()}
	if embedded {
		h.etags = map[string]string{}
		// Errors only leave a file without an ETag; serving still works.
		_ = fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil //nolint:nilerr // best effort
			}
			b, err := fs.ReadFile(files, name)
			if err != nil {
				return nil //nolint:nilerr // best effort
			}
			sum := sha256.Sum256(b)
			h.etags[name] = `"` + hex.EncodeToString(sum[:12]) + `"`
			return nil
		})
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", h.csp)
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Referrer-Policy", "same-origin")
	hdr.Set("X-Content-Type-Options", "nosniff")
	urlPath := path.Clean("/" + r.URL.Path)
	if reserved(urlPath) {
		notFound(w, r, urlPath)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}

	name := strings.TrimPrefix(urlPath, "/")
	if name == "" {
		name = indexFile
	}
	if h.serveFile(w, r, name) {
		return
	}
	if strings.HasPrefix(name, assetsDir) {
		// Never answer HTML for a missing script or stylesheet.
		notFound(w, r, urlPath)
		return
	}
	if !h.serveFile(w, r, indexFile) {
		notFound(w, r, urlPath)
	}
}

// serveFile writes the regular file name and reports whether it existed.
func (h *handler) serveFile(w http.ResponseWriter, r *http.Request, name string) bool {
	f, err := h.files.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		return false
	}
	content, ok := f.(io.ReadSeeker)
	if !ok {
		b, err := io.ReadAll(f)
		if err != nil {
			return false
		}
		content = bytes.NewReader(b)
	}

	hdr := w.Header()
	if strings.HasPrefix(name, assetsDir) {
		hdr.Set("Cache-Control", cacheImmutable)
	} else {
		hdr.Set("Cache-Control", cacheNoCache)
	}
	if ct, ok := contentTypes[path.Ext(name)]; ok {
		hdr.Set("Content-Type", ct)
	}
	hdr.Set("X-Content-Type-Options", "nosniff")
	modTime := info.ModTime()
	if etag, ok := h.etags[name]; ok {
		hdr.Set("ETag", etag)
		modTime = time.Time{}
	}
	http.ServeContent(w, r, name, modTime, content)
	return true
}

// contentTypes complements mime.TypeByExtension, whose built-in table lacks
// fonts and icons (distroless images have no /etc/mime.types).
var contentTypes = map[string]string{
	".ico":         "image/x-icon",
	".ttf":         "font/ttf",
	".webmanifest": "application/manifest+json",
	".woff":        "font/woff",
	".woff2":       "font/woff2",
}

func reserved(cleanPath string) bool {
	for _, root := range reservedRoots {
		if cleanPath == root || strings.HasPrefix(cleanPath, root+"/") {
			return true
		}
	}
	return false
}

// notFound answers 404, with the API's error envelope under /api/.
func notFound(w http.ResponseWriter, r *http.Request, urlPath string) {
	if urlPath == "/api" || strings.HasPrefix(urlPath, "/api/") {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"error":{"code":"not_found","message":"no such route","details":[]}}`+"\n")
		return
	}
	http.NotFound(w, r)
}
