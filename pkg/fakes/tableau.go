package fakes

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TableauAuth is what the fake Tableau accepts: the Connected App
// (client id, secret id, secret value), the service account, the site and
// the datasource.
type TableauAuth struct {
	ClientID       string
	SecretID       string
	SecretValue    string
	Username       string
	SiteContentURL string
	DatasourceLUID string
}

// Tableau is a fake of Tableau's REST sign-in and VizQL Data Service
// (docs/jobs.md §8.5), answering from the recorded answers of a directory
// (signin_response.json, read_metadata_response.json,
// query_datasource_response.json):
//
//	POST .../api/{version}/auth/signin                 Connected-App JWT → session token
//	POST .../api/{version}/auth/signout                X-Tableau-Auth → 204
//	POST .../api/v1/vizql-data-service/read-metadata   the recorded fields
//	POST .../api/v1/vizql-data-service/query-datasource  the rows, OBJECTS, MATCH filters applied
//
// The sign-in verifies the JWT (HS256 with the secret value, header kid
// and iss, claims iss, sub, aud "tableau", scp, exp) and the site; the
// VizQL calls need a live X-Tableau-Auth token and the configured
// datasource. Anything before /api/ in the path is ignored, so the fake can
// be mounted under a prefix. Switches: SetRows (generated rows for
// benchmarks), ExpireTokensAfter (a token dies after n VizQL calls: 401),
// FailPage (a page's query fails n times, with a status or cut short),
// RenameField (a caption renamed in the metadata and the rows),
// ForbidQueries (403). Tableau is safe for concurrent use.
type Tableau struct {
	auth    TableauAuth
	signin  map[string]any
	fields  []map[string]any
	fixture []map[string]any

	mu          sync.Mutex
	tokens      map[string]int // live token → VizQL calls served
	expireAfter int
	failures    map[string]*tableauFailure // by MATCH prefix ("" = unfiltered)
	renamed     map[string]string          // caption → new caption
	forbid      bool
	gen         *tableauGen
	signIns     int
	queries     int
	signOuts    int
}

type tableauFailure struct {
	left   int
	status int // 0: the answer is cut short after half its rows
}

// tableauGen generates rows (SetRows).
type tableauGen struct {
	n    int
	year int
	cfs  []string
}

// NewTableau serves the recorded answers of dir with the given credentials.
func NewTableau(dir string, auth TableauAuth) (*Tableau, error) {
	t := &Tableau{auth: auth, tokens: map[string]int{}, failures: map[string]*tableauFailure{}, renamed: map[string]string{}}
	var signin map[string]any
	var meta struct {
		Data []map[string]any `json:"data"`
	}
	var rows struct {
		Data []map[string]any `json:"data"`
	}
	for name, out := range map[string]any{"signin_response.json": &signin, "read_metadata_response.json": &meta,
		"query_datasource_response.json": &rows} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("fake Tableau: %w", err)
		}
		if err := json.Unmarshal(b, out); err != nil {
			return nil, fmt.Errorf("fake Tableau: %s: %w", name, err)
		}
	}
	t.signin, t.fields, t.fixture = signin, meta.Data, rows.Data
	return t, nil
}

// SetRows replaces the recorded rows by n generated rows departing in
// year (spread over its months and days), each a recorded valid row with
// its cost centre taken in turn from cfs (as "F<cf>"), its own ticket
// number and one of 5 000 travellers. n = 0 serves the recorded rows again.
func (t *Tableau) SetRows(n, year int, cfs []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n <= 0 {
		t.gen = nil
		return
	}
	t.gen = &tableauGen{n: n, year: year, cfs: slices.Clone(cfs)}
}

// ExpireTokensAfter makes every session token answer 401 once it served n
// VizQL calls (0: tokens never expire).
func (t *Tableau) ExpireTokensAfter(n int) { t.mu.Lock(); t.expireAfter = n; t.mu.Unlock() }

// FailPage makes the next n queries whose MATCH filter starts with prefix
// ("" for an unfiltered query) fail: with HTTP status, or, with status 0,
// an answer cut short after half its rows.
func (t *Tableau) FailPage(prefix string, n, status int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failures[prefix] = &tableauFailure{left: n, status: status}
}

// RenameField renames a caption in the metadata and in the rows ("" for to
// restores it).
func (t *Tableau) RenameField(from, to string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if to == "" {
		delete(t.renamed, from)
		return
	}
	t.renamed[from] = to
}

