// Package fakes holds fake versions of the external services the worker
// talks to (ECB for now), served from fixture files. They back the tests and
// the development command `worker fakes`; they are never used in production.
package fakes

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// ECBNoDataBody is the body of the fake ECB's 404 answer. It contains
// "No data", which the client treats as "no data for that period".
const ECBNoDataBody = "No data for data request.\n"

// ecbPathMarker precedes the series key in the request path. Anything before
// it is ignored, so the fake can be mounted under a prefix (for example an
// ECB_BASE_URL of http://localhost:8099/ecb).
const ecbPathMarker = "/data/EXR/"

// maxECBYears bounds the number of fixture years one request may span.
const maxECBYears = 50

var (
	ecbCurrencyRe = regexp.MustCompile(`^[A-Z]{3}$`)
	ecbYearRe     = regexp.MustCompile(`^[0-9]{4}$`)
	ecbMonthRe    = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])$`)
)

// ECB is a fake of the ECB SDMX data API for the EXR dataflow (docs/jobs.md §10):
//
//	GET .../data/EXR/{A|M}.{CUR1+CUR2+…}.EUR.SP00.A?startPeriod=…&endPeriod=…&format=csvdata
//
// It answers from the files exr_{FREQ}_{YYYY}.csv of its directory, keeping
// the file's header and only the rows of the requested currencies whose
// TIME_PERIOD lies between startPeriod and endPeriod (inclusive). An empty
// currency list means all currencies, as in SDMX. No file or no matching row
// gives 404 with ECBNoDataBody; a malformed path or query gives 400.
//
// ECB is safe for concurrent use.
type ECB struct {
	dir string

	mu       sync.Mutex
	requests int
	failLeft int
	failCode int
}

// NewECB returns a fake ECB serving the fixture files of dir (for example
// data/external/ecb).
func NewECB(dir string) *ECB {
	return &ECB{dir: dir}
}

// FailNext makes the next n requests answer HTTP status (for example 503 or
// 401) with no CSV. It replaces any earlier FailNext that is still pending.
func (e *ECB) FailNext(n int, status int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failLeft = max(n, 0)
	e.failCode = status
}

// Requests returns the number of requests served so far, failures included.
func (e *ECB) Requests() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.requests
}

// ServeHTTP implements http.Handler.
func (e *ECB) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	e.requests++
	fail := 0
	if e.failLeft > 0 {
		e.failLeft--
		fail = e.failCode
	}
	e.mu.Unlock()

	if fail != 0 {
		http.Error(w, http.StatusText(fail), fail)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}

	req, err := parseECBRequest(r)
	if err != nil {
		http.Error(w, "Syntax error: "+err.Error(), http.StatusBadRequest)
		return
	}
	body, err := e.render(req)
	switch {
	case errors.Is(err, errECBNoData):
		http.Error(w, strings.TrimSuffix(ECBNoDataBody, "\n"), http.StatusNotFound)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// ecbRequest is a parsed series request.
type ecbRequest struct {
	freq       string   // "A" or "M"
	currencies []string // empty = all
	start, end string   // same format: YYYY for A, YYYY-MM for M
}

// parseECBRequest is the single place where path and query are read.
func parseECBRequest(r *http.Request) (ecbRequest, error) {
	var req ecbRequest
	_, key, ok := strings.Cut(r.URL.Path, ecbPathMarker)
	if !ok || key == "" || strings.Contains(key, "/") {
		return req, fmt.Errorf("path %q is not %s{series key}", r.URL.Path, ecbPathMarker)
	}
	parts := strings.Split(key, ".")
	if len(parts) != 5 {
		return req, fmt.Errorf("series key %q must have 5 dimensions", key)
	}
	if parts[2] != "EUR" || parts[3] != "SP00" || parts[4] != "A" {
		return req, fmt.Errorf("series key %q: only {FREQ}.{CURRENCIES}.EUR.SP00.A is served", key)
	}

	req.freq = parts[0]
	periodRe := ecbYearRe
	switch req.freq {
	case "A":
	case "M":
		periodRe = ecbMonthRe
	default:
		return req, fmt.Errorf("frequency %q: only A and M are served", req.freq)
	}

	if parts[1] != "" {
		for c := range strings.SplitSeq(parts[1], "+") {
			if !ecbCurrencyRe.MatchString(c) {
				return req, fmt.Errorf("invalid currency %q", c)
			}
			req.currencies = append(req.currencies, c)
		}
	}

	q := r.URL.Query()
	if f := q.Get("format"); f != "csvdata" {
		return req, fmt.Errorf("format %q: only csvdata is served", f)
	}
	req.start, req.end = q.Get("startPeriod"), q.Get("endPeriod")
	if !periodRe.MatchString(req.start) || !periodRe.MatchString(req.end) {
		return req, fmt.Errorf("startPeriod %q and endPeriod %q must match frequency %s", req.start, req.end, req.freq)
	}
	if req.start > req.end {
		return req, fmt.Errorf("startPeriod %q is after endPeriod %q", req.start, req.end)
	}
	if first, last := atoi(req.start[:4]), atoi(req.end[:4]); last-first >= maxECBYears {
		return req, fmt.Errorf("period range spans more than %d years", maxECBYears)
	}
	return req, nil
}

var errECBNoData = errors.New("no data")

// render builds the CSV answer from the fixture files of the requested years.
func (e *ECB) render(req ecbRequest) ([]byte, error) {
	first, last := atoi(req.start[:4]), atoi(req.end[:4])

	var (
		header []string
		rows   [][]string
	)
	for year := first; year <= last; year++ {
		name := filepath.Join(e.dir, fmt.Sprintf("exr_%s_%04d.csv", req.freq, year))
		data, err := os.ReadFile(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("error reading fixture: %w", err)
		}
		h, recs, err := readFixture(data)
		if err != nil {
			return nil, fmt.Errorf("error reading fixture %s: %w", filepath.Base(name), err)
		}
		if header == nil {
			header = h
		} else if !slices.Equal(header, h) {
			return nil, fmt.Errorf("fixture %s: header differs from the other years", filepath.Base(name))
		}
		curCol, periodCol := slices.Index(h, "CURRENCY"), slices.Index(h, "TIME_PERIOD")
		if curCol < 0 || periodCol < 0 {
			return nil, fmt.Errorf("fixture %s: missing CURRENCY or TIME_PERIOD column", filepath.Base(name))
		}
		for _, rec := range recs {
			if len(rec) <= max(curCol, periodCol) {
				continue
			}
			period := rec[periodCol]
			if len(period) != len(req.start) || period < req.start || period > req.end {
				continue
			}
			if len(req.currencies) > 0 && !slices.Contains(req.currencies, rec[curCol]) {
				continue
			}
			rows = append(rows, rec)
		}
	}
	if len(rows) == 0 {
		return nil, errECBNoData
	}

	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(header); err != nil {
		return nil, err
	}
	if err := w.WriteAll(rows); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func readFixture(data []byte) ([]string, [][]string, error) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return nil, nil, err
	}
	if len(recs) == 0 {
		return nil, nil, errors.New("empty file")
	}
	return recs[0], recs[1:], nil
}

// atoi converts digits already checked by a regexp.
func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
