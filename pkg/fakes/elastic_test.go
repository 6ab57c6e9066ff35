package fakes_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/fakes"
)

func TestElastic(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		es  *fakes.Elastic
		url string
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		es := fakes.NewElastic("k")
		srv := httptest.NewServer(es)
		t.Cleanup(srv.Close)
		return &testBundle{es: es, url: srv.URL}
	}
	type itemAnswer struct {
		Status int    `json:"status"`
		Result string `json:"result"`
		Error  *struct {
			Type string `json:"type"`
		} `json:"error"`
	}
	type bulkAnswer struct {
		Errors bool                    `json:"errors"`
		Items  []map[string]itemAnswer `json:"items"`
	}
	post := func(t *testing.T, url, auth, contentType, body string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", contentType)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, b
	}
	bulk := func(t *testing.T, b *testBundle, body string) bulkAnswer {
		t.Helper()
		resp, raw := post(t, b.url+"/_bulk", "ApiKey k", "application/x-ndjson", body)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(raw))
		require.Equal(t, "Elasticsearch", resp.Header.Get("X-Elastic-Product"))
		var a bulkAnswer
		require.NoError(t, json.Unmarshal(raw, &a))
		return a
	}
	doc := func(index, id, src string) string {
		return `{"create":{"_index":"` + index + `","_id":"` + id + `"}}` + "\n" + src + "\n"
	}

	t.Run("Auth", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, auth := range []string{"", "ApiKey wrong", "Basic ZGV2OmRldg=="} {
			resp, raw := post(t, b.url+"/_bulk", auth, "application/x-ndjson", doc("i", "1", `{}`))
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode, auth)
			require.Equal(t, "Elasticsearch", resp.Header.Get("X-Elastic-Product"))
			require.Contains(t, string(raw), "security_exception")
		}
		b.es.SetBasicAuth("dev", "dev")
		resp, _ := post(t, b.url+"/_bulk", "Basic ZGV2OmRldg==", "application/x-ndjson", doc("i", "1", `{}`))
		require.Equal(t, http.StatusOK, resp.StatusCode)
	})

	t.Run("CreateConflictAndOrder", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		a := bulk(t, b, doc("audit-2025.03", "1", `{"seq":1}`)+doc("audit-2025.03", "2", `{"seq":2}`))
		require.False(t, a.Errors)
		require.Equal(t, 201, a.Items[0]["create"].Status)
		require.Equal(t, "created", a.Items[1]["create"].Result)

		a = bulk(t, b, doc("audit-2025.03", "2", `{"seq":2}`)+doc("audit-2025.03", "3", `{"seq":3}`))
		require.True(t, a.Errors)
		require.Equal(t, 409, a.Items[0]["create"].Status)
		require.Equal(t, "version_conflict_engine_exception", a.Items[0]["create"].Error.Type)
		require.Equal(t, 201, a.Items[1]["create"].Status)

		require.Equal(t, 3, b.es.Count())
		require.Equal(t, 4, b.es.Items())
		require.Equal(t, 2, b.es.Requests())
		var ids []string
		for _, d := range b.es.Docs() {
			ids = append(ids, d.ID)
		}
		require.Equal(t, []string{"1", "2", "3"}, ids, "acceptance order")
		src, ok := b.es.Doc("audit-2025.03", "2")
		require.True(t, ok)
		require.JSONEq(t, `{"seq":2}`, string(src))
	})

	t.Run("FailItems", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.es.FailNextItems(1, http.StatusTooManyRequests)
		b.es.FailID("3", 1, http.StatusBadRequest)
		a := bulk(t, b, doc("i", "1", `{}`)+doc("i", "2", `{}`)+doc("i", "3", `{}`)+doc("i", "4", `not json`))
		require.True(t, a.Errors)
		require.Equal(t, 429, a.Items[0]["create"].Status)
		require.Equal(t, "es_rejected_execution_exception", a.Items[0]["create"].Error.Type)
		require.Equal(t, 201, a.Items[1]["create"].Status)
		require.Equal(t, 400, a.Items[2]["create"].Status)
		require.Equal(t, "mapper_parsing_exception", a.Items[3]["create"].Error.Type, "a source that is not an object")
		require.Equal(t, 1, b.es.Count())
		a = bulk(t, b, doc("i", "1", `{}`)+doc("i", "3", `{}`))
		require.False(t, a.Errors, "the faults were used up")
	})

	t.Run("RequestFaults", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.es.FailNextRequests(1, http.StatusServiceUnavailable)
		resp, _ := post(t, b.url+"/_bulk", "ApiKey k", "application/x-ndjson", doc("i", "1", `{}`))
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		require.Zero(t, b.es.Count())

		b.es.LoseNextAnswers(1)
		resp, _ = post(t, b.url+"/_bulk", "ApiKey k", "application/x-ndjson", doc("i", "1", `{}`))
		require.Equal(t, http.StatusBadGateway, resp.StatusCode)
		require.Equal(t, 1, b.es.Count(), "stored, answer lost")

		b.es.SetDown(true)
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, b.url+"/_bulk", strings.NewReader(doc("i", "2", `{}`)))
		require.NoError(t, err)
		_, err = http.DefaultClient.Do(req)
		require.Error(t, err, "down: the connection closes without an answer")
		b.es.SetDown(false)
		require.Equal(t, "created", bulk(t, b, doc("i", "2", `{}`)).Items[0]["create"].Result)
	})

	t.Run("BadRequests", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		resp, _ := post(t, b.url+"/_bulk", "ApiKey k", "text/plain", doc("i", "1", `{}`))
		require.Equal(t, http.StatusNotAcceptable, resp.StatusCode)
		resp, raw := post(t, b.url+"/_bulk", "ApiKey k", "application/x-ndjson", `{"create":{"_index":"i","_id":"1"}}`+"\n")
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		require.Contains(t, string(raw), "illegal_argument_exception")
		resp, _ = post(t, b.url+"/_bulk", "ApiKey k", "application/x-ndjson", `{"upsert":{}}`+"\n{}\n")
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		a := bulk(t, b, `{"index":{"_index":"i","_id":"9"}}`+"\n{\"v\":1}\n"+`{"index":{"_index":"i","_id":"9"}}`+"\n{\"v\":2}\n"+
			`{"delete":{"_index":"i","_id":"9"}}`+"\n")
		require.Equal(t, 201, a.Items[0]["index"].Status)
		require.Equal(t, 200, a.Items[1]["index"].Status)
		require.Equal(t, "deleted", a.Items[2]["delete"].Result)
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, b.url+"/", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "ApiKey k")
		resp, err = http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "Elasticsearch", resp.Header.Get("X-Elastic-Product"))
	})
}
