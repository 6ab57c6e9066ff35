package httpapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/auth"
	"github.com/co2-calculator/co2-calculator/pkg/httpapi"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

// testClock is real time plus an offset that tests advance (the dev OIDC
// provider signs with the real clock).
type testClock struct{ offset atomic.Int64 }

func (c *testClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *testClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// authEnv is the API on a real listener with the built-in dev OIDC
// provider: logins run the production code path.
type authEnv struct {
	srv    *httptest.Server
	schema testdb.Schema
	clock  *testClock
	keys   auth.Keys
	deps   httpapi.Deps
	// With authEnvOpts.sessionCache: the auth_changes payloads the
	// listener delivered (after the cache applied them), and its states.
	listener    *pipeline.Listener
	listenerApp string
	notified    chan string
	states      chan bool
}

type authEnvOpts struct {
	roleProvider string
	accred       *auth.Accred
	// sessionCache turns the session cache on, fed by a pipeline listener
	// as in cmd/api (authEnv.notified, authEnv.states).
	sessionCache bool
}

func newAuthEnv(t *testing.T, o *authEnvOpts) *authEnv {
	t.Helper()
	if o == nil {
		o = &authEnvOpts{}
	}
	ctx := t.Context()
	schema := testdb.TestSchema
	if o.sessionCache {
		// A database of its own: the session cache's tests assert that
		// nothing else evicted it, and every schema of a database shares
		// the auth_changes channel (other tests' logins notify user ids
		// that exist here too).
		schema = testdb.TestDatabase
	}
	e := &authEnv{schema: schema(ctx, t), clock: &testClock{}, keys: auth.GenerateKeys()}
	var h atomic.Value
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.Load().(http.Handler).ServeHTTP(w, r) //nolint:forcetypeassert // test
	}))
	t.Cleanup(e.srv.Close)
	provider := o.roleProvider
	if provider == "" {
		provider = auth.ProviderDev
	}
	ad, err := httpapi.NewAuth(ctx, httpapi.AuthOptions{
		DB: e.schema.Pool, PublicBaseURL: e.srv.URL, Keys: e.keys,
		AccessTTL: 15 * time.Minute, RefreshTTL: 24 * time.Hour, SessionMaxAge: 7 * 24 * time.Hour,
		DevOIDC: true, RoleProvider: provider, Accred: o.accred, Now: e.clock.Now, Logger: testLogger(),
		SessionCacheTTL: cacheTTL(o.sessionCache),
	})
	require.NoError(t, err)
	if o.sessionCache {
		e.startCacheListener(t, ad.Service)
	}
	if provider != auth.ProviderDev {
		require.NoError(t, auth.UpsertDevUnits(ctx, e.schema.Pool, time.Now()))
	}
	e.deps = httpapi.Deps{Pool: e.schema.Pool, Logger: testLogger(), Ready: ready, Auth: ad,
		PublicBaseURL: e.srv.URL, Actor: httpapi.PrincipalActor, Listener: e.listener}
	h.Store(httpapi.NewRouter(e.deps))
	return e
}

// session is a logged-in client: the cookies the API set at login.
type session struct {
	env     *authEnv
	cookies map[string]*http.Cookie // by name (the /api copy of auth_token)
	last    *http.Response          // the callback response
}

// client follows redirects inside the login flow and stops at the final
// redirect (to return_to or a login error page).
func (e *authEnv) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.Path, "/dev-oidc/") || req.URL.Path == "/api/v1/auth/callback" {
			return nil
		}
		return http.ErrUseLastResponse
	}}
}

// login runs /auth/login?login_hint=key through the dev provider and the
// callback, like a browser, and returns the session.
func (e *authEnv) login(t *testing.T, key string) *session {
	t.Helper()
	s, resp := e.loginTo(t, key, "/")
	require.Equal(t, "/", resp.Header.Get("Location"))
	return s
}

func (e *authEnv) loginTo(t *testing.T, key, returnTo string) (*session, *http.Response) {
	t.Helper()
	c := e.client()
	u := e.srv.URL + "/api/v1/auth/login?login_hint=" + url.QueryEscape(key) + "&return_to=" + url.QueryEscape(returnTo)
	resp := get(t, c, u)
	require.Equal(t, http.StatusFound, resp.StatusCode, "final redirect of the login")
	s := &session{env: e, cookies: map[string]*http.Cookie{}, last: resp}
	for _, ck := range resp.Cookies() {
		if ck.Name == "auth_token" && ck.Path != "/api" {
			continue
		}
		s.cookies[ck.Name] = ck
	}
	return s, resp
}