// ForbidQueries makes the VizQL calls answer 403 (the service account may
// not read the datasource).
func (t *Tableau) ForbidQueries(on bool) { t.mu.Lock(); t.forbid = on; t.mu.Unlock() }

// Counts returns the successful sign-ins, the queries answered (failed
// pages included) and the sign-outs.
func (t *Tableau) Counts() (signIns, queries, signOuts int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.signIns, t.queries, t.signOuts
}

func (t *Tableau) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		tableauError(w, http.StatusMethodNotAllowed, "405000", "method not allowed")
		return
	}
	p := r.URL.Path
	switch {
	case strings.HasSuffix(p, "/auth/signin") && strings.Contains(p, "/api/"):
		t.signIn(w, r)
	case strings.HasSuffix(p, "/auth/signout") && strings.Contains(p, "/api/"):
		t.signOut(w, r)
	case strings.HasSuffix(p, "/api/v1/vizql-data-service/read-metadata"):
		if t.session(w, r) {
			t.readMetadata(w, r)
		}
	case strings.HasSuffix(p, "/api/v1/vizql-data-service/query-datasource"):
		if t.session(w, r) {
			t.query(w, r)
		}
	default:
		tableauError(w, http.StatusNotFound, "404000", "no such resource "+p)
	}
}

// tableauError answers a VizQL Data Service error object.
func tableauError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"errorCode": code, "message": msg, //nolint:errchkjson // strings only; a write error is the client's
		"datetime": time.Now().UTC().Format(time.RFC3339), "tab-error-code": "TAB-" + code})
}

// restError answers a REST API error object (the sign-in).
func restError(w http.ResponseWriter, status int, code, summary, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]map[string]string{"error": {"code": code, "summary": summary, "detail": detail}}) //nolint:errchkjson // strings only
}

