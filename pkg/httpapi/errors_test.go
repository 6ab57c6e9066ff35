package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/httpapi"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

func TestHTTPStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code     apperr.Code
		status   int
		wireCode string
	}{
		{code: apperr.CodeConflict, status: http.StatusConflict, wireCode: "conflict"},
		{code: apperr.CodeForbidden, status: http.StatusForbidden, wireCode: "forbidden"},
		{code: apperr.CodeInternal, status: http.StatusInternalServerError, wireCode: "internal"},
		{code: apperr.CodeInvalid, status: http.StatusBadRequest, wireCode: "bad_request"},
		{code: apperr.CodeNotFound, status: http.StatusNotFound, wireCode: "not_found"},
		{code: apperr.CodeTooLarge, status: http.StatusRequestEntityTooLarge, wireCode: "payload_too_large"},
		{code: apperr.CodeUnauthorized, status: http.StatusUnauthorized, wireCode: "unauthenticated"},
		{code: apperr.CodeUnavailable, status: http.StatusServiceUnavailable, wireCode: "not_ready"},
		{code: apperr.CodeUnsupportedMedia, status: http.StatusUnsupportedMediaType, wireCode: "unsupported_media_type"},
		{code: apperr.CodeValidation, status: http.StatusUnprocessableEntity, wireCode: "validation_failed"},
		{code: apperr.Code("made_up"), status: http.StatusInternalServerError, wireCode: "internal"},
	}
	for _, tt := range tests {
		t.Run(string(tt.code), func(t *testing.T) {
			t.Parallel()
			status, wireCode := httpapi.HTTPStatus(tt.code)
			require.Equal(t, tt.status, status)
			require.Equal(t, tt.wireCode, wireCode)
		})
	}
}

// logBuffer is a logger writing JSON lines into a buffer.
func logBuffer() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewJSONHandler(&buf, nil)), &buf
}

func TestWriteError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		err     error
		status  int
		want    string
		logged  bool
		secrets []string // must not reach the client
	}{
		{
			name:   "AppErrorKeepsMessage",
			err:    apperr.NotFound("pipeline %s not found", "p1"),
			status: http.StatusNotFound,
			want:   `{"error":{"code":"not_found","message":"pipeline p1 not found","details":[]}}`,
		},
		{
			name:    "AppErrorCauseHidden",
			err:     &apperr.Error{Code: apperr.CodeConflict, Message: "year closed", Cause: errors.New("pq: secret-cause")},
			status:  http.StatusConflict,
			want:    `{"error":{"code":"conflict","message":"year closed","details":[]}}`,
			secrets: []string{"secret-cause"},
		},
		{
			name:    "AppInternalIsGeneric",
			err:     apperr.New(apperr.CodeInternal, "query on table secret_table failed"),
			status:  http.StatusInternalServerError,
			want:    `{"error":{"code":"internal","message":"internal error","details":[]}}`,
			logged:  true,
			secrets: []string{"secret_table"},
		},
		{
			name:    "InternalError",
			err:     fmt.Errorf("error reading pipeline: %w", errors.New("dial tcp 10.0.0.7:5432: password=hunter2")),
			status:  http.StatusInternalServerError,
			want:    `{"error":{"code":"internal","message":"internal error","details":[]}}`,
			logged:  true,
			secrets: []string{"hunter2", "10.0.0.7"},
		},
		{
			name: "ValidationDetails",
			err: apperr.Validation("2 fields are invalid",
				apperr.FieldError{Field: "data.fte", Code: "out_of_range", Message: "must be between 0 and 1"},
				apperr.FieldError{Field: "year", Code: "required", Message: "is required"}),
			status: http.StatusUnprocessableEntity,
			want: `{"error":{"code":"validation_failed","message":"2 fields are invalid","details":[
				{"field":"data.fte","code":"out_of_range","message":"must be between 0 and 1"},
				{"field":"year","code":"required","message":"is required"}]}}`,
		},
		{
			name:   "WrappedAppError",
			err:    fmt.Errorf("handler: %w", apperr.Invalid("bad cursor")),
			status: http.StatusBadRequest,
			want:   `{"error":{"code":"bad_request","message":"bad cursor","details":[]}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logger, logs := logBuffer()
			rec := httptest.NewRecorder()
			httpapi.WriteError(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/api/v1/x", nil), logger, tt.err)
			require.Equal(t, tt.status, rec.Code)
			require.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
			require.JSONEq(t, tt.want, rec.Body.String())
			for _, s := range tt.secrets {
				require.NotContains(t, rec.Body.String(), s)
			}
			if tt.logged {
				require.Contains(t, logs.String(), `"msg":"request failed"`)
				require.Contains(t, logs.String(), tt.err.Error(), "the cause is logged")
			} else {
				require.Empty(t, logs.String())
			}
		})
	}
}

func TestWriteErrorClientGone(t *testing.T) {
	t.Parallel()
	t.Run("Abandoned", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		cancel() // the client disconnected
		logger, logs := logBuffer()
		rec := httptest.NewRecorder()
		httpapi.WriteError(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, "/api/v1/x", nil), logger,
			fmt.Errorf("error aggregating classes: %w", context.Canceled))
		require.Equal(t, 499, rec.Code, "recorded as closed by the client, not as a 500")
		require.Empty(t, rec.Body.String())
		require.NotContains(t, logs.String(), "request failed")
	})
	t.Run("CanceledWhileClientWaits", func(t *testing.T) {
		t.Parallel()
		// A context.Canceled that is not the request's own is a failure.
		logger, logs := logBuffer()
		rec := httptest.NewRecorder()
		httpapi.WriteError(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/api/v1/x", nil), logger,
			fmt.Errorf("error reading: %w", context.Canceled))
		require.Equal(t, http.StatusInternalServerError, rec.Code)
		require.Contains(t, logs.String(), `"msg":"request failed"`)
	})
}

func TestRecoverer(t *testing.T) {
	t.Parallel()

	t.Run("AbortHandlerRepanics", func(t *testing.T) {
		t.Parallel()
		h := httpapi.Recoverer(testdb.QuietLogger())(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			panic(http.ErrAbortHandler)
		}))
		require.PanicsWithValue(t, http.ErrAbortHandler, func() {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil))
		})
	})

	t.Run("NoPanic", func(t *testing.T) {
		t.Parallel()
		h := httpapi.Recoverer(testdb.QuietLogger())(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusNoContent)
		}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil))
		require.Equal(t, http.StatusNoContent, rec.Code)
	})

	t.Run("PanicIs500JSON", func(t *testing.T) {
		t.Parallel()
		logger, logs := logBuffer()
		h := httpapi.Recoverer(logger)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			panic("nil map write in secret_handler")
		}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/api/v1/x", nil))
		require.Equal(t, http.StatusInternalServerError, rec.Code)
		require.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
		require.JSONEq(t, `{"error":{"code":"internal","message":"internal error","details":[]}}`, rec.Body.String())
		require.NotContains(t, rec.Body.String(), "secret_handler")
		require.Contains(t, logs.String(), `"msg":"panic in handler"`)
		require.Contains(t, logs.String(), "secret_handler")
	})
}
