package httpapi_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/httpapi"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

// Every answer of the public listener carries the security headers; the
// API's policy allows nothing, the development login page its inline style
// and its form (docs/api.md §1).
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	router := httpapi.NewRouter(httpapi.Deps{Logger: testdb.QuietLogger(), Ready: ready})
	tests := []struct{ path, csp string }{
		{path: "/api/v1/version", csp: "default-src 'none'; frame-ancestors 'none'"},
		{path: "/api/v1/nope", csp: "default-src 'none'; frame-ancestors 'none'"},
		{path: "/healthz", csp: "default-src 'none'; frame-ancestors 'none'"},
		{path: "/dev-oidc/login", csp: "style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			router.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, tt.path, nil))
			h := rec.Header()
			require.Contains(t, h.Get("Content-Security-Policy"), tt.csp)
			require.Equal(t, "DENY", h.Get("X-Frame-Options"))
			require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
			require.Equal(t, "same-origin", h.Get("Referrer-Policy"))
		})
	}
}

// deadPool is a pool whose database cannot be reached.
func deadPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	pool, err := pgxpool.New(t.Context(), "postgres://postgres@"+addr+"/none?sslmode=disable&connect_timeout=2")
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

// During a database outage requests answer 503 database_unavailable with
// Retry-After, never 500.
func TestDatabaseUnavailable(t *testing.T) {
	t.Parallel()
	router := httpapi.AsAdmin(httpapi.NewRouter(httpapi.Deps{Pool: deadPool(t), Logger: testdb.QuietLogger(), Ready: ready}))
	for _, path := range []string{"/api/v1/units/1", "/api/v1/pipelines/7b4c9d36-58b2-4a44-9f0c-3f1e2b5c8a10", "/api/v1/years"} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			rec := serve(t, router, http.MethodGet, path, nil)
			require.Equal(t, http.StatusServiceUnavailable, rec.Code, rec.Body.String())
			require.Equal(t, "database_unavailable", requireErrorEnvelope(t, rec).Error.Code)
			require.Equal(t, "5", rec.Header().Get("Retry-After"))
		})
	}

	t.Run("Classification", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name   string
			err    error
			status int
		}{
			{name: "AdminShutdown", err: fmt.Errorf("error reading: %w", &pgconn.PgError{Code: "57P01"}), status: 503},
			{name: "CannotConnectNow", err: &pgconn.PgError{Code: "57P03"}, status: 503},
			{name: "ConnectionException", err: &pgconn.PgError{Code: "08006"}, status: 503},
			{name: "TooManyConnections", err: &pgconn.PgError{Code: "53300"}, status: 503},
			{name: "BrokenConnection", err: fmt.Errorf("query: %w", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}), status: 503},
			{name: "UnexpectedEOF", err: fmt.Errorf("failed to receive message: %w", io.ErrUnexpectedEOF), status: 503},
			{name: "UniqueViolationIsABug", err: &pgconn.PgError{Code: "23505"}, status: 500},
			{name: "OtherError", err: errors.New("boom"), status: 500},
			{name: "ApplicationError", err: apperr.NotFound("x"), status: 404},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				rec := httptest.NewRecorder()
				httpapi.WriteError(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/x", nil), testdb.QuietLogger(), tt.err)
				require.Equal(t, tt.status, rec.Code)
				if tt.status == 503 {
					require.Equal(t, "5", rec.Header().Get("Retry-After"))
				}
			})
		}
	})
}

// rawRequest sends head (request line and headers, CRLF-separated, without
// the blank line) then body on a new connection to srv and returns the
// status line of the answer.
func rawRequest(t *testing.T, srv *httptest.Server, head, body string) string {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, head+"\r\n\r\n"+body)
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(waitTimeout)))
	status, err := bufio.NewReader(conn).ReadString('\n')
	require.NoError(t, err, "an answer before the client's deadline")
	return strings.TrimSpace(status)
}

// trickle posts chunks × chunk bytes to srv, one chunk every 50 ms, and
// returns the status line of the answer (which may come before the whole
// body was sent).
func trickle(t *testing.T, srv *httptest.Server, contentType string, chunk, chunks int) string {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", contentType, chunk*chunks)
	require.NoError(t, err)
	go func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		b := []byte(strings.Repeat("x", chunk))
		for range chunks {
			if _, err := conn.Write(b); err != nil {
				return // the server gave up on the body
			}
			<-tick.C
		}
	}()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(waitTimeout)))
	status, err := bufio.NewReader(conn).ReadString('\n')
	require.NoError(t, err, "an answer before the client's deadline")
	return strings.TrimSpace(status)
}

