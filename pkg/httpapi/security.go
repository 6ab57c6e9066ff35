package httpapi

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
)

// Security headers of every response of the public listener (docs/api.md
// §1 "Security headers"). The API's answers are data, never documents:
// their policy allows nothing. The SPA's handler (package web) replaces the
// policy with the SPA's own; the River UI and the development OIDC pages
// get theirs here.
const (
	apiCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
	// The River UI (a React SPA under /system/jobs): its own scripts and
	// styles only; it sets inline styles.
	riverUICSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
		"font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
	// The development OIDC provider's login page: an inline stylesheet and
	// a form posting to itself.
	devOIDCCSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

// securityHeaders sets X-Content-Type-Options, X-Frame-Options,
// Referrer-Policy and the Content-Security-Policy of the path.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		csp := apiCSP
		switch p := r.URL.Path; {
		case strings.HasPrefix(p, "/system/jobs"):
			csp = riverUICSP
		case strings.HasPrefix(p, "/dev-oidc/"):
			csp = devOIDCCSP
		}
		h.Set("Content-Security-Policy", csp)
		next.ServeHTTP(w, r)
	})
}

// checkQuery refuses query parameters PostgreSQL could not store or
// compare: a value (or name) with a NUL character or invalid UTF-8 is 422
// validation_failed with one invalid_format detail per parameter
// (docs/api.md §1). Handlers then parse the values with params.go.
func (s *Server) checkQuery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery == "" {
			next.ServeHTTP(w, r)
			return
		}
		if err := checkQueryValues(r.URL.Query()); err != nil {
			writeError(w, r, s.Logger, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func checkQueryValues(q url.Values) error {
	var bad []apperr.FieldError
	for name, values := range q {
		for _, v := range append([]string{name}, values...) {
			if msg := badText(v); msg != "" {
				bad = append(bad, apperr.FieldError{Field: strings.ToValidUTF8(strings.ReplaceAll(name, "\x00", ""), "?"),
					Code: detailInvalidFormat, Message: msg})
				break
			}
		}
	}
	if len(bad) == 0 {
		return nil
	}
	slices.SortFunc(bad, func(a, b apperr.FieldError) int { return strings.Compare(a.Field, b.Field) })
	return apperr.Validation(countInvalid(len(bad)), bad...)
}

// badText names what PostgreSQL would refuse in a text value ("" when
// nothing): a NUL character or invalid UTF-8.
func badText(v string) string {
	switch {
	case strings.IndexByte(v, 0) >= 0:
		return "must not contain a NUL character"
	case !utf8.ValidString(v):
		return "must be valid UTF-8"
	}
	return ""
}