func (t *Tableau) signIn(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Credentials struct {
			JWT  string `json:"jwt"`
			Site struct {
				ContentURL *string `json:"contentUrl"`
			} `json:"site"`
		} `json:"credentials"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&body); err != nil || body.Credentials.Site.ContentURL == nil {
		restError(w, http.StatusBadRequest, "400000", "Bad Request", "the body is not {credentials: {jwt, site: {contentUrl}}}")
		return
	}
	if err := t.checkJWT(body.Credentials.JWT); err != nil {
		restError(w, http.StatusUnauthorized, "401001", "Signin Error", err.Error())
		return
	}
	if *body.Credentials.Site.ContentURL != t.auth.SiteContentURL {
		restError(w, http.StatusUnauthorized, "401001", "Signin Error", "unknown site "+*body.Credentials.Site.ContentURL)
		return
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	t.mu.Lock()
	t.tokens[token] = 0
	t.signIns++
	t.mu.Unlock()
	answer := cloneJSON(t.signin)
	if c, ok := answer["credentials"].(map[string]any); ok {
		c["token"] = token
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(answer) //nolint:errchkjson // decoded JSON re-encoded
}

// checkJWT verifies a Connected-App JWT (direct trust).
func (t *Tableau) checkJWT(raw string) error {
	tok, err := jwt.Parse(raw, func(tok *jwt.Token) (any, error) {
		if kid, _ := tok.Header["kid"].(string); kid != t.auth.SecretID {
			return nil, fmt.Errorf("unknown kid %q", kid)
		}
		if iss, _ := tok.Header["iss"].(string); iss != t.auth.ClientID {
			return nil, fmt.Errorf("header iss %q is not the connected app", iss)
		}
		return []byte(t.auth.SecretValue), nil
	}, jwt.WithValidMethods([]string{"HS256"}), jwt.WithAudience("tableau"), jwt.WithIssuer(t.auth.ClientID),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	if err != nil {
		return fmt.Errorf("invalid JWT: %w", err)
	}
	claims, _ := tok.Claims.(jwt.MapClaims)
	if sub, _ := claims["sub"].(string); sub != t.auth.Username {
		return fmt.Errorf("unknown user %q", sub)
	}
	if jti, _ := claims["jti"].(string); jti == "" {
		return errors.New("no jti")
	}
	scp, _ := claims["scp"].([]any)
	if !slices.Contains(scp, any("tableau:viz_data_service:read")) {
		return errors.New("the JWT lacks the scope tableau:viz_data_service:read")
	}
	return nil
}

func (t *Tableau) signOut(w http.ResponseWriter, r *http.Request) {
	token := r.Header.Get("X-Tableau-Auth")
	t.mu.Lock()
	_, ok := t.tokens[token]
	delete(t.tokens, token)
	if ok {
		t.signOuts++
	}
	t.mu.Unlock()
	if !ok {
		restError(w, http.StatusUnauthorized, "401002", "Unauthorized Access", "invalid authentication credentials")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// session checks X-Tableau-Auth and counts the call; false when it
// answered an error.
func (t *Tableau) session(w http.ResponseWriter, r *http.Request) bool {
	token := r.Header.Get("X-Tableau-Auth")
	t.mu.Lock()
	calls, ok := t.tokens[token]
	expired := ok && t.expireAfter > 0 && calls >= t.expireAfter
	if ok && !expired {
		t.tokens[token] = calls + 1
	}
	forbid := t.forbid
	t.mu.Unlock()
	switch {
	case !ok || expired:
		tableauError(w, http.StatusUnauthorized, "401", "Invalid authentication credentials were provided.")
		return false
	case forbid:
		tableauError(w, http.StatusForbidden, "403157", "The user does not have permission to query the datasource.")
		return false
	}
	return true
}

type vdsDatasource struct {
	Datasource struct {
		DatasourceLUID string `json:"datasourceLuid"`
	} `json:"datasource"`
}

func (t *Tableau) readMetadata(w http.ResponseWriter, r *http.Request) {
	var body vdsDatasource
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&body); err != nil {
		tableauError(w, http.StatusBadRequest, "400000", "the body is not JSON: "+err.Error())
		return
	}
	if body.Datasource.DatasourceLUID != t.auth.DatasourceLUID {
		tableauError(w, http.StatusNotFound, "404934", "unknown datasource "+body.Datasource.DatasourceLUID)
		return
	}
	t.mu.Lock()
	fields := make([]map[string]any, len(t.fields))
	for i, f := range t.fields {
		f = cloneJSON(f)
		if c, _ := f["fieldCaption"].(string); t.renamed[c] != "" {
			f["fieldCaption"] = t.renamed[c]
		}
		fields[i] = f
	}
	t.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"data": fields, "extraData": map[string]any{"parameters": []any{}}}) //nolint:errchkjson // decoded JSON re-encoded
}

type vdsQuery struct {
	vdsDatasource
	Query struct {
		Fields []struct {
			FieldCaption string `json:"fieldCaption"`
		} `json:"fields"`
		Filters []struct {
			Field struct {
				FieldCaption string `json:"fieldCaption"`
			} `json:"field"`
			FilterType string `json:"filterType"`
			StartsWith string `json:"startsWith"`
			EndsWith   string `json:"endsWith"`
			Contains   string `json:"contains"`
			Exclude    bool   `json:"exclude"`
		} `json:"filters"`
	} `json:"query"`
	Options struct {
		ReturnFormat string `json:"returnFormat"`
	} `json:"options"`
}

// matches applies the query's MATCH filters to one row.
func (q *vdsQuery) matches(row map[string]any) bool {
	for _, f := range q.Query.Filters {
		v, _ := row[f.Field.FieldCaption].(string)
		ok := strings.HasPrefix(v, f.StartsWith) && strings.HasSuffix(v, f.EndsWith) && strings.Contains(v, f.Contains)
		if ok == f.Exclude {
			return false
		}
	}
	return true
}

func (t *Tableau) query(w http.ResponseWriter, r *http.Request) {
	var q vdsQuery
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&q); err != nil {
		tableauError(w, http.StatusBadRequest, "400000", "the body is not JSON: "+err.Error())
		return
	}
	if q.Datasource.DatasourceLUID != t.auth.DatasourceLUID {
		tableauError(w, http.StatusNotFound, "404934", "unknown datasource "+q.Datasource.DatasourceLUID)
		return
	}
	if q.Options.ReturnFormat != "" && q.Options.ReturnFormat != "OBJECTS" {
		tableauError(w, http.StatusBadRequest, "400800", "only returnFormat OBJECTS is served by the fake")
		return
	}
	t.mu.Lock()
	t.queries++
	captions := map[string]bool{}
	for _, f := range t.fields {
		c, _ := f["fieldCaption"].(string)
		if t.renamed[c] != "" {
			c = t.renamed[c]
		}
		captions[c] = true
	}
	renamed := maps.Clone(t.renamed)
	prefix := ""
	for _, f := range q.Query.Filters {
		if f.FilterType != "MATCH" {
			t.mu.Unlock()
			tableauError(w, http.StatusBadRequest, "400800", "only MATCH filters are served by the fake")
			return
		}
		prefix = f.StartsWith
	}
	failing, failStatus := false, 0
	if f := t.failures[prefix]; f != nil && f.left > 0 {
		f.left--
		failing, failStatus = true, f.status
	}
	gen := t.gen
	t.mu.Unlock()

	var names []string
	for _, f := range q.Query.Fields {
		if !captions[f.FieldCaption] {
			tableauError(w, http.StatusBadRequest, "400803", "Unknown field: "+f.FieldCaption)
			return
		}
		names = append(names, f.FieldCaption)
	}
	if len(names) == 0 {
		tableauError(w, http.StatusBadRequest, "400802", "the query has no fields")
		return
	}
	if failing && failStatus != 0 {
		tableauError(w, failStatus, strconv.Itoa(failStatus)+"000", "the page failed (fake FailPage)")
		return
	}

	var rows func(yield func(map[string]any) bool)
	total := len(t.fixture)
	if gen != nil {
		total = gen.n
		rows = t.generated(gen, &q)
	} else {
		rows = func(yield func(map[string]any) bool) {
			for _, row := range t.fixture {
				if !yield(row) {
					return
				}
			}
		}
	}
	cutAfter := -1
	if failing {
		cutAfter = total / 24 // about half a month's page
	}

	w.Header().Set("Content-Type", "application/json")
	bw := bufio.NewWriterSize(w, 64<<10)
	_, _ = bw.WriteString(`{"data":[`)
	n := 0
	var buf bytes.Buffer
	rows(func(row map[string]any) bool {
		row = renameKeys(row, renamed)
		if !q.matches(row) {
			return true
		}
		if n == cutAfter {
			return false
		}
		if n > 0 {
			_ = bw.WriteByte(',')
		}
		n++
		buf.Reset()
		buf.WriteByte('{')
		for i, name := range names {
			if i > 0 {
				buf.WriteByte(',')
			}
			k, _ := json.Marshal(name)      //nolint:errchkjson // a string
			v, _ := json.Marshal(row[name]) //nolint:errchkjson // decoded JSON re-encoded
			buf.Write(k)
			buf.WriteByte(':')
			buf.Write(v)
		}
		buf.WriteByte('}')
		_, _ = bw.Write(buf.Bytes())
		return true
	})
	if cutAfter >= 0 {
		_ = bw.Flush()
		// Cut the connection: the client sees an answer cut short.
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	_, _ = bw.WriteString(`]}`)
	_ = bw.Flush()
}

// generated yields the rows of SetRows; a row whose departure date fails
// the query's filters on that field is skipped before it is built (the
// sync asks one month at a time).
func (t *Tableau) generated(g *tableauGen, q *vdsQuery) func(yield func(map[string]any) bool) {
	var dateFilter vdsQuery
	for _, f := range q.Query.Filters {
		if f.Field.FieldCaption == "IN_Departure date" {
			dateFilter.Query.Filters = append(dateFilter.Query.Filters, f)
		}
	}
	var base []map[string]any
	for _, row := range t.fixture {
		cf, _ := row["Centre financier"].(string)
		dest, _ := row["IN_Segment destination airport code"].(string)
		sciper, _ := row["SCIPER"].(string)
		if cf != "" && dest != "" && sciper != "" {
			base = append(base, row)
		}
	}
	return func(yield func(map[string]any) bool) {
		if len(base) == 0 {
			return
		}
		for i := range g.n {
			date := fmt.Sprintf("%04d%02d%02d", g.year, i%12+1, (i/12)%28+1)
			if !dateFilter.matches(map[string]any{"IN_Departure date": date}) {
				continue
			}
			row := cloneJSON(base[i%len(base)])
			if len(g.cfs) > 0 {
				row["Centre financier"] = "F" + g.cfs[i%len(g.cfs)]
			}
			row["IN_Departure date"] = date
			row["IN_Ticket number"] = fmt.Sprintf("724-%010d", i)
			row["SCIPER"] = strconv.Itoa(100000 + i%5000)
			if !yield(row) {
				return
			}
		}
	}
}

func renameKeys(row map[string]any, renamed map[string]string) map[string]any {
	if len(renamed) == 0 {
		return row
	}
	out := make(map[string]any, len(row))
	for k, v := range row {
		if to := renamed[k]; to != "" {
			k = to
		}
		out[k] = v
	}
	return out
}

// cloneJSON copies a decoded JSON object (one level deep, enough for the
// recorded answers' objects of objects).
func cloneJSON(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if inner, ok := v.(map[string]any); ok {
			v = cloneJSON(inner)
		}
		out[k] = v
	}
	return out
}