// A body that stops arriving is cut with 408 after HTTP_BODY_TIMEOUT; an
// upload gets more time only as its bytes arrive (HTTP_UPLOAD_MIN_RATE).
func TestBodyDeadline(t *testing.T) {
	t.Parallel()
	router := httpapi.AsAdmin(httpapi.NewRouter(httpapi.Deps{Pool: deadPool(t), Logger: testdb.QuietLogger(), Ready: ready,
		Limits: httpapi.Limits{BodyTimeout: 300 * time.Millisecond, UploadMinRate: 1 << 20}}))
	srv := httptest.NewServer(router)
	t.Cleanup(srv.Close)
	csrf := "Cookie: csrf_token=tok\r\nX-Csrf-Token: tok"

	t.Run("JSON", func(t *testing.T) {
		t.Parallel()
		status := rawRequest(t, srv, "POST /api/v1/recalculations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n"+csrf,
			`{"year": 20`) // ... and nothing more
		require.Equal(t, "HTTP/1.1 408 Request Timeout", status)
	})

	t.Run("Upload", func(t *testing.T) {
		t.Parallel()
		body := "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.csv\"\r\nContent-Type: text/csv\r\n\r\nname,value\r\n"
		status := rawRequest(t, srv, "POST /api/v1/years/2025/reduction-objectives/footprint HTTP/1.1\r\nHost: x\r\n"+
			"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n"+csrf, body)
		require.Equal(t, "HTTP/1.1 408 Request Timeout", status)
	})

	t.Run("UploadRate", func(t *testing.T) {
		t.Parallel()
		// A multipart body may take HTTP_BODY_TIMEOUT plus one second per
		// HTTP_UPLOAD_MIN_RATE bytes received: a transfer above the rate
		// passes well beyond HTTP_BODY_TIMEOUT, one below it is cut.
		const minRate = 64 << 10
		read := httpapi.WithBodyDeadline(httpapi.Limits{BodyTimeout: 300 * time.Millisecond, UploadMinRate: minRate},
			func(r *http.Request) error {
				_, err := io.Copy(io.Discard, r.Body)
				return err
			})
		srv := httptest.NewServer(read)
		t.Cleanup(srv.Close)
		tests := []struct {
			name   string
			chunk  int // bytes every 50 ms
			chunks int
			status string
		}{
			{name: "Fast", chunk: 32 << 10, chunks: 16, status: "HTTP/1.1 204 No Content"},              // 640 KiB/s for 0.8 s
			{name: "BelowMinRate", chunk: 1 << 10, chunks: 200, status: "HTTP/1.1 408 Request Timeout"}, // 20 KiB/s
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				started := time.Now()
				status := trickle(t, srv, "multipart/form-data; boundary=b", tt.chunk, tt.chunks)
				require.Equal(t, tt.status, status)
				if tt.name == "Fast" {
					require.Greater(t, time.Since(started), 600*time.Millisecond, "the upload outlived HTTP_BODY_TIMEOUT")
				}
			})
		}
		t.Run("JSONGetsNoRate", func(t *testing.T) {
			t.Parallel()
			status := trickle(t, srv, "application/json", 32<<10, 16)
			require.Equal(t, "HTTP/1.1 408 Request Timeout", status, "only uploads are extended")
		})
	})

	t.Run("CompleteBodyPasses", func(t *testing.T) {
		t.Parallel()
		body := `{"year": 2025}`
		status := rawRequest(t, srv, fmt.Sprintf("POST /api/v1/recalculations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s", len(body), csrf), body)
		require.Equal(t, "HTTP/1.1 503 Service Unavailable", status, "read in time; then the (unreachable) database")
	})
}

