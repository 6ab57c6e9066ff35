package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/httpapi"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// POST /integrations/tableau/sync (docs/api.md §14) through the real
// router: 202 with a tableau_sync pipeline whose job is
// tableau_travel_sync{year}, a second request joining the year's waiting
// sync, and the refusals.
func TestTableauSyncAPI(t *testing.T) {
	t.Parallel()
	ctx := t.Context()

	e := newAuthEnv(t, nil)
	client, err := jobs.NewInsertClient(e.schema.Pool)
	require.NoError(t, err)
	configured := e.deps
	configured.River, configured.TableauConfigured = client, true
	unconfigured := configured
	unconfigured.TableauConfigured = false
	admin := e.login(t, "admin")
	for y, st := range map[int32]string{2024: "closed", 2025: "open", 2026: "ready", 2027: "setting_up"} {
		testfactory.Year(ctx, t, e.schema.Pool, &testfactory.YearOpts{Year: &y, Status: &st})
	}
	post := func(t *testing.T, deps httpapi.Deps, body string) *httpResult {
		t.Helper()
		rec := admin.send(t, httpapi.NewRouter(deps), http.MethodPost, "/api/v1/integrations/tableau/sync", "application/json",
			strings.NewReader(body), nil)
		return &httpResult{status: rec.Code, body: rec.Body.String()}
	}

	type pipelineJSON struct {
		ID      string `json:"id"`
		Kind    string `json:"kind"`
		Trigger string `json:"trigger"`
		Year    int32  `json:"year"`
		Jobs    []struct {
			JobID int64  `json:"job_id"`
			Kind  string `json:"kind"`
		} `json:"jobs"`
	}

	t.Run("AcceptedThenJoined", func(t *testing.T) {
		t.Parallel()
		first := post(t, configured, `{"year": 2026}`)
		require.Equal(t, http.StatusAccepted, first.status, first.body)
		var p pipelineJSON
		require.NoError(t, json.Unmarshal([]byte(first.body), &p))
		require.Equal(t, "tableau_sync", p.Kind)
		require.Equal(t, "user", p.Trigger)
		require.Equal(t, int32(2026), p.Year)
		require.Len(t, p.Jobs, 1)
		require.Equal(t, "tableau_travel_sync", p.Jobs[0].Kind)

		second := post(t, configured, `{"year": 2026}`)
		require.Equal(t, http.StatusAccepted, second.status, second.body)
		var q pipelineJSON
		require.NoError(t, json.Unmarshal([]byte(second.body), &q))
		require.NotEqual(t, p.ID, q.ID, "a pipeline of its own")
		require.Equal(t, p.Jobs[0].JobID, q.Jobs[0].JobID, "one run at a time per year: the waiting sync is joined")

		var audited int
		require.NoError(t, e.schema.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE event = 'integration.trigger'
			AND snapshot ->> 'integration' = 'tableau' AND (snapshot ->> 'year')::int = 2026`).Scan(&audited))
		require.Equal(t, 2, audited)
		var args string
		require.NoError(t, e.schema.Pool.QueryRow(ctx, `SELECT args::text FROM river_job WHERE id = $1`, p.Jobs[0].JobID).Scan(&args))
		require.JSONEq(t, `{"year": 2026}`, args)
	})

	t.Run("Refusals", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			name   string
			deps   httpapi.Deps
			body   string
			status int
			code   string
		}{
			{"Closed", configured, `{"year": 2024}`, http.StatusConflict, "year_closed"},
			{"Malformed", configured, `{"year": `, http.StatusBadRequest, "bad_request"},
			{"MissingYear", configured, `{}`, http.StatusUnprocessableEntity, "validation_failed"},
			{"NotConfigured", unconfigured, `{"year": 2025}`, http.StatusConflict, "integration_not_configured"},
			{"NotReady", configured, `{"year": 2027}`, http.StatusConflict, "year_not_ready"},
			{"OutOfRange", configured, `{"year": 1999}`, http.StatusUnprocessableEntity, "validation_failed"},
			{"UnknownField", configured, `{"year": 2025, "force": true}`, http.StatusUnprocessableEntity, "validation_failed"},
			{"UnknownYear", configured, `{"year": 2031}`, http.StatusNotFound, "not_found"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				res := post(t, tc.deps, tc.body)
				require.Equal(t, tc.status, res.status, res.body)
				var body struct {
					Error struct {
						Code string `json:"code"`
					} `json:"error"`
				}
				require.NoError(t, json.Unmarshal([]byte(res.body), &body))
				require.Equal(t, tc.code, body.Error.Code)
			})
		}
	})
}

// httpResult is what a request answered.
type httpResult struct {
	status int
	body   string
}