func get(t *testing.T, c *http.Client, u string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	require.NoError(t, err)
	resp, err := c.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp
}

// do sends a request with the session cookies and the CSRF header.
func (s *session) do(t *testing.T, method, path string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	h := http.Header{}
	maps.Copy(h, header)
	var parts []string
	for _, name := range []string{"auth_token", "refresh_token", "csrf_token"} {
		if c, ok := s.cookies[name]; ok && c.Value != "" {
			parts = append(parts, name+"="+c.Value)
		}
	}
	if len(parts) > 0 && h.Get("Cookie") == "" {
		h.Set("Cookie", strings.Join(parts, "; "))
	}
	if c, ok := s.cookies["csrf_token"]; ok && h.Get("X-Csrf-Token") == "" {
		h.Set("X-Csrf-Token", c.Value)
	}
	return serve(t, httpapi.NewRouter(s.env.deps), method, path, h)
}

// refresh posts /auth/refresh and adopts the new cookies on success.
func (s *session) refresh(t *testing.T) *httptest.ResponseRecorder {
	t.Helper()
	rec := s.do(t, http.MethodPost, "/api/v1/auth/refresh", nil)
	if rec.Code == http.StatusNoContent {
		for _, ck := range rec.Result().Cookies() {
			if ck.Name == "auth_token" && ck.Path != "/api" {
				continue
			}
			s.cookies[ck.Name] = ck
		}
	}
	return rec
}

func (s *session) clone() *session {
	c := &session{env: s.env, cookies: map[string]*http.Cookie{}}
	for k, v := range s.cookies {
		cp := *v
		c.cookies[k] = &cp
	}
	return c
}

func errorCode(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	return requireErrorEnvelope(t, rec).Error.Code
}

