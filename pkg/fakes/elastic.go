package fakes

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
)

// Elastic is a fake of the Elasticsearch document API that audit shipping
// uses (docs/jobs.md §11.4), kept in memory:
//
//	GET  .../          cluster information
//	POST .../_bulk     NDJSON create, index and delete actions (each names its _index)
//
// Like Elasticsearch it answers every request with the header
// X-Elastic-Product: Elasticsearch, one result per item in request order
// (create: 201, or 409 version_conflict_engine_exception when the (index,
// id) exists; index: 201 or 200; delete: 200 or 404), and 401
// security_exception without the configured credentials (an API key, or
// Basic auth). Anything before /_bulk in the path is ignored, so the fake
// can be mounted under a prefix.
//
// Faults: SetDown closes every connection without an answer (a server that
// is gone); FailNextRequests answers whole requests with a status;
// FailNextItems and FailID refuse items (429 es_rejected_execution_exception,
// 400 mapper_parsing_exception, …) without storing them; LoseNextAnswers
// stores the documents of a request and then answers 502, as a proxy that
// lost Elasticsearch's answer. Elastic is safe for concurrent use.
type Elastic struct {
	apiKey, user, pass string

	mu          sync.Mutex
	docs        map[docKey]json.RawMessage
	order       []StoredDoc // accepted documents, in acceptance order
	requests    int
	items       int
	down        bool
	failReqs    int
	failReqCode int
	failItems   int
	failItemSt  int
	failIDs     map[string]failure
	loseAnswers int
}

type docKey struct{ index, id string }

type failure struct{ left, status int }

// StoredDoc is one accepted document.
type StoredDoc struct {
	Index  string
	ID     string
	Source json.RawMessage
}

// NewElastic returns an empty fake that requires "Authorization: ApiKey
// <apiKey>" (empty: no credentials needed unless SetBasicAuth is called).
func NewElastic(apiKey string) *Elastic {
	return &Elastic{apiKey: apiKey, docs: map[docKey]json.RawMessage{}, failIDs: map[string]failure{}}
}

// SetBasicAuth makes the fake also accept (or, without an API key, require)
// Basic auth with user and password.
func (e *Elastic) SetBasicAuth(user, password string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.user, e.pass = user, password
}

// SetDown makes the server unreachable (true: every connection is closed
// without an answer) or reachable again.
func (e *Elastic) SetDown(down bool) { e.mu.Lock(); e.down = down; e.mu.Unlock() }

// FailNextRequests answers the next n requests with status (503, 429, …)
// and stores nothing.
func (e *Elastic) FailNextRequests(n, status int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failReqs, e.failReqCode = max(n, 0), status
}

// FailNextItems refuses the next n items with status, whatever document
// they carry.
func (e *Elastic) FailNextItems(n, status int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failItems, e.failItemSt = max(n, 0), status
}

// FailID refuses the next n items whose _id is id with status.
func (e *Elastic) FailID(id string, n, status int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failIDs[id] = failure{left: n, status: status}
}

// LoseNextAnswers makes the next n requests store their documents and then
// answer 502 instead of the per-item results.
func (e *Elastic) LoseNextAnswers(n int) { e.mu.Lock(); e.loseAnswers = max(n, 0); e.mu.Unlock() }

// Requests is the number of _bulk requests received (failed ones too).
func (e *Elastic) Requests() int { e.mu.Lock(); defer e.mu.Unlock(); return e.requests }

// Items is the number of _bulk items received (refused ones too).
func (e *Elastic) Items() int { e.mu.Lock(); defer e.mu.Unlock(); return e.items }

// Count is the number of documents held.
func (e *Elastic) Count() int { e.mu.Lock(); defer e.mu.Unlock(); return len(e.docs) }

// Docs returns the accepted documents in the order they were accepted (a
// document replaced by an index action appears twice).
func (e *Elastic) Docs() []StoredDoc {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]StoredDoc(nil), e.order...)
}

// Doc returns the document (index, id).
func (e *Elastic) Doc(index, id string) (json.RawMessage, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	d, ok := e.docs[docKey{index, id}]
	return d, ok
}

