// Package devoidc is the built-in development OIDC provider (docs/api.md §3):
// a real issuer built on zitadel/oidc v3 pkg/op, mounted by cmd/api under
// /dev-oidc when DEV_OIDC_ENABLED is true. Its login page offers the
// fixture users of docs/domain.md §2.1 as buttons; the standard login_hint
// parameter (a fixture key such as "principal") skips the page, so scripts
// and tests log in through the real /auth/login → /dev-oidc → /auth/callback
// redirects. It keeps everything in memory and signs with a per-process
// ES256 key. Never use it in production: cmd/api refuses it there.
package devoidc

import (
	"context"
	"crypto/rand"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/co2-calculator/co2-calculator/pkg/auth"
)

// Fixed client credentials of the API's relying party (development only).
const (
	ClientID     = "co2-calculator-dev"
	ClientSecret = "co2-calculator-dev-secret"
)

// Prefix is where cmd/api mounts the provider.
const Prefix = "/dev-oidc"

// Provider is the development OIDC provider.
type Provider struct {
	issuer  string
	storage *storage
	inner   http.Handler
}

// New builds a provider whose issuer is publicBaseURL + Prefix and whose
// only client redirects to publicBaseURL + /api/v1/auth/callback.
func New(publicBaseURL string, logger *slog.Logger) (*Provider, error) {
	issuer := strings.TrimRight(publicBaseURL, "/") + Prefix
	st, err := newStorage(issuer, strings.TrimRight(publicBaseURL, "/")+"/api/v1/auth/callback")
	if err != nil {
		return nil, err
	}
	var key [32]byte
	_, _ = rand.Read(key[:])
	cfg := &op.Config{
		CryptoKey:          key,
		CodeMethodS256:     true,
		AuthMethodPost:     true,
		SupportedUILocales: []language.Tag{language.English},
	}
	opts := []op.Option{op.WithAllowInsecure()}
	if logger != nil {
		opts = append(opts, op.WithLogger(logger))
	}
	o, err := op.NewProvider(cfg, st, op.StaticIssuer(issuer), opts...)
	if err != nil {
		return nil, err
	}
	p := &Provider{issuer: issuer, storage: st}
	r := chi.NewRouter()
	r.Get("/login", p.loginPage)
	r.Post("/login", p.loginSubmit)
	r.Mount("/", o)
	p.inner = http.StripPrefix(Prefix, r)
	return p, nil
}

// Issuer is the issuer URL.
func (p *Provider) Issuer() string { return p.issuer }

// ServeHTTP serves requests whose path starts with Prefix.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Route from scratch: an enclosing chi router's context must not leak
	// into the provider's own routers.
	r = r.WithContext(context.WithValue(r.Context(), chi.RouteCtxKey, nil))
	p.inner.ServeHTTP(w, r)
}

// Transport returns an http.RoundTripper that serves requests for the
// issuer in-process (discovery, JWKS, token), so the API's relying party
// never needs to reach its own public URL over the network.
func (p *Provider) Transport() http.RoundTripper { return inProcess{p: p} }

type inProcess struct{ p *Provider }

func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := newRecorder()
	r := req.Clone(req.Context())
	r.RequestURI = req.URL.RequestURI()
	if r.Body == nil {
		r.Body = http.NoBody
	}
	t.p.ServeHTTP(rec, r)
	return rec.result(req), nil
}

var pageTmpl = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Development sign-in</title>
<style>body{font-family:sans-serif;max-width:32rem;margin:3rem auto}button{display:block;width:100%;margin:.5rem 0;padding:.75rem;font-size:1rem;text-align:left}</style>
</head><body>
<h1>Development sign-in</h1>
<p>Built-in development identity provider. Pick a fixture user.</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="id" value="{{.ID}}">
{{range .Users}}<button type="submit" name="user" value="{{.Key}}" id="user-{{.Key}}">{{.Name}} <small>({{.Key}}, {{.Sciper}})</small></button>
{{end}}</form>
{{if .Error}}<p role="alert">{{.Error}}</p>{{end}}
</body></html>`))

func (p *Provider) render(w http.ResponseWriter, id, msg string, status int) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, map[string]any{"Action": p.issuer + "/login", "ID": id, "Users": auth.DevUsers, "Error": msg})
}

// loginPage shows the user picker, or completes the login at once when
// the auth request carries a known login_hint.
func (p *Provider) loginPage(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("authRequestID")
	req, ok := p.storage.request(id)
	if !ok {
		p.render(w, "", "unknown or expired authorization request", http.StatusBadRequest)
		return
	}
	if u, ok := auth.DevUserByKey(req.loginHint); ok {
		p.complete(w, r, id, u)
		return
	}
	p.render(w, id, "", http.StatusOK)
}

func (p *Provider) loginSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.render(w, "", "bad form", http.StatusBadRequest)
		return
	}
	id := r.PostForm.Get("id")
	u, ok := auth.DevUserByKey(r.PostForm.Get("user"))
	if !ok {
		p.render(w, id, "unknown user", http.StatusBadRequest)
		return
	}
	p.complete(w, r, id, u)
}

func (p *Provider) complete(w http.ResponseWriter, r *http.Request, id string, u auth.DevUser) {
	if !p.storage.authenticate(id, u.Sciper) {
		p.render(w, "", "unknown or expired authorization request", http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, p.issuer+"/authorize/callback?id="+url.QueryEscape(id), http.StatusFound)
}