func TestLoginFlow(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, nil)

	t.Run("CookiesAndMe", func(t *testing.T) {
		t.Parallel()
		s := e.login(t, "principal")
		a, r, c := s.cookies["auth_token"], s.cookies["refresh_token"], s.cookies["csrf_token"]
		require.NotNil(t, a)
		require.True(t, a.HttpOnly)
		require.Equal(t, "/api", a.Path)
		require.Equal(t, 900, a.MaxAge)
		require.Equal(t, http.SameSiteLaxMode, a.SameSite)
		require.True(t, r.HttpOnly)
		require.Equal(t, "/api/v1/auth", r.Path)
		require.Equal(t, 86400, r.MaxAge)
		require.False(t, c.HttpOnly, "the SPA reads csrf_token")
		require.Equal(t, "/", c.Path)
		require.Equal(t, 7*86400, c.MaxAge)
		require.False(t, a.Secure, "COOKIE_SECURE=false in this environment")

		rec := s.do(t, http.MethodGet, "/api/v1/me", nil)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var me struct {
			User struct {
				Sciper      string  `json:"sciper"`
				Email       string  `json:"email"`
				Provider    string  `json:"provider"`
				LastLoginAt *string `json:"last_login_at"`
			} `json:"user"`
			Roles           []map[string]any `json:"roles"`
			Permissions     []map[string]any `json:"permissions"`
			BackofficePages []string         `json:"backoffice_pages"`
			IsDevUser       bool             `json:"is_dev_user"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &me))
		require.Equal(t, "DEV-000002", me.User.Sciper)
		require.Equal(t, "dev-principal@example.org", me.User.Email)
		require.Equal(t, "dev", me.User.Provider)
		require.NotNil(t, me.User.LastLoginAt)
		require.True(t, me.IsDevUser)
		require.Equal(t, []map[string]any{{"role": "calco2.user.principal", "scope": map[string]any{"kind": "unit", "cf": "7918"}}}, me.Roles)
		require.Len(t, me.Permissions, 9)
		require.Empty(t, me.BackofficePages)

		rec = s.do(t, http.MethodGet, "/api/v1/me/units", nil)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var units []struct {
			Unit struct {
				Name         string   `json:"name"`
				CF           string   `json:"cf"`
				Affiliations []string `json:"affiliations"`
			} `json:"unit"`
			Role string `json:"role"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &units))
		require.Len(t, units, 1)
		require.Equal(t, "LAB-DEMO", units[0].Unit.Name)
		require.Equal(t, "7918", units[0].Unit.CF)
		require.Equal(t, []string{"ENAC-TEST", "ENAC-SG-TEST"}, units[0].Unit.Affiliations)
		require.Equal(t, "principal", units[0].Role)
	})

	t.Run("AdminPages", func(t *testing.T) {
		t.Parallel()
		s := e.login(t, "admin")
		rec := s.do(t, http.MethodGet, "/api/v1/me", nil)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Contains(t, rec.Body.String(), `"backoffice_pages":["reporting","data","factors","integrations","pipelines","audit","users","documentation"]`)
		rec = s.do(t, http.MethodGet, "/api/v1/me/units", nil)
		require.JSONEq(t, `[]`, rec.Body.String())
	})

	t.Run("Logout", func(t *testing.T) {
		t.Parallel()
		s := e.login(t, "standard")
		rec := s.do(t, http.MethodPost, "/api/v1/auth/logout", nil)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		require.Contains(t, rec.Body.String(), "end_session_url")
		cleared := 0
		for _, c := range rec.Result().Cookies() {
			if c.MaxAge < 0 {
				cleared++
			}
		}
		require.GreaterOrEqual(t, cleared, 3)
		rec = s.do(t, http.MethodGet, "/api/v1/me", nil)
		require.Equal(t, http.StatusUnauthorized, rec.Code)
		require.Equal(t, "session_expired", errorCode(t, rec))
		rec = s.refresh(t)
		require.Equal(t, http.StatusUnauthorized, rec.Code, "logout revokes the refresh tokens")
	})

	t.Run("PickerPage", func(t *testing.T) {
		t.Parallel()
		c := e.client()
		c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
			if strings.HasPrefix(req.URL.Path, "/dev-oidc/") || req.URL.Path == "/api/v1/auth/callback" {
				return nil
			}
			return http.ErrUseLastResponse
		}
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, e.srv.URL+"/api/v1/auth/login?return_to=/en/calculator", nil)
		require.NoError(t, err)
		resp, err := c.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "/dev-oidc/login", resp.Request.URL.Path)
		for _, key := range []string{"standard", "principal", "metier", "admin", "principal_other"} {
			require.Contains(t, string(body), `value="`+key+`"`)
		}
		id := resp.Request.URL.Query().Get("authRequestID")
		require.NotEmpty(t, id)
		form := url.Values{"id": {id}, "user": {"metier"}}
		preq, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.srv.URL+"/dev-oidc/login", strings.NewReader(form.Encode()))
		require.NoError(t, err)
		preq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		presp, err := c.Do(preq)
		require.NoError(t, err)
		_ = presp.Body.Close()
		require.Equal(t, http.StatusFound, presp.StatusCode)
		require.Equal(t, "/en/calculator", presp.Header.Get("Location"))
	})

	t.Run("Audited", func(t *testing.T) {
		t.Parallel()
		s := e.login(t, "principal_other")
		rec := s.do(t, http.MethodGet, "/api/v1/me", nil)
		require.Equal(t, http.StatusOK, rec.Code)
		evs, err := dbsqlc.New(e.schema.Pool).AuditByEvent(t.Context(), dbsqlc.AuditByEventParams{Event: "auth.login", MaxRows: 50})
		require.NoError(t, err)
		found := false
		for _, ev := range evs {
			if ev.ActorSciper == "DEV-000005" {
				found = true
				require.Equal(t, "C", ev.Action)
				require.Equal(t, "user", ev.EntityType)
				require.Equal(t, []string{"DEV-000005"}, ev.HandledIds)
				require.Equal(t, "GET /api/v1/auth/callback", *ev.Route)
			}
		}
		require.True(t, found)
	})
}

func TestLoginReturnTo(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, nil)
	tests := []struct{ in, want string }{
		{in: "//evil.com", want: "/"},
		{in: "https://evil.com", want: "/"},
		{in: `/\evil.com`, want: "/"},
		{in: "/\\/evil.com", want: "/"},
		{in: "javascript:alert(1)", want: "/"},
		{in: "", want: "/"},
		{in: "/en/results?year=2025", want: "/en/results?year=2025"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			_, resp := e.loginTo(t, "standard", tt.in)
			require.Equal(t, tt.want, resp.Header.Get("Location"))
		})
	}
}

