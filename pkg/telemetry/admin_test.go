package telemetry_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/telemetry"
)

// TestAdminHandler: the admin listener's routes (README "Configuration",
// ADMIN_ADDR): liveness, readiness with its checks, metrics and the profiler.
func TestAdminHandler(t *testing.T) {
	t.Parallel()
	failing := errors.New("down")
	cases := []struct {
		name, path string
		checks     telemetry.Checks
		status     int
		contains   string
	}{
		{name: "Healthz", path: "/healthz", status: http.StatusOK, contains: `{"status":"ok"}`},
		{name: "ReadyzOK", path: "/readyz", status: http.StatusOK, contains: `"database":"ok"`,
			checks: telemetry.Checks{{Name: "database", Fn: func(context.Context) error { return nil }}}},
		{name: "ReadyzDown", path: "/readyz", status: http.StatusServiceUnavailable, contains: `"status":"unavailable"`,
			checks: telemetry.Checks{{Name: "database", Fn: func(context.Context) error { return failing }}}},
		{name: "Metrics", path: "/metrics", status: http.StatusOK, contains: "go_goroutines"},
		{name: "ProfilerIndex", path: "/debug/pprof/", status: http.StatusOK, contains: "goroutine"},
		{name: "ProfilerHeap", path: "/debug/pprof/heap?debug=1", status: http.StatusOK, contains: "heap profile"},
		{name: "Unknown", path: "/nope", status: http.StatusNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(telemetry.AdminHandler(telemetry.NewRegistry(), c.checks))
			defer srv.Close()
			resp, err := http.Get(srv.URL + c.path)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Equal(t, c.status, resp.StatusCode, string(body))
			require.Contains(t, string(body), c.contains, c.path)
		})
	}
}
