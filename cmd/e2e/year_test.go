package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/fakes"
)

// sharedData is the data directory outside the repository
// (docs/jobs.md §5.3).
const sharedData = "../../../shared/data"

// demoModuleKg are the module totals of LAB-DEMO 2025 computed
// independently of the engine: docs/domain.md Appendix A.5 (the same
// numbers as demoTotals in pkg/seed/seed_test.go).
var demoModuleKg = map[string]float64{
	"headcount":           20873.0425,
	"professional_travel": 41995.95,
	"buildings":           21313.15,
	"equipment":           9885.863,
	"purchases":           84797.228,
	"research_facilities": 8026.967,
	"external_cloud_ai":   898.663,
	"process_emissions":   4640.80,
}

// demoModuleEntries are the entry counts of Appendix A.5; the one
// calculation issue is the EM-DEMO facility row in days (Appendix A.1).
var demoModuleEntries = map[string]int64{
	"headcount": 21, "professional_travel": 50, "buildings": 13, "equipment": 40,
	"purchases": 63, "research_facilities": 9, "external_cloud_ai": 12, "process_emissions": 6,
}

// demoKgTolerance: Appendix A.1 compares unrounded values within 0.001 kg,
// but the API rounds kg to 2 decimals at the edge (docs/api.md §1), which
// moves a value by up to 0.005 kg more.
const demoKgTolerance = 0.001 + 0.005

// uploadGroups maps the upload group a file name carries (docs/jobs.md
// §5.2, §5.4; ../shared/data/README.md) to its module and submodule; the
// module files of equipment and purchases have no submodule.
var uploadGroups = map[string][2]string{
	"member": {"headcount", "member"}, "student": {"headcount", "student"},
	"plane": {"professional_travel", "plane"}, "train": {"professional_travel", "train"},
	"room": {"buildings", "room"}, "energy_combustion": {"buildings", "energy_combustion"},
	"embodied_energy": {"buildings", "embodied_energy"},
	"equipment":       {"equipment", ""},
	"purchases":       {"purchases", ""}, "additional": {"purchases", "additional"},
	"facility": {"research_facilities", "facility"}, "animal_facility": {"research_facilities", "animal_facility"},
	"cloud": {"external_cloud_ai", "cloud"}, "ai": {"external_cloud_ai", "ai"},
	"process_gas": {"process_emissions", "process_gas"},
}

// yearPipeline is what the scenario reads of a pipeline.
type yearPipeline struct {
	ID        string         `json:"id"`
	Kind      string         `json:"kind"`
	Status    string         `json:"status"`
	LastError *string        `json:"last_error"`
	Counters  map[string]any `json:"counters"`
	Jobs      []struct {
		Kind      string          `json:"kind"`
		State     string          `json:"state"`
		Message   *string         `json:"message"`
		RowErrors json.RawMessage `json:"row_errors"`
	} `json:"jobs"`
}

// meUnitJSON is an item of GET /me/units.
type meUnitJSON struct {
	Unit struct {
		ID                int64   `json:"id"`
		InstitutionalCode string  `json:"institutional_code"`
		CF                *string `json:"cf"`
		Name              string  `json:"name"`
	} `json:"unit"`
	Role    string             `json:"role"`
	Reports []meUnitReportJSON `json:"reports"`
}

type meUnitReportJSON struct {
	Year int `json:"year"`
}

func (p yearPipeline) counter(name string) float64 {
	v, _ := p.Counters[name].(float64)
	return v
}

// session is a logged-in user of the API: a cookie jar, and the csrf_token
// cookie sent back as X-CSRF-Token on writes (docs/api.md §3.1).
type session struct {
	base string
	c    *http.Client
}

func (s session) csrf(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(s.base + "/api/v1/")
	require.NoError(t, err)
	for _, c := range s.c.Jar.Cookies(u) {
		if c.Name == "csrf_token" {
			return c.Value
		}
	}
	t.Fatal("no csrf_token cookie")
	return ""
}