// authorizeURL starts a login and returns the client and the IdP redirect.
func startLogin(t *testing.T, e *authEnv, c *http.Client) (*url.URL, *http.Cookie) {
	t.Helper()
	cc := *c
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp := get(t, &cc, e.srv.URL+"/api/v1/auth/login?login_hint=principal")
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	var flow *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "oidc_flow" {
			flow = ck
		}
	}
	require.NotNil(t, flow)
	require.True(t, flow.HttpOnly)
	require.Equal(t, "/api/v1/auth", flow.Path)
	require.Equal(t, 600, flow.MaxAge)
	q := loc.Query()
	require.Equal(t, "S256", q.Get("code_challenge_method"))
	require.NotEmpty(t, q.Get("code_challenge"))
	require.NotEmpty(t, q.Get("nonce"))
	require.NotEmpty(t, q.Get("state"))
	require.Equal(t, "principal", q.Get("login_hint"))
	return loc, flow
}

// codeFor follows the IdP part of the flow and returns the callback URL.
func codeFor(t *testing.T, e *authEnv, authorize *url.URL) *url.URL {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Path == "/api/v1/auth/callback" {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp := get(t, c, authorize.String())
	require.Equal(t, http.StatusFound, resp.StatusCode)
	cb, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "/api/v1/auth/callback", cb.Path)
	return cb
}

func callback(t *testing.T, e *authEnv, cb *url.URL, flow *http.Cookie) *httptest.ResponseRecorder {
	t.Helper()
	h := http.Header{}
	if flow != nil {
		h.Set("Cookie", "oidc_flow="+flow.Value)
	}
	return serve(t, httpapi.NewRouter(e.deps), http.MethodGet, cb.RequestURI(), h)
}

func TestCallbackAttacks(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, nil)
	c := e.client()

	t.Run("NoFlowCookie", func(t *testing.T) {
		t.Parallel()
		authz, _ := startLogin(t, e, c)
		rec := callback(t, e, codeFor(t, e, authz), nil)
		require.Equal(t, http.StatusFound, rec.Code)
		require.Equal(t, "/en/login?error=session_expired", rec.Header().Get("Location"))
	})

	t.Run("WrongState", func(t *testing.T) {
		t.Parallel()
		authzA, flowA := startLogin(t, e, c)
		authzB, _ := startLogin(t, e, c)
		_ = authzA
		rec := callback(t, e, codeFor(t, e, authzB), flowA) // B's code and state with A's flow
		require.Equal(t, http.StatusFound, rec.Code)
		require.Equal(t, "/en/login?error=session_expired", rec.Header().Get("Location"))
	})

	t.Run("ExpiredFlow", func(t *testing.T) {
		t.Parallel()
		authz, flow := startLogin(t, e, c)
		f, err := auth.OpenFlow(e.keys, flow.Value, time.Now())
		require.NoError(t, err)
		f.Expires = time.Now().Add(-time.Second)
		sealed, err := auth.SealFlow(e.keys, f)
		require.NoError(t, err)
		rec := callback(t, e, codeFor(t, e, authz), &http.Cookie{Value: sealed})
		require.Equal(t, "/en/login?error=session_expired", rec.Header().Get("Location"))
	})

	t.Run("TamperedFlow", func(t *testing.T) {
		t.Parallel()
		authz, flow := startLogin(t, e, c)
		v := []byte(flow.Value)
		v[len(v)/2] ^= 1
		rec := callback(t, e, codeFor(t, e, authz), &http.Cookie{Value: string(v)})
		require.Equal(t, "/en/login?error=session_expired", rec.Header().Get("Location"))
	})

	t.Run("WrongNonce", func(t *testing.T) {
		t.Parallel()
		authz, flow := startLogin(t, e, c)
		f, err := auth.OpenFlow(e.keys, flow.Value, time.Now())
		require.NoError(t, err)
		f.Nonce = "not-the-nonce"
		sealed, err := auth.SealFlow(e.keys, f)
		require.NoError(t, err)
		rec := callback(t, e, codeFor(t, e, authz), &http.Cookie{Value: sealed})
		require.Equal(t, http.StatusFound, rec.Code)
		require.Equal(t, "/en/login?error=login_failed", rec.Header().Get("Location"))
		evs, err := dbsqlc.New(e.schema.Pool).AuditByEvent(t.Context(), dbsqlc.AuditByEventParams{Event: "auth.login_failed", MaxRows: 50})
		require.NoError(t, err)
		found := false
		for _, ev := range evs {
			found = found || ev.Reason == "nonce_mismatch"
			require.Equal(t, "unknown", ev.ActorSciper)
		}
		require.True(t, found)
	})

	t.Run("WrongVerifier", func(t *testing.T) {
		t.Parallel()
		authz, flow := startLogin(t, e, c)
		f, err := auth.OpenFlow(e.keys, flow.Value, time.Now())
		require.NoError(t, err)
		f.Verifier = strings.Repeat("x", 43)
		sealed, err := auth.SealFlow(e.keys, f)
		require.NoError(t, err)
		rec := callback(t, e, codeFor(t, e, authz), &http.Cookie{Value: sealed})
		require.Equal(t, "/en/login?error=login_failed", rec.Header().Get("Location"), "PKCE is enforced by the provider")
	})

	t.Run("CodeReplay", func(t *testing.T) {
		t.Parallel()
		authz, flow := startLogin(t, e, c)
		cb := codeFor(t, e, authz)
		rec := callback(t, e, cb, flow)
		require.Equal(t, "/", rec.Header().Get("Location"))
		rec = callback(t, e, cb, flow)
		require.Equal(t, "/en/login?error=login_failed", rec.Header().Get("Location"))
	})
}