// ServeHTTP implements http.Handler.
func (e *Elastic) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	down := e.down
	e.mu.Unlock()
	if down {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		esError(w, http.StatusServiceUnavailable, "unavailable", "the fake is down")
		return
	}
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	if !e.authorized(r) {
		w.Header().Set("WWW-Authenticate", `ApiKey, Basic realm="security" charset="UTF-8"`)
		esError(w, http.StatusUnauthorized, "security_exception", "missing or invalid authentication credentials for REST request ["+r.URL.Path+"]")
		return
	}
	isBulk := strings.HasSuffix(strings.TrimSuffix(r.URL.Path, "/"), "/_bulk")
	switch {
	case isBulk && r.Method == http.MethodPost:
		e.bulk(w, r)
	case isBulk:
		w.Header().Set("Allow", "POST")
		esError(w, http.StatusMethodNotAllowed, "method_not_allowed", "Incorrect HTTP method for uri ["+r.URL.Path+"], allowed: [POST]")
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		writeESJSON(w, http.StatusOK, clusterInfo{Name: "fake-es", ClusterName: "co2-calculator-fake",
			Version: clusterVersion{Number: "8.15.0", BuildFlavor: "default"}, Tagline: "You Know, for Search"})
	default:
		esError(w, http.StatusNotFound, "resource_not_found_exception", "no handler for ["+r.Method+" "+r.URL.Path+"]")
	}
}

func (e *Elastic) authorized(r *http.Request) bool {
	e.mu.Lock()
	key, user, pass := e.apiKey, e.user, e.pass
	e.mu.Unlock()
	if key == "" && user == "" {
		return true
	}
	if key != "" && r.Header.Get("Authorization") == "ApiKey "+key {
		return true
	}
	u, p, ok := r.BasicAuth()
	return user != "" && ok && u == user && p == pass
}

// bulkItem is one parsed action of a _bulk body.
type bulkItem struct {
	op, index, id string
	source        json.RawMessage
}

func (e *Elastic) bulk(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	e.requests++
	fail := 0
	if e.failReqs > 0 {
		e.failReqs--
		fail = e.failReqCode
	}
	e.mu.Unlock()
	if fail != 0 {
		esError(w, fail, "fake_failure", "request refused by the fake")
		return
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-ndjson" && mt != "application/json" {
		esError(w, http.StatusNotAcceptable, "media_type_header_exception",
			"Content-Type header ["+r.Header.Get("Content-Type")+"] is not supported")
		return
	}
	items, err := parseBulk(r.Body)
	if err != nil {
		esError(w, http.StatusBadRequest, "illegal_argument_exception", err.Error())
		return
	}
	e.mu.Lock()
	out := make([]map[string]itemResult, len(items))
	hasErrors := false
	for i, it := range items {
		res := e.apply(it)
		hasErrors = hasErrors || res.Status >= http.StatusMultipleChoices
		out[i] = map[string]itemResult{it.op: res}
	}
	e.items += len(items)
	lose := e.loseAnswers > 0
	if lose {
		e.loseAnswers--
	}
	e.mu.Unlock()
	if lose {
		esError(w, http.StatusBadGateway, "fake_lost_answer", "the answer was lost")
		return
	}
	writeESJSON(w, http.StatusOK, bulkAnswer{Took: 1, Errors: hasErrors, Items: out})
}

// The answers, as Elasticsearch writes them.
type (
	clusterInfo struct {
		Name        string         `json:"name"`
		ClusterName string         `json:"cluster_name"`
		Version     clusterVersion `json:"version"`
		Tagline     string         `json:"tagline"`
	}
	clusterVersion struct {
		Number      string `json:"number"`
		BuildFlavor string `json:"build_flavor"`
	}
	bulkAnswer struct {
		Took   int                     `json:"took"`
		Errors bool                    `json:"errors"`
		Items  []map[string]itemResult `json:"items"`
	}
	itemResult struct {
		Index   string       `json:"_index"`
		ID      string       `json:"_id"`
		Version int          `json:"_version,omitempty"`
		Result  string       `json:"result,omitempty"`
		Shards  *shardsInfo  `json:"_shards,omitempty"`
		Status  int          `json:"status"`
		Error   *errorDetail `json:"error,omitempty"`
	}
	shardsInfo struct {
		Total      int `json:"total"`
		Successful int `json:"successful"`
		Failed     int `json:"failed"`
	}
	errorDetail struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
		Index  string `json:"index,omitempty"`
	}
	errorAnswer struct {
		Error  errorDetail `json:"error"`
		Status int         `json:"status"`
	}
)

