package httpapi

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
)

// Limits of the public listener (docs/api.md §1 "Limits"): how long a
// request body may take to arrive, and how many event streams one user may
// hold. The header read and idle keep-alive timeouts are the server's
// (telemetry.ServerTimeouts).

// Limits configure the request body deadlines and the stream cap.
type Limits struct {
	// BodyTimeout is HTTP_BODY_TIMEOUT: a request body must have arrived
	// this long after the handler started (0: no deadline).
	BodyTimeout time.Duration
	// UploadMinRate is HTTP_UPLOAD_MIN_RATE: a multipart (upload) body
	// gets BodyTimeout plus one second per UploadMinRate bytes received,
	// so a transfer slower than that rate on average is cut (0: uploads
	// get BodyTimeout only).
	UploadMinRate int64
	// SSEPerUser is SSE_MAX_STREAMS_PER_USER: event streams one user may
	// hold at once on this process (0: no cap).
	SSEPerUser int
}

// bodyTimeoutError is a request body read past its deadline: 408.
type bodyTimeoutError struct{ err error }

func (e *bodyTimeoutError) Error() string   { return "request body timeout: " + e.err.Error() }
func (e *bodyTimeoutError) Unwrap() error   { return e.err }
func (e *bodyTimeoutError) Timeout() bool   { return true }
func (e *bodyTimeoutError) Temporary() bool { return false }

// clientBodyError is any other failure to read the request body (the
// client went away): never a database outage (dbUnavailable).
type clientBodyError struct{ err error }

func (e *clientBodyError) Error() string { return "error reading the request body: " + e.err.Error() }
func (e *clientBodyError) Unwrap() error { return e.err }

// bodyDeadline gives every request body a read deadline (Limits): the
// whole body within BodyTimeout, or for a multipart upload at least
// UploadMinRate bytes per second on average after BodyTimeout. The
// deadline is lifted once the whole body is read, so that a long handler
// is never cut (an expired read deadline would cancel the request's
// context); a body that timed out keeps it, so that nothing (the handler
// draining a part, the server discarding the rest) waits for it again,
// and the answer is 408 whatever the handler made of the failed read
// (writeError, bodyTimedOut).
func (s *Server) bodyDeadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || s.Limits.BodyTimeout <= 0 {
			next.ServeHTTP(w, r)
			return
		}
		b := &deadlineBody{body: r.Body, start: time.Now(), grace: s.Limits.BodyTimeout}
		if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == mediaMultipart {
			b.rate = s.Limits.UploadMinRate
		}
		b.rc = http.NewResponseController(w)
		if b.extend() != nil {
			next.ServeHTTP(w, r) // not a server connection (tests): no deadline
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), deadlineBodyKey{}, b))
		r.Body = b
		next.ServeHTTP(w, r)
	})
}

// mediaMultipart is the media type of uploads.
const mediaMultipart = "multipart/form-data"

type deadlineBodyKey struct{}

// bodyTimedOut reports whether the request body of r missed its deadline.
func bodyTimedOut(r *http.Request) bool {
	b, ok := r.Context().Value(deadlineBodyKey{}).(*deadlineBody)
	return ok && b.timedOut.Load()
}

type deadlineBody struct {
	body     io.ReadCloser
	rc       *http.ResponseController
	start    time.Time
	grace    time.Duration
	rate     int64
	n        int64
	ended    bool
	timedOut atomic.Bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	b.n += int64(n)
	switch {
	case err == nil:
		if b.rate > 0 && !b.ended {
			_ = b.extend()
		}
		return n, nil
	case errors.Is(err, io.EOF):
		b.end()
		return n, err
	case errors.Is(err, os.ErrDeadlineExceeded):
		b.timedOut.Store(true)
		return n, &bodyTimeoutError{err: err}
	}
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return n, err
	}
	return n, &clientBodyError{err: err}
}

// Close keeps the deadline: the server discards what is left of an unread
// body, and must not wait for it longer than the deadline.
func (b *deadlineBody) Close() error { return b.body.Close() }

// extend sets the read deadline for the bytes received so far.
func (b *deadlineBody) extend() error {
	d := b.start.Add(b.grace)
	if b.rate > 0 {
		d = d.Add(time.Duration(float64(b.n) / float64(b.rate) * float64(time.Second)))
	}
	return b.rc.SetReadDeadline(d)
}

// end lifts the deadline once the body is read.
func (b *deadlineBody) end() {
	if !b.ended {
		b.ended = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
}

// streamCounter caps the event streams per user.
type streamCounter struct {
	mu   sync.Mutex
	open map[int64]int
}

// acquire takes a stream slot for user (429 too_many_streams beyond max;
// max 0 is no cap); release gives it back.
func (c *streamCounter) acquire(user int64, maxStreams int) (func(), error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if maxStreams > 0 && c.open[user] >= maxStreams {
		return nil, apperr.WithReason(apperr.CodeTooMany, "too_many_streams",
			"at most %d event streams per user; close one first", maxStreams)
	}
	if c.open == nil {
		c.open = map[int64]int{}
	}
	c.open[user]++
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.open[user]--; c.open[user] <= 0 {
				delete(c.open, user)
			}
		})
	}, nil
}