func TestAccessTokenAttacks(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, nil)
	s := e.login(t, "admin")
	good := s.cookies["auth_token"].Value
	parts := strings.Split(good, ".")
	other := &auth.Tokens{Keys: auth.GenerateKeys(), Issuer: e.srv.URL, TTL: time.Minute, Now: time.Now}
	forged, _, err := other.Issue(1, [16]byte{}, "DEV-000004")
	require.NoError(t, err)
	b64 := func(s string) string { return strings.TrimRight(base64URL(s), "=") }
	tests := []struct{ name, token string }{
		{name: "AlgNone", token: b64(`{"alg":"none","typ":"JWT"}`) + "." + parts[1] + "."},
		{name: "Forged", token: forged},
		{name: "Garbage", token: "not-a-jwt"},
		{name: "Tampered", token: parts[0] + "." + b64(`{"sub":"1","sid":"x","typ":"access"}`) + "." + parts[2]},
		{name: "WrongKid", token: b64(`{"alg":"HS256","kid":"nope","typ":"JWT"}`) + "." + parts[1] + "." + parts[2]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := s.do(t, http.MethodGet, "/api/v1/me", http.Header{"Cookie": {"auth_token=" + tt.token}})
			require.Equal(t, http.StatusUnauthorized, rec.Code)
			require.Equal(t, "unauthenticated", errorCode(t, rec))
		})
	}
	t.Run("NoCookie", func(t *testing.T) {
		t.Parallel()
		rec := serve(t, httpapi.NewRouter(e.deps), http.MethodGet, "/api/v1/me", nil)
		require.Equal(t, http.StatusUnauthorized, rec.Code)
		require.Equal(t, "unauthenticated", errorCode(t, rec))
	})
}

func TestAccessTokenExpiry(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, nil)
	s := e.login(t, "standard")
	require.Equal(t, http.StatusOK, s.do(t, http.MethodGet, "/api/v1/me", nil).Code)
	e.clock.Advance(15*time.Minute + 6*time.Second) // past exp + 5 s skew
	rec := s.do(t, http.MethodGet, "/api/v1/me", nil)
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	require.Equal(t, "unauthenticated", errorCode(t, rec))
	// The refresh token still works and yields a fresh access token.
	require.Equal(t, http.StatusNoContent, s.refresh(t).Code)
	require.Equal(t, http.StatusOK, s.do(t, http.MethodGet, "/api/v1/me", nil).Code)
}