// call sends a request to /api/v1 and returns the status and body.
func (s session) call(t *testing.T, method, path, contentType string, body io.Reader) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.base+"/api/v1"+path, body)
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if method != http.MethodGet {
		req.Header.Set("X-Csrf-Token", s.csrf(t))
	}
	resp, err := s.c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}

// do sends a JSON request, requires the status and decodes the answer.
func (s session) do(t *testing.T, method, path string, in any, want int, out any) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		require.NoError(t, err)
		body = bytes.NewReader(b)
	}
	status, b := s.call(t, method, path, "application/json", body)
	require.Equal(t, want, status, "%s %s: %s", method, path, b)
	if out != nil {
		require.NoError(t, json.Unmarshal(b, out), "%s %s: %s", method, path, b)
	}
}

// upload posts a back-office upload (docs/api.md §9): the form fields
// first, then the file; it returns the pipeline id.
func (s session) upload(t *testing.T, fields [][2]string, file string) string {
	t.Helper()
	content, err := os.ReadFile(file)
	require.NoError(t, err)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, kv := range fields {
		if kv[1] != "" {
			require.NoError(t, mw.WriteField(kv[0], kv[1]))
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, filepath.Base(file)))
	h.Set("Content-Type", "text/csv")
	fw, err := mw.CreatePart(h)
	require.NoError(t, err)
	_, err = fw.Write(content)
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	status, b := s.call(t, http.MethodPost, "/uploads", mw.FormDataContentType(), &buf)
	require.Equal(t, http.StatusAccepted, status, "upload %s: %s", file, b)
	var out struct {
		Pipeline struct {
			ID string `json:"id"`
		} `json:"pipeline"`
	}
	require.NoError(t, json.Unmarshal(b, &out))
	require.NotEmpty(t, out.Pipeline.ID)
	return out.Pipeline.ID
}

// follow reads the pipeline's SSE stream (docs/api.md §10.1) until its
// end frame and returns the last pipeline frame: the pipeline is terminal,
// aggregate phase included. It fails when the stream has not ended within
// timeout.
func (s session) follow(t *testing.T, id string, timeout time.Duration) yearPipeline {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/api/v1/pipelines/"+id+"/events", nil)
	require.NoError(t, err)
	resp, err := s.c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var (
		last  yearPipeline
		event string
		ended bool
	)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for !ended && sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: ") && event == "pipeline":
			require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &last))
		case strings.HasPrefix(line, "data: ") && event == "end":
			ended = true
		}
	}
	if !ended {
		t.Fatalf("pipeline %s (%s) not terminal after %s (%v): last frame %+v", id, last.Kind, timeout, errors.Join(sc.Err(), ctx.Err()), last)
	}
	return last
}

// requireSucceeded follows a pipeline and requires SUCCESS.
func (s session) requireSucceeded(t *testing.T, what, id string) yearPipeline {
	t.Helper()
	p := s.follow(t, id, 60*time.Second)
	require.Equal(t, "SUCCESS", p.Status, "%s: pipeline %s ended %s: last_error %v, jobs %+v", what, id, p.Status, p.LastError, p.Jobs)
	return p
}

// csvRecords reads a CSV file: its header and records.
func csvRecords(t *testing.T, path string) ([]string, [][]string) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	all, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, all, path)
	return all[0], all[1:]
}

// column returns the values of one column of a CSV file (nil when absent).
func column(t *testing.T, path, name string) []string {
	t.Helper()
	header, records := csvRecords(t, path)
	i := slices.Index(header, name)
	if i < 0 {
		return nil
	}
	out := make([]string, 0, len(records))
	for _, r := range records {
		out = append(out, r[i])
	}
	return out
}

