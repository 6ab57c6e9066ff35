package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/auth"
)

// Cookie names and paths (docs/api.md §3.1).
const (
	cookieAuth    = "auth_token"
	cookieRefresh = "refresh_token"
	cookieCSRF    = "csrf_token"
	cookieFlow    = "oidc_flow"
	pathAuth      = "/api"
	pathRefresh   = "/api/v1/auth"
	pathCSRF      = "/"
	pathFlow      = "/api/v1/auth"
	// pathJobs carries a second copy of auth_token so that the browser also
	// sends it to the River UI mounted outside /api.
	pathJobs = "/system/jobs"
)

// roleSyncAge is how old roles may be before /auth/refresh enqueues a
// role_sync job.
const roleSyncAge = 15 * time.Minute

// AuthDeps are the identity dependencies of the router.
type AuthDeps struct {
	Service      *auth.Service
	CookieSecure bool
	// DevOIDC is served under /dev-oidc when non-nil.
	DevOIDC http.Handler
}

func errUnauthenticated() error {
	return apperr.New(apperr.CodeUnauthorized, "authentication required")
}

func errSessionExpired() error {
	return apperr.WithReason(apperr.CodeUnauthorized, "session_expired", "session expired")
}

func (s *Server) setCookie(w http.ResponseWriter, name, value, path string, maxAge time.Duration, httpOnly bool) {
	c := &http.Cookie{ //nolint:gosec // Secure is COOKIE_SECURE (false only for http://localhost); HttpOnly false only for csrf_token (docs/api.md §3.1)
		Name: name, Value: value, Path: path, HttpOnly: httpOnly, Secure: s.Auth.CookieSecure, SameSite: http.SameSiteLaxMode}
	if maxAge < 0 {
		c.MaxAge, c.Value = -1, ""
	} else {
		c.MaxAge = int(maxAge / time.Second)
	}
	http.SetCookie(w, c)
}

func (s *Server) setSessionCookies(w http.ResponseWriter, iss auth.Issued) {
	cfg := s.Auth.Service.Config()
	s.setCookie(w, cookieAuth, iss.Access, pathAuth, cfg.AccessTTL, true)
	s.setCookie(w, cookieAuth, iss.Access, pathJobs, cfg.AccessTTL, true)
	s.setCookie(w, cookieRefresh, iss.Refresh, pathRefresh, cfg.RefreshTTL, true)
	s.setCookie(w, cookieCSRF, iss.CSRF, pathCSRF, cfg.SessionMaxAge, false)
}

func (s *Server) clearSessionCookies(w http.ResponseWriter) {
	s.setCookie(w, cookieAuth, "", pathAuth, -1, true)
	s.setCookie(w, cookieAuth, "", pathJobs, -1, true)
	s.setCookie(w, cookieRefresh, "", pathRefresh, -1, true)
	s.setCookie(w, cookieCSRF, "", pathCSRF, -1, false)
}

// requestMeta describes the request for sessions and the audit trail.
func requestMeta(r *http.Request) auth.Meta {
	var m auth.Meta
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		ip = ip.Unmap()
		m.IP = &ip
	}
	if ua := r.UserAgent(); ua != "" {
		m.UserAgent = &ua
	}
	if id := middleware.GetReqID(r.Context()); id != "" {
		m.RequestID = &id
	}
	if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
		route := r.Method + " " + rc.RoutePattern()
		m.Route = &route
	}
	return m
}

// authLogin answers GET /auth/login: 302 to the IdP with the flow sealed in
// the oidc_flow cookie.
func (s *Server) authLogin(r *http.Request) (response, error) {
	if err := s.authConfigured(); err != nil {
		return response{}, err
	}
	q := r.URL.Query()
	target, sealed, err := s.Auth.Service.BeginLogin(r.Context(), q.Get("return_to"), q.Get("login_hint"), q.Get("lang"))
	if errors.Is(err, auth.ErrUpstream) {
		s.Logger.ErrorContext(r.Context(), "identity provider unavailable", slog.String("error", err.Error()))
		return response{}, apperr.WithReason(apperr.CodeUnavailable, reasonUpstream, "identity provider unavailable")
	}
	if err != nil {
		return response{}, err
	}
	return stream(func(w http.ResponseWriter, r *http.Request) {
		s.setCookie(w, cookieFlow, sealed, pathFlow, auth.FlowTTL, true)
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, target, http.StatusFound) //nolint:gosec // target is the configured IdP authorization endpoint
	}), nil
}

// reasonUpstream is the 503 code of an identity or role provider that does
// not answer.
const reasonUpstream apperr.Reason = "upstream_unavailable"

