package tableau

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// The Tableau client (docs/jobs.md §8): a Connected-App JWT (direct trust)
// exchanged for a session token at the REST sign-in, then the VizQL Data
// Service's read-metadata and query-datasource, the query's answer decoded
// as a stream. Every failure is an *Error classified once: Unavailable
// (retried here, then by River), Refused (401/403: the credentials) or
// Unexpected (any other answer).

// DefaultAPIVersion is TABLEAU_API_VERSION's default (the REST API of the
// sign-in).
const DefaultAPIVersion = "3.21"

// DefaultRetries is the number of further attempts of a request that
// failed transiently.
const DefaultRetries = 3

// Scope is the one scope the JWT asks for.
const Scope = "tableau:viz_data_service:read"

// MaxErrorBody bounds the part of an error answer that is read.
const maxErrorBody = 64 << 10

// Client calls one Tableau site. The zero values of the optional fields
// are usable.
type Client struct {
	ServerURL      string // TABLEAU_SERVER_URL, e.g. https://10ax.online.tableau.com
	SiteContentURL string // TABLEAU_SITE_CONTENT_URL ("" = the default site)
	APIVersion     string // TABLEAU_API_VERSION; "" = DefaultAPIVersion
	ClientID       string // TABLEAU_CLIENT_ID: the Connected App
	SecretID       string // TABLEAU_SECRET_ID: the JWT's kid
	SecretValue    string // TABLEAU_SECRET_VALUE: signs the JWT (HS256)
	Username       string // TABLEAU_USERNAME: the service account (sub)
	DatasourceLUID string // TABLEAU_DATASOURCE_LUID
	// HTTP is the client used; its Timeout bounds one request
	// (TABLEAU_TIMEOUT). nil: a client with a 300 s timeout.
	HTTP *http.Client
	// Retries is the number of further attempts of a request that failed
	// transiently (network error, 429, 5xx, an answer cut short); 0 means
	// DefaultRetries, a negative value none.
	Retries int
	// Backoff is the wait before further attempt n (1-based); nil: 2 s × n.
	Backoff func(n int) time.Duration
	// Now is the clock of the JWT; nil is time.Now.
	Now func() time.Time
}

// Kind classifies a failed call.
type Kind int

const (
	// Unavailable: no answer, 429 or 5xx, or an answer cut short. A retry
	// may succeed.
	Unavailable Kind = iota
	// Refused: 401 or 403, the credentials (or the service account's
	// rights) are not accepted.
	Refused
	// Unexpected: any other status, or an answer that is not the
	// documented JSON.
	Unexpected
)

// Error is a failed call.
type Error struct {
	Kind   Kind
	Op     string // "sign-in", "read-metadata", "query-datasource (202503)"
	Status int    // HTTP status; 0 without an answer
	Detail string // Tableau's error code and message, when it sent one
	Err    error
}

func (e *Error) Error() string {
	var parts []string
	switch {
	case e.Kind == Refused:
		parts = append(parts, fmt.Sprintf("credentials refused (HTTP %d)", e.Status))
	case e.Status != 0 && e.Status != http.StatusOK:
		parts = append(parts, fmt.Sprintf("HTTP %d", e.Status))
	}
	if e.Detail != "" {
		parts = append(parts, e.Detail)
	}
	if e.Err != nil {
		parts = append(parts, e.Err.Error())
	}
	return "Tableau " + e.Op + ": " + strings.Join(parts, ": ")
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of a failed call (an error that is not an
// *Error is Unexpected).
func KindOf(err error) Kind {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Kind
	}
	return Unexpected
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 300 * time.Second}
}

func (c *Client) retries() int {
	switch {
	case c.Retries < 0:
		return 0
	case c.Retries == 0:
		return DefaultRetries
	}
	return c.Retries
}

func (c *Client) backoff(n int) time.Duration {
	if c.Backoff != nil {
		return c.Backoff(n)
	}
	return time.Duration(n) * 2 * time.Second
}

