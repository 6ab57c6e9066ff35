// Package accred is the HTTP client of the Accred API (docs/jobs.md §9):
// Basic auth, JSON answers, one GET whose failure is classified once. Its
// users give the answers meaning: pkg/auth reads persons and
// authorizations (the "accred" role provider, role_sync), pkg/units reads
// the unit directory (accred_unit_sync).
package accred

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client calls one Accred instance.
type Client struct {
	BaseURL  string
	Username string
	Password string
	// HTTP is the client used; its Timeout is ACCRED_TIMEOUT. nil: a
	// client with a 30 s timeout.
	HTTP *http.Client
}

// MaxBody bounds one answer.
const MaxBody = 64 << 20

// Kind classifies a failed call.
type Kind int

const (
	// Unavailable: no answer (network error, timeout), or 429 / 5xx. A
	// retry may succeed.
	Unavailable Kind = iota
	// Refused: 401 or 403, the credentials are not accepted.
	Refused
	// Unexpected: any other status, an answer larger than MaxBody, or a
	// body that is not the expected JSON.
	Unexpected
)

// Error is a failed call.
type Error struct {
	Kind   Kind
	Path   string // the path called, e.g. /units
	Status int    // the HTTP status; 0 without an answer
	Err    error  // the underlying error, when there is one
}

func (e *Error) Error() string { return "accred GET " + e.Path + ": " + e.Detail() }

// Detail says what went wrong, without the call ("HTTP 503",
// "credentials refused (HTTP 401)", the underlying error).
func (e *Error) Detail() string {
	var parts []string
	switch {
	case e.Kind == Refused:
		parts = append(parts, fmt.Sprintf("credentials refused (HTTP %d)", e.Status))
	case e.Status != 0 && e.Status != http.StatusOK:
		parts = append(parts, fmt.Sprintf("HTTP %d", e.Status))
	}
	if e.Err != nil {
		parts = append(parts, e.Err.Error())
	}
	return strings.Join(parts, ": ")
}

func (e *Error) Unwrap() error { return e.Err }

// Get calls GET {BaseURL}{path}?{query} and decodes the JSON answer into
// out. Errors are *Error.
func (c *Client) Get(ctx context.Context, path string, query url.Values, out any) error {
	u := strings.TrimRight(c.BaseURL, "/") + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return &Error{Kind: Unexpected, Path: path, Err: err}
	}
	req.SetBasicAuth(c.Username, c.Password)
	req.Header.Set("Accept", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return &Error{Kind: Unavailable, Path: path, Err: err}
	}
	defer resp.Body.Close()
	switch st := resp.StatusCode; {
	case st == http.StatusUnauthorized || st == http.StatusForbidden:
		return &Error{Kind: Refused, Path: path, Status: st}
	case st == http.StatusTooManyRequests || st >= 500:
		return &Error{Kind: Unavailable, Path: path, Status: st}
	case st != http.StatusOK:
		return &Error{Kind: Unexpected, Path: path, Status: st}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		return &Error{Kind: Unavailable, Path: path, Status: resp.StatusCode, Err: err}
	}
	if len(b) > MaxBody {
		return &Error{Kind: Unexpected, Path: path, Status: resp.StatusCode, Err: fmt.Errorf("answer larger than %d bytes", MaxBody)}
	}
	if err := json.Unmarshal(b, out); err != nil {
		return &Error{Kind: Unexpected, Path: path, Status: resp.StatusCode, Err: fmt.Errorf("the answer is not the documented JSON: %w", err)}
	}
	return nil
}

// Classify returns the kind of a failed call and what went wrong (an error
// that is not an *Error is Unexpected).
func Classify(err error) (Kind, string) {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Kind, e.Detail()
	}
	return Unexpected, err.Error()
}
