package tableau_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/fakes"
	"github.com/co2-calculator/co2-calculator/pkg/tableau"
)

// fixtures are the recorded Tableau answers the fake serves.
const fixtures = "../../../shared/data/external/tableau"

var fakeAuth = fakes.TableauAuth{ClientID: "app-1", SecretID: "kid-1", SecretValue: "s3cr3t-value", Username: "svc-co2",
	SiteContentURL: "co2demo", DatasourceLUID: "ds-0001"}

// newFake serves a fake Tableau under /tableau and returns a client of it
// that retries at once.
func newFake(t *testing.T) (*fakes.Tableau, *tableau.Client) {
	t.Helper()
	fake, err := fakes.NewTableau(fixtures, fakeAuth)
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/tableau/", fake)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return fake, &tableau.Client{ServerURL: srv.URL + "/tableau", SiteContentURL: fakeAuth.SiteContentURL,
		ClientID: fakeAuth.ClientID, SecretID: fakeAuth.SecretID, SecretValue: fakeAuth.SecretValue, Username: fakeAuth.Username,
		DatasourceLUID: fakeAuth.DatasourceLUID, HTTP: srv.Client(), Backoff: func(int) time.Duration { return 0 }}
}

// march queries the rows of 2025-03 and returns them with the number of
// attempts (start calls).
func march(ctx context.Context, s *tableau.Session) ([]tableau.Row, int, error) {
	var rows []tableau.Row
	starts := 0
	err := s.Query(ctx, tableau.Query{Captions: tableau.Captions(), FilterCaption: tableau.CaptionDeparture, StartsWith: "202503"},
		func() { rows, starts = nil, starts+1 }, func(r tableau.Row) error { rows = append(rows, r); return nil })
	return rows, starts, err
}

func TestClient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("CutShortPageRetried", func(t *testing.T) {
		t.Parallel()
		fake, c := newFake(t)
		fake.FailPage("202503", 1, 0) // the connection breaks mid-answer
		s, err := c.SignIn(ctx)
		require.NoError(t, err)
		rows, starts, err := march(ctx, s)
		require.NoError(t, err)
		require.Equal(t, 2, starts, "the broken attempt's rows were dropped")
		require.Len(t, rows, 3)
	})

	t.Run("ExpiredTokenSignsInAgain", func(t *testing.T) {
		t.Parallel()
		fake, c := newFake(t)
		fake.ExpireTokensAfter(1)
		s, err := c.SignIn(ctx)
		require.NoError(t, err)
		fields, err := s.ReadMetadata(ctx)
		require.NoError(t, err)
		require.NotEmpty(t, fields)
		rows, _, err := march(ctx, s) // the token served its one call: 401, sign in, repeat
		require.NoError(t, err)
		require.Len(t, rows, 3)
		require.Equal(t, 2, s.SignIns())
	})

	t.Run("FailedPageRetried", func(t *testing.T) {
		t.Parallel()
		fake, c := newFake(t)
		fake.FailPage("202503", 2, http.StatusBadGateway)
		s, err := c.SignIn(ctx)
		require.NoError(t, err)
		rows, starts, err := march(ctx, s)
		require.NoError(t, err)
		require.Equal(t, 3, starts)
		require.Len(t, rows, 3)
	})

	t.Run("ForbiddenIsRefused", func(t *testing.T) {
		t.Parallel()
		fake, c := newFake(t)
		fake.ForbidQueries(true)
		s, err := c.SignIn(ctx)
		require.NoError(t, err)
		_, err = s.ReadMetadata(ctx)
		require.Equal(t, tableau.Refused, tableau.KindOf(err))
		require.ErrorContains(t, err, "HTTP 403")
	})

	t.Run("JWT", func(t *testing.T) {
		t.Parallel()
		c := &tableau.Client{ClientID: "app", SecretID: "kid", SecretValue: "secret", Username: "svc",
			Now: func() time.Time { return time.Unix(1_750_000_000, 0) }}
		raw, err := c.JWT()
		require.NoError(t, err)
		tok, err := jwt.Parse(raw, func(*jwt.Token) (any, error) { return []byte("secret"), nil },
			jwt.WithTimeFunc(func() time.Time { return time.Unix(1_750_000_100, 0) }))
		require.NoError(t, err)
		require.Equal(t, "HS256", tok.Header["alg"])
		require.Equal(t, "kid", tok.Header["kid"])
		require.Equal(t, "app", tok.Header["iss"])
		claims := tok.Claims.(jwt.MapClaims) //nolint:forcetypeassert // jwt.Parse's default
		require.Equal(t, "app", claims["iss"])
		require.Equal(t, "svc", claims["sub"])
		require.Equal(t, "tableau", claims["aud"])
		require.InDelta(t, 1_750_000_300, claims["exp"], 0)
		require.InDelta(t, 1_750_000_000, claims["iat"], 0)
		require.NotEmpty(t, claims["jti"])
		require.Equal(t, []any{"tableau:viz_data_service:read"}, claims["scp"])
	})

	t.Run("PageKeepsFailing", func(t *testing.T) {
		t.Parallel()
		fake, c := newFake(t)
		c.Retries = 2
		fake.FailPage("202503", 10, http.StatusServiceUnavailable)
		s, err := c.SignIn(ctx)
		require.NoError(t, err)
		_, starts, err := march(ctx, s)
		require.Equal(t, tableau.Unavailable, tableau.KindOf(err))
		require.ErrorContains(t, err, "query-datasource (202503): HTTP 503")
		require.Equal(t, 3, starts)
	})

	t.Run("ReadsTheRecordedAnswers", func(t *testing.T) {
		t.Parallel()
		fake, c := newFake(t)
		s, err := c.SignIn(ctx)
		require.NoError(t, err)
		fields, err := s.ReadMetadata(ctx)
		require.NoError(t, err)
		var captions []string
		for _, f := range fields {
			captions = append(captions, f.FieldCaption)
		}
		require.Subset(t, captions, tableau.Captions())
		rows, starts, err := march(ctx, s)
		require.NoError(t, err)
		require.Equal(t, 1, starts)
		require.Len(t, rows, 3, "the MATCH filter keeps March 2025")
		for _, r := range rows {
			require.Len(t, r, len(tableau.Captions()), "only the fields asked for")
			require.True(t, strings.HasPrefix(string(r[tableau.CaptionDeparture]), `"202503`))
		}
		s.SignOut(ctx)
		signIns, queries, signOuts := fake.Counts()
		require.Equal(t, []int{1, 1, 1}, []int{signIns, queries, signOuts})
	})

	t.Run("WrongSecretIsRefused", func(t *testing.T) {
		t.Parallel()
		_, c := newFake(t)
		c.SecretValue = "not-the-secret"
		_, err := c.SignIn(ctx)
		require.Equal(t, tableau.Refused, tableau.KindOf(err))
		require.ErrorContains(t, err, "sign-in: credentials refused (HTTP 401)")
	})
}