func (c *Client) restURL(path string) string {
	v := c.APIVersion
	if v == "" {
		v = DefaultAPIVersion
	}
	return strings.TrimRight(c.ServerURL, "/") + "/api/" + v + path
}

func (c *Client) vdsURL(method string) string {
	return strings.TrimRight(c.ServerURL, "/") + "/api/v1/vizql-data-service/" + method
}

// JWT is the Connected-App token of a sign-in (docs/jobs.md §8.1): HS256
// with the secret value, header kid = the secret id and iss = the client
// id, five minutes of validity.
func (c *Client) JWT() (string, error) {
	now := c.now()
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": c.ClientID,
		"sub": c.Username,
		"aud": "tableau",
		"exp": now.Add(5 * time.Minute).Unix(),
		"iat": now.Unix(),
		"jti": uuid.NewString(),
		"scp": []string{Scope},
	})
	t.Header["kid"] = c.SecretID
	t.Header["iss"] = c.ClientID
	s, err := t.SignedString([]byte(c.SecretValue))
	if err != nil {
		return "", fmt.Errorf("error signing the Tableau JWT: %w", err)
	}
	return s, nil
}

// Session is a signed-in session: its token goes with every VizQL Data
// Service call. A call answered 401 (the token expired) signs in again
// once and is repeated. A Session is used by one goroutine.
type Session struct {
	c       *Client
	token   string
	signIns int
}

// SignIns is the number of sign-ins of the session (1 + the renewals of an
// expired token).
func (s *Session) SignIns() int { return s.signIns }

// SignIn opens a session.
func (c *Client) SignIn(ctx context.Context) (*Session, error) {
	s := &Session{c: c}
	if err := s.signIn(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

type signInRequest struct {
	Credentials struct {
		JWT  string `json:"jwt"`
		Site struct {
			ContentURL string `json:"contentUrl"`
		} `json:"site"`
	} `json:"credentials"`
}

type signInAnswer struct {
	Credentials struct {
		Token string `json:"token"`
	} `json:"credentials"`
}

func (s *Session) signIn(ctx context.Context) error {
	var body signInRequest
	tok, err := s.c.JWT()
	if err != nil {
		return &Error{Kind: Unexpected, Op: "sign-in", Err: err}
	}
	body.Credentials.JWT = tok
	body.Credentials.Site.ContentURL = s.c.SiteContentURL
	var out signInAnswer
	err = s.c.call(ctx, "sign-in", s.c.restURL("/auth/signin"), "", body, nil, func(r io.Reader) error {
		return json.NewDecoder(r).Decode(&out)
	})
	if err != nil {
		return err
	}
	if out.Credentials.Token == "" {
		return &Error{Kind: Unexpected, Op: "sign-in", Status: http.StatusOK, Err: errors.New("the answer has no credentials.token")}
	}
	s.token = out.Credentials.Token
	s.signIns++
	return nil
}

// SignOut ends the session, best effort (its failure is ignored).
func (s *Session) SignOut(ctx context.Context) {
	if s == nil || s.token == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.c.restURL("/auth/signout"), nil)
	if err != nil {
		return
	}
	req.Header.Set("X-Tableau-Auth", s.token)
	req.Header.Set("Accept", "application/json")
	if resp, err := s.c.http().Do(req); err == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		_ = resp.Body.Close()
	}
	s.token = ""
}

// Field is one field of the datasource's metadata.
type Field struct {
	FieldName    string `json:"fieldName"`
	FieldCaption string `json:"fieldCaption"`
	DataType     string `json:"dataType"`
}

type datasourceRef struct {
	DatasourceLUID string `json:"datasourceLuid"`
}