// ecbAnnualRates parses an ECB SDMX CSV of annual rates (docs/jobs.md §10):
// CURRENCY → OBS_VALUE (units per EUR).
func ecbAnnualRates(t *testing.T, path string) map[string]float64 {
	t.Helper()
	cur, obs := column(t, path, "CURRENCY"), column(t, path, "OBS_VALUE")
	require.NotEmpty(t, cur, path)
	require.Len(t, obs, len(cur))
	rates := map[string]float64{}
	for i, c := range cur {
		v, err := strconv.ParseFloat(obs[i], 64)
		require.NoError(t, err, "%s: %s", path, c)
		rates[c] = v
	}
	return rates
}

// groupOf returns the upload group a file name carries:
// <group>_factors_2025.csv or <group>_2025.csv.
func groupOf(t *testing.T, path, suffix string) (group, module, submodule string) {
	t.Helper()
	group, ok := strings.CutSuffix(filepath.Base(path), suffix)
	require.True(t, ok, path)
	ms, ok := uploadGroups[group]
	require.True(t, ok, "no upload group for %s", path)
	return group, ms[0], ms[1]
}

// TestRunAYear is the back office running a reporting year through HTTP
// only (issue 12, "Done means"): on a freshly migrated database (no seed),
// with the real binaries — the api with the built-in dev OIDC provider and
// the dev role fixtures, the worker syncing units from an Accred fake — the
// admin creates 2025, follows its setup to `ready`, opens it, sets the
// 2025 ECB annual rates of the sample currencies by hand, uploads the
// reference data, every 2025 factor file and the LAB-DEMO sample files as
// per-year data files; then the lab principal reads the module totals of
// LAB-DEMO 2025 and they equal the independent figures of docs/domain.md
// Appendix A.5. Every pipeline is followed over its SSE stream to its end.
func TestRunAYear(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(sharedData); err != nil {
		t.Skipf("shared data not available: %v", err)
	}
	t0 := time.Now()
	bin := binaries(t)
	dbURL := freshDatabase(t)
	accred := httptest.NewServer(fakes.NewAccred(filepath.Join(sharedData, "external", "accred"), "dev", "dev"))
	t.Cleanup(accred.Close)
	ecb := httptest.NewServer(fakes.NewECB(filepath.Join(sharedData, "external", "ecb")))
	t.Cleanup(ecb.Close)

	env := []string{"DATABASE_URL=" + dbURL, "BLOB_BACKEND=local", "BLOB_LOCAL_DIR=" + t.TempDir()}
	runCmd(t, bin+"/migrate", env, "up")
	httpAddr := freeAddr(t)
	base := "http://" + httpAddr
	api := start(t, bin+"/api", append(slices.Clone(env), "HTTP_ADDR="+httpAddr, "ADMIN_ADDR=127.0.0.1:0",
		"PUBLIC_BASE_URL="+base, "DEV_OIDC_ENABLED=true", "COOKIE_SECURE=false", "ROLE_PROVIDER=dev"), "serve")
	api.waitLog("api listening", 30*time.Second)
	worker := start(t, bin+"/worker", append(slices.Clone(env), "ADMIN_ADDR=127.0.0.1:0",
		"SCHEDULE_ECB=", "SCHEDULE_ACCRED=", "ECB_BASE_URL="+ecb.URL, "ROLE_PROVIDER=dev",
		"UNIT_PROVIDER=accred", "ACCRED_BASE_URL="+accred.URL, "ACCRED_USERNAME=dev", "ACCRED_PASSWORD=dev"), "run")
	worker.waitLog("worker started", 30*time.Second)
	started := time.Since(t0)

	admin := session{base: base, c: login(t, base, "admin")}

	// 1. Create 2025; its setup syncs the units from Accred.
	var created struct {
		Pipeline struct {
			ID string `json:"id"`
		} `json:"pipeline"`
	}
	admin.do(t, http.MethodPost, "/years", map[string]int{"year": 2025}, http.StatusAccepted, &created)
	setup := admin.requireSucceeded(t, "year setup", created.Pipeline.ID)
	require.Equal(t, "year_setup", setup.Kind)
	require.Positive(t, setup.counter("units_synced"), "%+v", setup.Counters)
	t.Logf("year setup: %v units synced, %v reports created", setup.Counters["units_synced"], setup.Counters["reports_created"])
	var year struct {
		Status string `json:"status"`
	}
	admin.do(t, http.MethodGet, "/years/2025", nil, http.StatusOK, &year)
	require.Equal(t, "ready", year.Status)

	// 2. Open it.
	admin.do(t, http.MethodPatch, "/years/2025", map[string]string{"status": "open"}, http.StatusOK, &year)
	require.Equal(t, "open", year.Status)

	// 3. The 2025 ECB annual rate of every currency the sample files use.
	samples, err := filepath.Glob(filepath.Join(sharedData, "samples", "*_2025.csv"))
	require.NoError(t, err)
	require.Len(t, samples, 14, "the fourteen sample files of docs/domain.md Appendix A.2")
	var currencies []string
	for _, f := range samples {
		for _, c := range column(t, f, "currency") {
			if c = strings.ToUpper(strings.TrimSpace(c)); c != "" && c != "EUR" && !slices.Contains(currencies, c) {
				currencies = append(currencies, c)
			}
		}
	}
	slices.Sort(currencies)
	require.Equal(t, []string{"CHF", "USD"}, currencies, "docs/domain.md Appendix A.2")
	rates := ecbAnnualRates(t, filepath.Join(sharedData, "external", "ecb", "exr_A_2025.csv"))
	for _, c := range currencies {
		perEUR, ok := rates[c]
		require.True(t, ok, "no 2025 ECB rate for %s", c)
		var set struct {
			Rate struct {
				PerEUR float64 `json:"per_eur"`
				Source string  `json:"source"`
			} `json:"rate"`
			Pipeline struct {
				ID string `json:"id"`
			} `json:"pipeline"`
		}
		admin.do(t, http.MethodPut, "/fx-rates/2025/"+c, map[string]float64{"per_eur": perEUR}, http.StatusOK, &set)
		require.Equal(t, "manual", set.Rate.Source)
		require.InDelta(t, perEUR, set.Rate.PerEUR, 0)
		admin.requireSucceeded(t, "fx rate "+c, set.Pipeline.ID)
	}

	// 4. Reference data, then every 2025 factor file.
	for _, ref := range []struct{ dataset, file string }{
		{"locations_plane", "locations/locations_plane.csv"},
		{"locations_train", "locations/locations_train.csv"},
		{"building_rooms", "reference/building_rooms.csv"},
	} {
		id := admin.upload(t, [][2]string{{"kind", "reference"}, {"year", "2025"}, {"dataset", ref.dataset}}, filepath.Join(sharedData, ref.file))
		admin.requireSucceeded(t, "reference "+ref.dataset, id)
	}
	factorFiles, err := filepath.Glob(filepath.Join(sharedData, "factors", "*_factors_2025.csv"))
	require.NoError(t, err)
	require.Len(t, factorFiles, 15, "one factor file per factor upload group (docs/jobs.md §5.4)")
	for _, f := range factorFiles {
		group, module, submodule := groupOf(t, f, "_factors_2025.csv")
		id := admin.upload(t, [][2]string{{"kind", "factors"}, {"year", "2025"}, {"module", module}, {"submodule", submodule}}, f)
		p := admin.requireSucceeded(t, "factors "+group, id)
		_, records := csvRecords(t, f)
		require.InDelta(t, len(records), p.counter("factors_upserted"), 0, "factors %s: %+v", group, p.Counters)
	}

	// 5. The lab's data: every sample file as a per-year data file (they
	// carry unit_institutional_id = 7918, samples/README.md). Every row
	// loads (Appendix A.1: no row errors), so every pipeline is SUCCESS.
	for _, f := range samples {
		group, module, submodule := groupOf(t, f, "_2025.csv")
		id := admin.upload(t, [][2]string{{"kind", "data"}, {"year", "2025"}, {"module", module}, {"submodule", submodule}}, f)
		p := admin.requireSucceeded(t, "data "+group, id)
		_, records := csvRecords(t, f)
		require.InDelta(t, len(records), p.counter("rows_loaded"), 0, "data %s: %+v", group, p.Counters)
		require.Zero(t, p.counter("rows_skipped"), "data %s: %+v", group, p.Counters)
		require.Zero(t, p.counter("row_warnings"), "data %s: %+v", group, p.Counters)
	}
	loaded := time.Since(t0)

	// 6. The lab principal reads LAB-DEMO's module totals.
	principal := session{base: base, c: login(t, base, "principal")}
	var units []meUnitJSON
	principal.do(t, http.MethodGet, "/me/units", nil, http.StatusOK, &units)
	i := slices.IndexFunc(units, func(u meUnitJSON) bool { return u.Unit.CF != nil && *u.Unit.CF == "7918" })
	require.GreaterOrEqual(t, i, 0, "LAB-DEMO among the principal's units: %+v", units)
	lab := units[i]
	require.Equal(t, "principal", lab.Role)
	require.Equal(t, "LAB-DEMO", lab.Unit.Name)
	require.Equal(t, "17918", lab.Unit.InstitutionalCode, "the Accred unit (units.json id 17918) took the dev fixture over")
	require.True(t, slices.ContainsFunc(lab.Reports, func(r meUnitReportJSON) bool { return r.Year == 2025 }),
		"LAB-DEMO has its 2025 report: %+v", lab.Reports)

	type overview struct {
		Totals struct {
			KgCO2eq    float64 `json:"kg_co2eq"`
			EntryCount int64   `json:"entry_count"`
			CalcIssues int64   `json:"calc_issues"`
		} `json:"totals"`
		StatsPending bool `json:"stats_pending"`
	}
	modules := make([]string, 0, len(demoModuleKg))
	for m := range demoModuleKg {
		modules = append(modules, m)
	}
	slices.Sort(modules)
	var sum float64
	for _, m := range modules {
		path := fmt.Sprintf("/units/%d/years/2025/modules/%s", lab.Unit.ID, m)
		var ov overview
		// The uploads' pipelines ended after their aggregate phase; a
		// module still pending would be a bookkeeping bug, so wait a little
		// before failing on it.
		eventually(t, 10*time.Second, m+": stats_pending false", func() bool {
			principal.do(t, http.MethodGet, path, nil, http.StatusOK, &ov)
			return !ov.StatsPending
		})
		t.Logf("%-20s expected %12.4f kg, got %12.2f kg (%d entries)", m, demoModuleKg[m], ov.Totals.KgCO2eq, ov.Totals.EntryCount)
		require.InDelta(t, demoModuleKg[m], ov.Totals.KgCO2eq, demoKgTolerance, m)
		require.Equal(t, demoModuleEntries[m], ov.Totals.EntryCount, m)
		wantIssues := int64(0)
		if m == "research_facilities" {
			wantIssues = 1
		}
		require.Equal(t, wantIssues, ov.Totals.CalcIssues, m)
		sum += ov.Totals.KgCO2eq
	}
	// Appendix A.5: ≈ 192 431.663 kg over the eight modules.
	require.InDelta(t, 192431.663, sum, float64(len(modules))*demoKgTolerance)
	t.Logf("binaries up in %s; year run and data loaded in %s; total %s",
		started.Round(time.Millisecond), (loaded - started).Round(time.Millisecond), time.Since(t0).Round(time.Millisecond))

	require.NoError(t, worker.stop(30*time.Second))
	require.NoError(t, api.stop(30*time.Second))
}
