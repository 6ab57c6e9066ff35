package fakes_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/fakes"
)

func TestTableau(t *testing.T) {
	t.Parallel()
	auth := fakes.TableauAuth{ClientID: "app", SecretID: "kid", SecretValue: "secret", Username: "svc", SiteContentURL: "site",
		DatasourceLUID: "ds"}
	newFake := func(t *testing.T) *fakes.Tableau {
		t.Helper()
		f, err := fakes.NewTableau("../../../shared/data/external/tableau", auth)
		require.NoError(t, err)
		return f
	}
	// token signs a JWT with claims and header changes (nil deletes).
	token := func(t *testing.T, claims, header map[string]any) string {
		t.Helper()
		c := jwt.MapClaims{"iss": "app", "sub": "svc", "aud": "tableau", "exp": time.Now().Add(5 * time.Minute).Unix(),
			"iat": time.Now().Unix(), "jti": "j1", "scp": []string{"tableau:viz_data_service:read"}}
		for k, v := range claims {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
		tok.Header["kid"], tok.Header["iss"] = "kid", "app"
		maps.Copy(tok.Header, header)
		s, err := tok.SignedString([]byte("secret"))
		require.NoError(t, err)
		return s
	}
	post := func(t *testing.T, f *fakes.Tableau, path, session string, body any) *httptest.ResponseRecorder {
		t.Helper()
		b, err := json.Marshal(body)
		require.NoError(t, err)
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/tableau"+path, bytes.NewReader(b))
		if session != "" {
			req.Header.Set("X-Tableau-Auth", session)
		}
		rec := httptest.NewRecorder()
		f.ServeHTTP(rec, req)
		return rec
	}
	signIn := func(t *testing.T, f *fakes.Tableau, jwtTok string) (*httptest.ResponseRecorder, string) {
		t.Helper()
		rec := post(t, f, "/api/3.21/auth/signin", "", map[string]any{"credentials": map[string]any{"jwt": jwtTok, "site": map[string]any{"contentUrl": "site"}}})
		var out struct {
			Credentials struct {
				Token string `json:"token"`
				Site  struct {
					ContentURL string `json:"contentUrl"`
				} `json:"site"`
			} `json:"credentials"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		return rec, out.Credentials.Token
	}
	query := func(fields []string, startsWith string) map[string]any {
		fs := make([]map[string]string, len(fields))
		for i, f := range fields {
			fs[i] = map[string]string{"fieldCaption": f}
		}
		q := map[string]any{"fields": fs}
		if startsWith != "" {
			q["filters"] = []map[string]any{{"field": map[string]string{"fieldCaption": "IN_Departure date"}, "filterType": "MATCH", "startsWith": startsWith}}
		}
		return map[string]any{"datasource": map[string]string{"datasourceLuid": "ds"}, "query": q,
			"options": map[string]any{"returnFormat": "OBJECTS", "disaggregate": true}}
	}
	rows := func(t *testing.T, rec *httptest.ResponseRecorder) []map[string]any {
		t.Helper()
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var out struct {
			Data []map[string]any `json:"data"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out))
		return out.Data
	}

	t.Run("GeneratedRowsAndFilters", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		f.SetRows(1200, 2030, []string{"1", "2", "3"})
		_, s := signIn(t, f, token(t, nil, nil))
		all := rows(t, post(t, f, "/api/v1/vizql-data-service/query-datasource", s, query([]string{"IN_Departure date", "Centre financier"}, "")))
		require.Len(t, all, 1200)
		may := rows(t, post(t, f, "/api/v1/vizql-data-service/query-datasource", s, query([]string{"IN_Departure date", "Centre financier"}, "203005")))
		require.Len(t, may, 100)
		require.Equal(t, map[string]any{"IN_Departure date": "20300501", "Centre financier": "F2"}, may[0], "row 4: May, day 1, the second cf")
	})

	t.Run("JWTChecks", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		for name, tok := range map[string]string{
			"Audience": token(t, map[string]any{"aud": "other"}, nil),
			"Expired":  token(t, map[string]any{"exp": time.Now().Add(-time.Minute).Unix()}, nil),
			"Issuer":   token(t, map[string]any{"iss": "other"}, nil),
			"Kid":      token(t, nil, map[string]any{"kid": "other"}),
			"Scope":    token(t, map[string]any{"scp": []string{"tableau:content:read"}}, nil),
			"Subject":  token(t, map[string]any{"sub": "someone"}, nil),
		} {
			rec, _ := signIn(t, f, tok)
			require.Equal(t, http.StatusUnauthorized, rec.Code, name)
			require.Contains(t, rec.Body.String(), `"summary":"Signin Error"`, name)
		}
		rec, s := signIn(t, f, token(t, nil, nil))
		require.Equal(t, http.StatusOK, rec.Code)
		require.NotEmpty(t, s)
		require.Contains(t, rec.Body.String(), `"contentUrl":"co2demo"`, "the recorded answer")
	})

	t.Run("SessionRequired", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		rec := post(t, f, "/api/v1/vizql-data-service/read-metadata", "forged", map[string]any{"datasource": map[string]string{"datasourceLuid": "ds"}})
		require.Equal(t, http.StatusUnauthorized, rec.Code)
		_, s := signIn(t, f, token(t, nil, nil))
		require.Equal(t, http.StatusNotFound, post(t, f, "/api/v1/vizql-data-service/read-metadata", s,
			map[string]any{"datasource": map[string]string{"datasourceLuid": "other"}}).Code)
		require.Equal(t, http.StatusNoContent, post(t, f, "/api/3.21/auth/signout", s, nil).Code)
		require.Equal(t, http.StatusUnauthorized, post(t, f, "/api/v1/vizql-data-service/read-metadata", s,
			map[string]any{"datasource": map[string]string{"datasourceLuid": "ds"}}).Code, "signed out")
	})

	t.Run("RenamedField", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		f.RenameField("Centre financier", "CF")
		_, s := signIn(t, f, token(t, nil, nil))
		rec := post(t, f, "/api/v1/vizql-data-service/read-metadata", s, map[string]any{"datasource": map[string]string{"datasourceLuid": "ds"}})
		require.Equal(t, http.StatusOK, rec.Code)
		require.Contains(t, rec.Body.String(), `"fieldCaption":"CF"`)
		require.NotContains(t, rec.Body.String(), `"fieldCaption":"Centre financier"`)
		rec = post(t, f, "/api/v1/vizql-data-service/query-datasource", s, query([]string{"Centre financier"}, ""))
		require.Equal(t, http.StatusBadRequest, rec.Code)
		require.Contains(t, rec.Body.String(), "Unknown field: Centre financier")
		require.Len(t, rows(t, post(t, f, "/api/v1/vizql-data-service/query-datasource", s, query([]string{"CF"}, ""))), 27)
	})
}