// ReadMetadata reads the fields of the datasource (docs/jobs.md §8.2).
func (s *Session) ReadMetadata(ctx context.Context) ([]Field, error) {
	body := map[string]any{"datasource": datasourceRef{DatasourceLUID: s.c.DatasourceLUID}}
	var out struct {
		Data []Field `json:"data"`
	}
	err := s.vds(ctx, "read-metadata", "read-metadata", body, nil, func(r io.Reader) error {
		out.Data = nil
		return json.NewDecoder(r).Decode(&out)
	})
	if err != nil {
		return nil, err
	}
	if out.Data == nil {
		return nil, &Error{Kind: Unexpected, Op: "read-metadata", Status: http.StatusOK, Err: errors.New("the answer has no data list")}
	}
	return out.Data, nil
}

// Query is one query-datasource request (docs/jobs.md §8.3): the fields
// by caption, and an optional MATCH filter (a field whose value starts
// with a prefix: a page of the sync).
type Query struct {
	Captions []string
	// FilterCaption and StartsWith, when set, ask only for the rows whose
	// field starts with StartsWith.
	FilterCaption string
	StartsWith    string
}

type queryField struct {
	FieldCaption string `json:"fieldCaption"`
}

type matchFilter struct {
	Field      queryField `json:"field"`
	FilterType string     `json:"filterType"`
	StartsWith string     `json:"startsWith"`
}

type queryBody struct {
	Datasource datasourceRef `json:"datasource"`
	Query      struct {
		Fields  []queryField  `json:"fields"`
		Filters []matchFilter `json:"filters,omitempty"`
	} `json:"query"`
	Options struct {
		ReturnFormat string `json:"returnFormat"`
		Disaggregate bool   `json:"disaggregate"`
	} `json:"options"`
}

// Row is one object of a query's answer: caption → raw JSON value.
type Row map[string]json.RawMessage

// Query runs q and calls each for every object of the answer's data array,
// decoded as a stream (the array is never held whole). A transient failure
// — including an answer cut short after some objects were delivered — is
// retried from the start: start is called before every attempt so that
// the caller drops what a failed attempt delivered. An error of each ends
// the query with that error.
func (s *Session) Query(ctx context.Context, q Query, start func(), each func(Row) error) error {
	var body queryBody
	body.Datasource.DatasourceLUID = s.c.DatasourceLUID
	body.Query.Fields = make([]queryField, len(q.Captions))
	for i, c := range q.Captions {
		body.Query.Fields[i] = queryField{FieldCaption: c}
	}
	if q.FilterCaption != "" {
		body.Query.Filters = []matchFilter{{Field: queryField{FieldCaption: q.FilterCaption}, FilterType: "MATCH", StartsWith: q.StartsWith}}
	}
	body.Options.ReturnFormat = "OBJECTS"
	body.Options.Disaggregate = true
	op := "query-datasource"
	if q.StartsWith != "" {
		op += " (" + q.StartsWith + ")"
	}
	return s.vds(ctx, op, "query-datasource", body, start, func(r io.Reader) error { return decodeRows(r, each) })
}

// callbackError marks an error of the caller's callback: it ends the call
// as it is, never retried.
type callbackError struct{ err error }

func (e *callbackError) Error() string { return e.err.Error() }
func (e *callbackError) Unwrap() error { return e.err }

// decodeRows streams {"data": [{…}, …], …}: other top-level keys are
// skipped.
func decodeRows(r io.Reader, each func(Row) error) error {
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	seen := false
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := t.(string)
		if key != "data" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return err
			}
			continue
		}
		seen = true
		if err := expectDelim(dec, '['); err != nil {
			return err
		}
		for dec.More() {
			var row Row
			if err := dec.Decode(&row); err != nil {
				return err
			}
			if err := each(row); err != nil {
				return &callbackError{err: err}
			}
		}
		if err := expectDelim(dec, ']'); err != nil {
			return err
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return err
	}
	if !seen {
		return errNoData
	}
	return nil
}

// errNoData is an answer without a data list, errShape one of another
// shape: not the documented JSON.
var (
	errNoData = errors.New("the answer has no data list")
	errShape  = errors.New("unexpected JSON token")
)