func TestRefreshRotation(t *testing.T) {
	t.Parallel()

	t.Run("GraceOnceThenReuseRevokes", func(t *testing.T) {
		t.Parallel()
		e := newAuthEnv(t, nil)
		s := e.login(t, "principal")
		old := s.clone()
		require.Equal(t, http.StatusNoContent, s.refresh(t).Code)
		require.NotEqual(t, old.cookies["refresh_token"].Value, s.cookies["refresh_token"].Value, "rotated")
		require.NotEqual(t, old.cookies["csrf_token"].Value, s.cookies["csrf_token"].Value, "csrf re-issued")

		e.clock.Advance(10 * time.Second)
		tab2 := old.clone()
		require.Equal(t, http.StatusNoContent, tab2.refresh(t).Code, "grace: a parallel tab may present the rotated token once")
		rec := old.clone().refresh(t)
		require.Equal(t, http.StatusUnauthorized, rec.Code, "second reuse")
		require.Equal(t, "session_expired", errorCode(t, rec))
		rec = s.do(t, http.MethodGet, "/api/v1/me", nil)
		require.Equal(t, http.StatusUnauthorized, rec.Code, "the whole session is revoked")
		require.Equal(t, "session_expired", errorCode(t, rec))
		require.Equal(t, http.StatusUnauthorized, s.refresh(t).Code)
	})

	t.Run("ReuseAfterGraceRevokes", func(t *testing.T) {
		t.Parallel()
		e := newAuthEnv(t, nil)
		s := e.login(t, "principal")
		old := s.clone()
		require.Equal(t, http.StatusNoContent, s.refresh(t).Code)
		e.clock.Advance(21 * time.Second)
		rec := old.refresh(t)
		require.Equal(t, http.StatusUnauthorized, rec.Code)
		require.Equal(t, "session_expired", errorCode(t, rec))
		require.Equal(t, http.StatusUnauthorized, s.do(t, http.MethodGet, "/api/v1/me", nil).Code)
	})

	t.Run("UnknownAndExpired", func(t *testing.T) {
		t.Parallel()
		e := newAuthEnv(t, nil)
		s := e.login(t, "standard")
		bad := s.clone()
		bad.cookies["refresh_token"].Value = auth.RandomToken()
		rec := bad.refresh(t)
		require.Equal(t, http.StatusUnauthorized, rec.Code)
		require.Equal(t, "unauthenticated", errorCode(t, rec))
		e.clock.Advance(25 * time.Hour)
		rec = s.refresh(t)
		require.Equal(t, http.StatusUnauthorized, rec.Code, "idle refresh TTL")
	})
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, nil)
	s := e.login(t, "standard")
	tests := []struct {
		name   string
		header http.Header
	}{
		{name: "MissingHeader", header: http.Header{"X-Csrf-Token": {" "}}},
		{name: "WrongHeader", header: http.Header{"X-Csrf-Token": {"nope"}}},
		{name: "WrongOrigin", header: http.Header{"Origin": {"https://evil.example"}}},
		{name: "NullOrigin", header: http.Header{"Origin": {"null"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, path := range []string{"/api/v1/auth/logout", "/api/v1/auth/refresh"} {
				rec := s.do(t, http.MethodPost, path, tt.header)
				require.Equal(t, http.StatusForbidden, rec.Code, path)
				require.Equal(t, "csrf_failed", errorCode(t, rec))
			}
		})
	}
	t.Run("SameOrigin", func(t *testing.T) {
		t.Parallel()
		rec := s.clone().do(t, http.MethodPost, "/api/v1/auth/refresh", http.Header{"Origin": {e.srv.URL}})
		require.Equal(t, http.StatusNoContent, rec.Code)
	})
}

func TestAccredUnreachableAtLogin(t *testing.T) {
	t.Parallel()
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	e := newAuthEnv(t, &authEnvOpts{roleProvider: auth.ProviderAccred,
		accred: &auth.Accred{BaseURL: deadURL, Username: "u", Password: "p", Client: &http.Client{Timeout: time.Second}}})
	c := e.client()
	resp := get(t, c, e.srv.URL+"/api/v1/auth/login?login_hint=principal")
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	_, err := dbsqlc.New(e.schema.Pool).UserGetBySciper(context.WithoutCancel(t.Context()), "DEV-000002")
	require.Error(t, err, "no half-created user")
}

func base64URL(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func testLogger() *slog.Logger {
	if os.Getenv("AUTH_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	return testdb.QuietLogger()
}