// apply runs one item (e.mu held) and returns its result.
func (e *Elastic) apply(it bulkItem) itemResult {
	res := itemResult{Index: it.index, ID: it.id}
	itemErr := func(status int, typ, reason string) itemResult {
		res.Status, res.Error = status, &errorDetail{Type: typ, Reason: reason, Index: it.index}
		return res
	}
	if e.failItems > 0 {
		e.failItems--
		return itemErr(e.failItemSt, failureType(e.failItemSt), "item refused by the fake")
	}
	if f, ok := e.failIDs[it.id]; ok && f.left > 0 {
		f.left--
		e.failIDs[it.id] = f
		return itemErr(f.status, failureType(f.status), "item refused by the fake")
	}
	if it.index == "" {
		return itemErr(http.StatusBadRequest, "action_request_validation_exception", "index is missing")
	}
	key := docKey{it.index, it.id}
	_, exists := e.docs[key]
	switch it.op {
	case "delete":
		if !exists {
			res.Status, res.Result = http.StatusNotFound, "not_found"
			return res
		}
		delete(e.docs, key)
		res.Status, res.Result = http.StatusOK, "deleted"
		return res
	case "create":
		if exists {
			return itemErr(http.StatusConflict, "version_conflict_engine_exception",
				fmt.Sprintf("[%s]: version conflict, document already exists (current version [1])", it.id))
		}
	}
	var obj map[string]any
	if json.Unmarshal(it.source, &obj) != nil || obj == nil {
		return itemErr(http.StatusBadRequest, "mapper_parsing_exception", "failed to parse: the source is not a JSON object")
	}
	src := append(json.RawMessage(nil), it.source...)
	e.docs[key] = src
	e.order = append(e.order, StoredDoc{Index: it.index, ID: it.id, Source: src})
	res.Version, res.Shards = 1, &shardsInfo{Total: 1, Successful: 1}
	if exists {
		res.Status, res.Result = http.StatusOK, "updated"
	} else {
		res.Status, res.Result = http.StatusCreated, "created"
	}
	return res
}

func failureType(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "es_rejected_execution_exception"
	case http.StatusBadRequest:
		return "mapper_parsing_exception"
	default:
		return "fake_failure"
	}
}

// maxBulkLine bounds one NDJSON line (a document of at most a few MiB).
const maxBulkLine = 16 << 20

// parseBulk reads the action and source lines of a _bulk body.
func parseBulk(body io.Reader) ([]bulkItem, error) {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), maxBulkLine)
	var items []bulkItem
	line := 0
	for sc.Scan() {
		line++
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		var action map[string]struct {
			Index string `json:"_index"`
			ID    string `json:"_id"`
		}
		if err := json.Unmarshal(raw, &action); err != nil || len(action) != 1 {
			return nil, fmt.Errorf("malformed action/metadata line [%d], expected a simple value for field [_index] but found an object", line)
		}
		for op, meta := range action {
			it := bulkItem{op: op, index: meta.Index, id: meta.ID}
			switch op {
			case "create", "index":
				if !sc.Scan() {
					return nil, fmt.Errorf("the bulk request must be terminated by a newline [\\n] (action on line %d has no source)", line)
				}
				line++
				it.source = append(json.RawMessage(nil), bytes.TrimSpace(sc.Bytes())...)
				if it.id == "" {
					return nil, fmt.Errorf("line [%d]: the fake needs an _id", line)
				}
			case "delete":
			default:
				return nil, fmt.Errorf("malformed action/metadata line [%d], unknown action [%s]", line, op)
			}
			items = append(items, it)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("error reading the bulk body: %w", err)
	}
	if len(items) == 0 {
		return nil, errors.New("validation failed: 1: no requests added")
	}
	return items, nil
}

// esError writes an Elasticsearch error answer.
func esError(w http.ResponseWriter, status int, typ, reason string) {
	writeESJSON(w, status, errorAnswer{Error: errorDetail{Type: typ, Reason: reason}, Status: status})
}

func writeESJSON[T clusterInfo | bulkAnswer | errorAnswer](w http.ResponseWriter, status int, v T) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