func expectDelim(dec *json.Decoder, want json.Delim) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := t.(json.Delim); !ok || d != want {
		return fmt.Errorf("%w %v (want %q)", errShape, t, want)
	}
	return nil
}

// vds calls a VizQL Data Service method with the session's token; a 401
// (expired token) signs in again once and repeats the call.
func (s *Session) vds(ctx context.Context, op, method string, body any, start func(), handle func(io.Reader) error) error {
	renewed := false
	for {
		err := s.c.call(ctx, op, s.c.vdsURL(method), s.token, body, start, handle)
		if e, ok := errors.AsType[*Error](err); ok && e.Status == http.StatusUnauthorized && !renewed {
			renewed = true
			if err := s.signIn(ctx); err != nil {
				return err
			}
			continue
		}
		return err
	}
}

// call POSTs body as JSON to url and hands a 200 answer to handle,
// retrying transient failures with backoff. token, when set, goes in
// X-Tableau-Auth.
func (c *Client) call(ctx context.Context, op, url, token string, body any, start func(), handle func(io.Reader) error) error {
	payload, err := json.Marshal(body)
	if err != nil {
		return &Error{Kind: Unexpected, Op: op, Err: err}
	}
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(c.backoff(attempt)):
			}
		}
		if start != nil {
			start()
		}
		err := c.once(ctx, op, url, token, payload, handle)
		if err == nil {
			return nil
		}
		if ce, ok := errors.AsType[*callbackError](err); ok {
			return ce.err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if KindOf(err) != Unavailable || attempt >= c.retries() {
			return err
		}
	}
}

// once makes one request.
func (c *Client) once(ctx context.Context, op, url, token string, payload []byte, handle func(io.Reader) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return &Error{Kind: Unexpected, Op: op, Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("X-Tableau-Auth", token)
	}
	resp, err := c.http().Do(req)
	if err != nil {
		return &Error{Kind: Unavailable, Op: op, Err: err}
	}
	defer resp.Body.Close()
	switch st := resp.StatusCode; {
	case st == http.StatusOK:
	case st == http.StatusUnauthorized || st == http.StatusForbidden:
		return &Error{Kind: Refused, Op: op, Status: st, Detail: errorDetail(resp.Body)}
	case st == http.StatusTooManyRequests || st >= 500:
		return &Error{Kind: Unavailable, Op: op, Status: st, Detail: errorDetail(resp.Body)}
	default:
		return &Error{Kind: Unexpected, Op: op, Status: st, Detail: errorDetail(resp.Body)}
	}
	err = handle(resp.Body)
	switch {
	case err == nil:
		return nil
	case errors.As(err, new(*callbackError)):
		return err
	case errors.Is(err, errNoData):
		return &Error{Kind: Unexpected, Op: op, Status: resp.StatusCode, Err: err}
	case isSyntax(err):
		return &Error{Kind: Unexpected, Op: op, Status: resp.StatusCode, Err: fmt.Errorf("the answer is not the documented JSON: %w", err)}
	default:
		// Read errors and an answer cut short (io.ErrUnexpectedEOF): the
		// connection broke, a retry may succeed.
		return &Error{Kind: Unavailable, Op: op, Status: resp.StatusCode, Err: fmt.Errorf("the answer was cut short: %w", err)}
	}
}

func isSyntax(err error) bool {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	return errors.As(err, &se) || errors.As(err, &te) || errors.Is(err, errShape)
}

// errorDetail reads Tableau's error answer: the VizQL Data Service's
// {"errorCode", "message"} or the REST API's {"error": {"code", "summary",
// "detail"}}.
func errorDetail(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, maxErrorBody))
	var e struct {
		ErrorCode string `json:"errorCode"`
		Message   string `json:"message"`
		Error     struct {
			Code    string `json:"code"`
			Summary string `json:"summary"`
			Detail  string `json:"detail"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &e) != nil {
		return ""
	}
	var parts []string
	for _, p := range []string{e.ErrorCode, e.Message, e.Error.Code, e.Error.Summary, e.Error.Detail} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, " ")
}