// Bad input gets a clear 4xx, never a 500 (issue 17): NUL characters and
// invalid UTF-8 in query values and JSON strings, pages past the 32-bit
// offset, wrongly typed and unknown members.
func TestBadInput(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := newModuleFixture(ctx, t)
	members := f.url(f.unitID, f.year, "headcount/member/entries")
	planes := f.url(f.unitID, f.year, "professional_travel/plane/entries")
	status := f.url(f.unitID, f.year, "headcount/status")
	tests := []struct {
		name, method, url, body string
		status                  int
		code, field             string
	}{
		{name: "QueryNul", method: http.MethodGet, url: members + "?q=a%00b", status: 422, code: "validation_failed", field: "q"},
		{name: "QueryInvalidUTF8", method: http.MethodGet, url: members + "?q=%ff", status: 422, code: "validation_failed", field: "q"},
		{name: "QueryNulInName", method: http.MethodGet, url: "/api/v1/pipelines?sta%00tus=x", status: 422, code: "validation_failed", field: "sta\ufffdtus"[:3] + "tus"},
		{name: "PageAt2Pow31", method: http.MethodGet, url: members + "?page=2147483648", status: 400, code: "bad_request", field: "page"},
		{name: "PageTimesLimitOverflow", method: http.MethodGet, url: members + "?page=3000000&limit=1000", status: 400, code: "bad_request", field: "page"},
		{name: "PageBeyondInt64", method: http.MethodGet, url: members + "?page=99999999999999999999", status: 400, code: "bad_request", field: "page"},
		{name: "JSONNul", method: http.MethodPost, url: members,
			body: `{"data": {"name": "Ada\u0000", "sius_code": "53", "user_institutional_id": "9", "fte": 1}}`, status: 422, code: "validation_failed", field: "data.name"},
		{name: "JSONNulInMemberName", method: http.MethodPost, url: members, body: `{"da\u0000ta": {}}`, status: 422, code: "validation_failed", field: "data"},
		{name: "JSONNulInNote", method: http.MethodPost, url: members,
			body: `{"data": {"name": "Ada", "sius_code": "53", "user_institutional_id": "9", "fte": 1, "note": "\u0000"}}`, status: 422, code: "validation_failed", field: "data.note"},
		{name: "JSONInvalidUTF8", method: http.MethodPost, url: members,
			body: "{\"data\": {\"name\": \"Ad\xffa\", \"sius_code\": \"53\", \"user_institutional_id\": \"9\", \"fte\": 1}}", status: 422, code: "validation_failed", field: "data.name"},
		{name: "NumberForString", method: http.MethodPatch, url: status, body: `{"status": 5}`, status: 422, code: "validation_failed", field: "status"},
		{name: "StringForNumber", method: http.MethodPost, url: planes,
			body:   `{"data": {"origin_iata": "GVA", "destination_iata": "ZRH", "user_institutional_id": "1", "cabin_class": "economy", "number_of_trips": "2"}}`,
			status: 422, code: "validation_failed", field: "data.number_of_trips"},
		{name: "UnknownMember", method: http.MethodPatch, url: status, body: `{"status": "validated", "note": "x"}`, status: 422, code: "validation_failed", field: "note"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := serveEntry(t, f.router, tt.method, tt.url, tt.body, nil)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			env := requireErrorEnvelope(t, rec)
			require.Equal(t, tt.code, env.Error.Code, rec.Body.String())
			require.NotEmpty(t, env.Error.Details, rec.Body.String())
			require.Equal(t, tt.field, env.Error.Details[0]["field"], rec.Body.String())
		})
	}
}

// One user holds at most SSE_MAX_STREAMS_PER_USER event streams: 429
// too_many_streams with Retry-After beyond; a closed stream frees its slot.
func TestSSEStreamCap(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := testdb.TestSchema(ctx, t)
	tp := createPipeline(ctx, t, schema)
	router := httpapi.AsAdmin(httpapi.NewRouter(httpapi.Deps{Pool: schema.Pool, Logger: testdb.QuietLogger(), Ready: ready,
		Listener: startListener(t, schema), Limits: httpapi.Limits{SSEPerUser: 1}}))
	srv := httptest.NewServer(router)
	t.Cleanup(srv.Close)
	url := srv.URL + "/api/v1/pipelines/" + tp.ID.String() + "/events"

	open := func(t *testing.T) (*http.Response, context.CancelFunc) {
		t.Helper()
		ctx, cancel := context.WithCancel(t.Context())
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		require.NoError(t, err)
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		return resp, func() { cancel(); _ = resp.Body.Close() }
	}
	first, closeFirst := open(t)
	require.Equal(t, http.StatusOK, first.StatusCode)
	line, err := bufio.NewReader(first.Body).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "event: pipeline\n", line)

	second, closeSecond := open(t)
	b, _ := io.ReadAll(second.Body)
	closeSecond()
	require.Equal(t, http.StatusTooManyRequests, second.StatusCode, string(b))
	require.Contains(t, string(b), `"code":"too_many_streams"`)
	require.Equal(t, "5", second.Header.Get("Retry-After"))

	closeFirst()
	require.Eventually(t, func() bool { // the server sees the closed stream and frees its slot
		resp, cancel := open(t)
		defer cancel()
		return resp.StatusCode == http.StatusOK
	}, waitTimeout, 20*time.Millisecond)
}
