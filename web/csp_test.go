package web_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/web"
)

// Every answer of the SPA handler carries the security headers, with the
// SPA's policy: its own scripts and stylesheets only, the error-reporting
// host as the only other origin it talks to, no framing (docs/api.md §1).
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	h := web.Handler("", "https://errors.example.org")
	for _, target := range []string{"/", "/en/workspace", "/assets/missing.js", "/api/v1/nope"} {
		t.Run(target, func(t *testing.T) {
			t.Parallel()
			rec := serve(t, h, http.MethodGet, target, nil)
			csp := rec.Header().Get("Content-Security-Policy")
			directives := map[string]string{}
			for d := range strings.SplitSeq(csp, ";") {
				name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
				directives[name] = value
			}
			require.Equal(t, "'self'", directives["script-src"], "no inline or evaluated script")
			require.Equal(t, "'self'", directives["style-src"], "no inline <style> element")
			require.Equal(t, "'none'", directives["frame-ancestors"])
			require.Equal(t, "'none'", directives["object-src"])
			require.Equal(t, "'self' https://errors.example.org", directives["connect-src"])
			require.Equal(t, "DENY", rec.Header().Get("X-Frame-Options"))
			require.Equal(t, "same-origin", rec.Header().Get("Referrer-Policy"))
			require.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
		})
	}
}

// The built index.html needs nothing the policy forbids: no inline script,
// no inline <style>, no event-handler attribute (the browser run checks the
// rest: any CSP violation is a console error that fails it).
func TestIndexIsCSPClean(t *testing.T) {
	t.Parallel()
	index := embeddedIndex(t)
	for _, tag := range regexp.MustCompile(`(?is)<script\b[^>]*>`).FindAllString(index, -1) {
		require.Regexp(t, `\bsrc=`, tag, "an inline script would be blocked")
	}
	require.NotRegexp(t, `(?i)<style\b`, index, "an inline stylesheet would be blocked")
	require.NotRegexp(t, `(?i)\son[a-z]+\s*=`, index, "an event-handler attribute would be blocked")
}