// authCallback answers GET /auth/callback (docs/api.md §3): the session
// cookies and a redirect to the page the login started from, or a redirect
// to the login page with the reason of a failed login.
func (s *Server) authCallback(r *http.Request) (response, error) {
	if err := s.authConfigured(); err != nil {
		return response{}, err
	}
	sealed := ""
	if c, err := r.Cookie(cookieFlow); err == nil {
		sealed = c.Value
	}
	iss, flow, err := s.Auth.Service.CompleteLogin(r.Context(), sealed, r.URL.Query(), requestMeta(r))
	// Every answer ends the flow: its cookie is cleared.
	answer := func(write func(w http.ResponseWriter, r *http.Request)) response {
		return stream(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-store")
			s.setCookie(w, cookieFlow, "", pathFlow, -1, true)
			write(w, r)
		})
	}
	redirect := func(to string) response {
		return answer(func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, http.StatusFound) })
	}
	fail := func(err error) response {
		return answer(func(w http.ResponseWriter, r *http.Request) { writeError(w, r, s.Logger, err) })
	}
	if err == nil {
		return answer(func(w http.ResponseWriter, r *http.Request) {
			s.setSessionCookies(w, iss)
			http.Redirect(w, r, auth.SafeReturnTo(flow.ReturnTo), http.StatusFound) //nolint:gosec // SafeReturnTo keeps same-origin relative paths only
		}), nil
	}
	lang := "en"
	if le, ok := errors.AsType[*auth.LoginError](err); ok {
		lang = auth.SafeLang(le.Lang)
	}
	switch {
	case errors.Is(err, auth.ErrFlow):
		return redirect("/" + lang + "/login?error=session_expired"), nil
	case errors.Is(err, auth.ErrUpstream):
		s.Logger.ErrorContext(r.Context(), "role provider unavailable at login", slog.String("error", err.Error()))
		return fail(apperr.WithReason(apperr.CodeUnavailable, reasonUpstream, "the role provider is unavailable; try again later")), nil
	case errors.Is(err, auth.ErrLoginFailed):
		s.Logger.WarnContext(r.Context(), "login failed", slog.String("error", err.Error()))
		return redirect("/" + lang + "/login?error=login_failed"), nil
	}
	return fail(err), nil
}

// authRefresh answers POST /auth/refresh: new session cookies, 204. An
// expired session also clears the cookies (401 session_expired).
func (s *Server) authRefresh(r *http.Request) (response, error) {
	if err := s.authConfigured(); err != nil {
		return response{}, err
	}
	raw := ""
	if c, err := r.Cookie(cookieRefresh); err == nil {
		raw = c.Value
	}
	iss, err := s.Auth.Service.Refresh(r.Context(), raw, requestMeta(r))
	switch {
	case errors.Is(err, auth.ErrSessionExpired):
		return stream(func(w http.ResponseWriter, r *http.Request) {
			s.clearSessionCookies(w)
			writeError(w, r, s.Logger, errSessionExpired())
		}), nil
	case errors.Is(err, auth.ErrInvalidRefresh):
		return response{}, apperr.New(apperr.CodeUnauthorized, "invalid or expired refresh token")
	case err != nil:
		return response{}, err
	}
	s.maybeEnqueueRoleSync(r.Context(), iss)
	return stream(func(w http.ResponseWriter, _ *http.Request) {
		s.setSessionCookies(w, iss)
		w.WriteHeader(http.StatusNoContent)
	}), nil
}

// maybeEnqueueRoleSync inserts role_sync when the roles are older than
// roleSyncAge. The insert is unique by user and period; a failure is only
// logged: refresh never fails because of it.
func (s *Server) maybeEnqueueRoleSync(ctx context.Context, iss auth.Issued) {
	cfg := s.Auth.Service.Config()
	if s.River == nil || cfg.Roles == nil || cfg.Roles.Name() == auth.ProviderOIDC {
		return
	}
	if at := iss.User.RolesSyncedAt; at != nil && cfg.Now().Sub(*at) < roleSyncAge {
		return
	}
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if _, err := s.River.Insert(ictx, jobs.RoleSyncArgs{UserID: iss.User.ID}, nil); err != nil {
		s.Logger.WarnContext(ctx, "could not enqueue role_sync", slog.Int64("user_id", iss.User.ID), slog.String("error", err.Error()))
	}
}

type logoutResponse struct {
	EndSessionURL *string `json:"end_session_url"`
}

// authLogout answers POST /auth/logout: the session is revoked and the
// cookies cleared; the answer names the IdP's end-session URL, if any.
func (s *Server) authLogout(r *http.Request) (response, error) {
	p := principalFrom(r.Context())
	if err := s.Auth.Service.Logout(r.Context(), p, requestMeta(r)); err != nil {
		return response{}, err
	}
	body := logoutResponse{EndSessionURL: s.Auth.Service.EndSessionURL(r.Context())}
	return stream(func(w http.ResponseWriter, _ *http.Request) {
		s.clearSessionCookies(w)
		writeJSON(w, http.StatusOK, body)
	}), nil
}

// authConfigured is 503 when no session service is wired.
func (s *Server) authConfigured() error {
	if s.Auth.Service != nil {
		return nil
	}
	return apperr.WithReason(apperr.CodeUnavailable, reasonUpstream, "authentication is not configured")
}
