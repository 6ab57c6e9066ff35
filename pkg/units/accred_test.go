package units_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/fakes"
	"github.com/co2-calculator/co2-calculator/pkg/units"
)

// accredFixtures is the repository's Accred fixture directory.
const accredFixtures = "../../../shared/data/external/accred"

// accredSource serves dir with the Accred fake and returns a source
// reading it, and the fake.
func accredSource(t *testing.T, dir string) (*units.Accred, *fakes.Accred) {
	t.Helper()
	fake := fakes.NewAccred(dir, "u", "p")
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return &units.Accred{BaseURL: srv.URL + "/prefix", Username: "u", Password: "p", Client: srv.Client(), PageSize: 7}, fake
}

func byCode(list []units.Unit) map[string]units.Unit {
	out := map[string]units.Unit{}
	for _, u := range list {
		out[u.Code] = u
	}
	return out
}

func reasonOf(t *testing.T, err error) apperr.Reason {
	t.Helper()
	ae, ok := errors.AsType[*apperr.Error](err)
	require.True(t, ok, "want an application error, got %v", err)
	return ae.Reason
}

func TestAccredFetch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("Garbage", func(t *testing.T) {
		t.Parallel()
		for name, body := range map[string]string{
			"NotJSON":      "<html>maintenance</html>",
			"NoUnits":      `{"count": 3}`,
			"StringID":     `{"count": 1, "units": [{"id": "x", "name": "A", "level": 1}]}`,
			"NoName":       `{"count": 1, "units": [{"id": 1, "name": "", "level": 1}]}`,
			"BadLevel":     `{"count": 1, "units": [{"id": 1, "name": "A", "level": 7}]}`,
			"NegativeCnt":  `{"count": -1, "units": []}`,
			"WrongTypeCnt": `{"count": "1", "units": []}`,
		} {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte(body))
			}))
			src := &units.Accred{BaseURL: srv.URL, Client: srv.Client()}
			_, err := src.Fetch(ctx, nil)
			srv.Close()
			require.Error(t, err, name)
			require.Equal(t, units.ReasonUpstreamSchema, reasonOf(t, err), name)
			require.False(t, units.IsUnavailable(err), name)
		}
	})

	t.Run("MapsTheFixture", func(t *testing.T) {
		t.Parallel()
		src, fake := accredSource(t, accredFixtures)
		var calls, last int
		list, err := src.Fetch(ctx, func(done, total int) { calls++; last = done; require.Equal(t, 30, total) })
		require.NoError(t, err)
		require.Len(t, list, 30)
		require.Equal(t, 5, calls, "30 units in pages of 7")
		require.Equal(t, 30, last)
		require.Equal(t, 5, fake.Requests())

		m := byCode(list)
		lab := m["17918"]
		require.Equal(t, "LAB-DEMO", lab.Name)
		require.Equal(t, "7918", *lab.CF)
		require.EqualValues(t, 4, lab.Level)
		require.True(t, lab.Active)
		require.Equal(t, lab.AncestorCodes[len(lab.AncestorCodes)-1], lab.ParentCode)
		require.Len(t, lab.PathNames, len(lab.AncestorCodes)+1)
		require.Equal(t, "LAB-DEMO", lab.PathNames[len(lab.PathNames)-1])
		require.Equal(t, "Laboratoire", *lab.TypeLabel)

		root := m["10000"]
		require.Empty(t, root.ParentCode)
		require.Empty(t, root.AncestorCodes)
		require.Nil(t, root.PrincipalSciper, "responsible null")
		fds := m["10100"]
		require.Equal(t, "200010", *fds.PrincipalSciper)
		require.Equal(t, "Hélène Vidal", *fds.PrincipalName)
		require.Equal(t, "helene.vidal@example.org", *fds.PrincipalEmail)

		require.False(t, m["17923"].Active, "LAB-OLD ended in 2024")
		require.Nil(t, m["17933"].CF, `cf "0" is no cf`)
		require.Nil(t, m["17943"].CF, `an empty cf is no cf`)
	})

	t.Run("RefusedCredentials", func(t *testing.T) {
		t.Parallel()
		src, _ := accredSource(t, accredFixtures)
		src.Password = "wrong"
		_, err := src.Fetch(ctx, nil)
		require.Equal(t, units.ReasonUpstreamAuth, reasonOf(t, err))
	})

	t.Run("Unavailable", func(t *testing.T) {
		t.Parallel()
		src, fake := accredSource(t, accredFixtures)
		fake.FailNext(1)
		_, err := src.Fetch(ctx, nil)
		require.True(t, units.IsUnavailable(err), "%v", err)
		require.Contains(t, err.Error(), "upstream_unavailable: Accred GET /units (page 0): HTTP 503")

		down := &units.Accred{BaseURL: "http://127.0.0.1:1"}
		_, err = down.Fetch(ctx, nil)
		require.True(t, units.IsUnavailable(err), "connection refused is transient: %v", err)
	})

	t.Run("Generated", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		gen, people, err := fakes.GenerateAccred(dir, 120, 300)
		require.NoError(t, err)
		require.Len(t, people, 300)
		src, _ := accredSource(t, dir)
		src.PageSize = 0 // the default 100
		list, err := src.Fetch(ctx, nil)
		require.NoError(t, err)
		require.Len(t, list, len(gen))
		_, err = os.Stat(filepath.Join(dir, "persons", people[0].Sciper+".json"))
		require.NoError(t, err)
	})
}
