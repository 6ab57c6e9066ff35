package accred_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/accred"
)

func TestGet(t *testing.T) {
	t.Parallel()

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "user" || p != "secret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/ok":
			if r.URL.Query().Get("page") != "1" {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			_, _ = w.Write([]byte(`{"count": 2}`))
		case "/busy":
			w.WriteHeader(http.StatusTooManyRequests)
		case "/down":
			w.WriteHeader(http.StatusBadGateway)
		case "/garbage":
			_, _ = w.Write([]byte(`<html>`))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	client := &accred.Client{BaseURL: srv.URL + "/", Username: "user", Password: "secret"}

	var out struct {
		Count int `json:"count"`
	}
	require.NoError(t, client.Get(t.Context(), "/ok", url.Values{"page": {"1"}}, &out))
	require.Equal(t, 2, out.Count)

	for _, tt := range []struct {
		name, path string
		client     *accred.Client
		kind       accred.Kind
		detail     string
	}{
		{name: "Busy", path: "/busy", kind: accred.Unavailable, detail: "HTTP 429"},
		{name: "Down", path: "/down", kind: accred.Unavailable, detail: "HTTP 502"},
		{name: "Garbage", path: "/garbage", kind: accred.Unexpected, detail: "the answer is not the documented JSON"},
		{name: "NotFound", path: "/nope", kind: accred.Unexpected, detail: "HTTP 404"},
		{name: "Refused", path: "/ok", client: &accred.Client{BaseURL: srv.URL, Username: "user", Password: "wrong"},
			kind: accred.Refused, detail: "credentials refused (HTTP 401)"},
		{name: "NoServer", path: "/ok", client: &accred.Client{BaseURL: "http://127.0.0.1:1"}, kind: accred.Unavailable},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := client
			if tt.client != nil {
				c = tt.client
			}
			err := c.Get(t.Context(), tt.path, nil, &out)
			var ae *accred.Error
			require.ErrorAs(t, err, &ae)
			require.Equal(t, tt.path, ae.Path)
			kind, detail := accred.Classify(err)
			require.Equal(t, tt.kind, kind)
			require.Contains(t, detail, tt.detail)
			require.Contains(t, err.Error(), "accred GET "+tt.path)
		})
	}
	kind, detail := accred.Classify(errors.New("other"))
	require.Equal(t, accred.Unexpected, kind)
	require.Equal(t, "other", detail)
}
