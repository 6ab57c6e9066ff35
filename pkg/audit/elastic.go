package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// The Elasticsearch side of shipping (docs/jobs.md §11.4): the documents
// and the _bulk request with its per-item answers.

// DefaultIndexPattern is ES_INDEX_PATTERN's default.
const DefaultIndexPattern = "co2-calculator-audit-{yyyy.MM}"

// appName is the "app" field of every document.
const appName = "co2-calculator"

// Document is what Elasticsearch stores of one event (field order as in
// docs/jobs.md §11.4).
type Document struct {
	Timestamp string `json:"@timestamp"`
	HandlerID string `json:"handler_id"`
	HandledID string `json:"handled_id"`
	CRUDT     string `json:"crudt"`
	Source    string `json:"source"`
	Payload   string `json:"payload"`
	Event     string `json:"event"`
	EventID   int64  `json:"event_id"`
	Seq       int64  `json:"seq"`
	Hash      string `json:"hash"`
	App       string `json:"app"`
	Env       string `json:"env"`
}

// timestampLayout is @timestamp: local time with offset and microseconds.
const timestampLayout = "2006-01-02T15:04:05.000000-07:00"

// IndexName is the index of an event: pattern with {yyyy.MM}, {yyyy} and
// {MM} taken from occurredAt in UTC, so an event always targets the same
// index.
func IndexName(pattern string, occurredAt time.Time) string {
	t := occurredAt.UTC()
	return strings.NewReplacer("{yyyy.MM}", t.Format("2006.01"), "{yyyy}", t.Format("2006"), "{MM}", t.Format("01")).Replace(pattern)
}

// document builds the document of one event; loc is AUDIT_TIMEZONE.
func document(e dbsqlc.AuditShipBatchRow, loc *time.Location, env string) (Document, error) {
	payload := map[string]any{
		"event": e.Event, "entity_type": e.EntityType, "entity_id": e.EntityID, "route": e.Route, "reason": e.Reason,
		"request_payload": rawOrNull(e.RequestPayload),
	}
	p, err := json.Marshal(payload) // compact, keys sorted
	if err != nil {
		return Document{}, fmt.Errorf("error encoding the payload of audit event %d: %w", e.ID, err)
	}
	handled := strings.Join(e.HandledIds, ",")
	if handled == "" {
		handled = e.ActorSciper
	}
	source := "0.0.0.0"
	if e.Ip != nil && e.ActorType != ActorSystem && e.ActorType != ActorJob {
		source = ipString(*e.Ip)
	}
	return Document{
		Timestamp: e.OccurredAt.In(loc).Format(timestampLayout), HandlerID: e.ActorSciper, HandledID: handled,
		CRUDT: e.Action, Source: source, Payload: string(p), Event: e.Event, EventID: e.ID, Seq: e.Seq, Hash: e.Hash,
		App: appName, Env: env,
	}, nil
}

// bulkAction is the action line of one document: create, so that a
// document already there (a re-send) answers 409 and is never replaced.
type bulkAction struct {
	Create struct {
		Index string `json:"_index"`
		ID    string `json:"_id"`
	} `json:"create"`
}

// appendBulk appends the two NDJSON lines of one document to buf.
func appendBulk(buf *bytes.Buffer, index string, id int64, doc Document) error {
	var a bulkAction
	a.Create.Index, a.Create.ID = index, strconv.FormatInt(id, 10)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(a); err != nil {
		return err
	}
	return enc.Encode(doc)
}

// itemResult is the answer of Elasticsearch for one document.
type itemResult struct {
	Status int
	Err    string // empty when accepted
}

// accepted reports a document Elasticsearch holds: created now (201, or
// 200 for an index action) or already there (409 version conflict: a
// re-send of a document it had acknowledged).
func (r itemResult) accepted() bool {
	return r.Status == http.StatusCreated || r.Status == http.StatusOK || r.Status == http.StatusConflict
}

// bulkResponse is the answer of POST /_bulk.
type bulkResponse struct {
	Errors bool `json:"errors"`
	Items  []map[string]struct {
		Status int `json:"status"`
		Error  *struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"error"`
	} `json:"items"`
}

// maxBulkAnswer bounds the answer read (a few hundred bytes per item).
const maxBulkAnswer = 64 << 20

// ElasticClient posts _bulk requests to the first of URLs that answers.
type ElasticClient struct {
	URLs []string
	// APIKey is sent as "Authorization: ApiKey <APIKey>"; else Username
	// and Password as Basic auth when Username is set.
	APIKey             string
	Username, Password string
	// HTTP carries the timeout and the TLS configuration (ES_CA_FILE).
	HTTP *http.Client
}

// bulk sends body and returns one result per document (n of them). Every
// URL is tried in turn; the error is the last one when none accepted the
// request (network, 5xx, 429, 401…, an answer that is not from
// Elasticsearch or that does not hold n items).
func (c *ElasticClient) bulk(ctx context.Context, body []byte, n int) ([]itemResult, error) {
	if len(c.URLs) == 0 {
		return nil, errors.New("no Elasticsearch URL configured")
	}
	var errs []error
	for _, u := range c.URLs {
		res, err := c.bulkAt(ctx, strings.TrimRight(u, "/")+"/_bulk", body, n)
		if err == nil {
			return res, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		errs = append(errs, err)
	}
	return nil, errs[len(errs)-1]
}

func (c *ElasticClient) bulkAt(ctx context.Context, url string, body []byte, n int) ([]itemResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("invalid Elasticsearch URL %q: %w", url, err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Accept", "application/json")
	switch {
	case c.APIKey != "":
		req.Header.Set("Authorization", "ApiKey "+c.APIKey)
	case c.Username != "":
		req.SetBasicAuth(c.Username, c.Password)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err // *url.Error: `Post "<url>": <cause>`
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBulkAnswer))
	if err != nil {
		return nil, fmt.Errorf("POST %s: error reading the answer: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("POST %s: HTTP %d: %s", url, resp.StatusCode, snippet(raw))
	}
	if resp.Header.Get("X-Elastic-Product") != "Elasticsearch" {
		return nil, fmt.Errorf("POST %s: the answer is not from Elasticsearch (no X-Elastic-Product header)", url)
	}
	var br bulkResponse
	if err := json.Unmarshal(raw, &br); err != nil {
		return nil, fmt.Errorf("POST %s: malformed _bulk answer: %w", url, err)
	}
	if len(br.Items) != n {
		return nil, fmt.Errorf("POST %s: the _bulk answer holds %d items for %d documents", url, len(br.Items), n)
	}
	out := make([]itemResult, n)
	for i, it := range br.Items {
		for _, r := range it { // one action key per item
			out[i].Status = r.Status
			switch {
			case out[i].accepted():
			case r.Error != nil:
				out[i].Err = fmt.Sprintf("%d %s: %s", r.Status, r.Error.Type, r.Error.Reason)
			default:
				out[i].Err = "HTTP " + strconv.Itoa(r.Status)
			}
		}
	}
	return out, nil
}

// snippet is the start of an error answer, for messages.
func snippet(b []byte) string {
	const maxLen = 200
	s := strings.TrimSpace(string(b))
	if r := []rune(s); len(r) > maxLen {
		s = string(r[:maxLen]) + "…"
	}
	return s
}
