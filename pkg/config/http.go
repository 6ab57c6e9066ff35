package config

import "time"

// HTTPServer configures the public listener of the API against slow and
// idle clients (docs/api.md §1 "Limits").
type HTTPServer struct {
	// ReadHeaderTimeout is HTTP_READ_HEADER_TIMEOUT: the request line and
	// headers must arrive within it.
	ReadHeaderTimeout time.Duration
	// IdleTimeout is HTTP_IDLE_TIMEOUT: a keep-alive connection with no
	// request for this long is closed.
	IdleTimeout time.Duration
	// BodyTimeout is HTTP_BODY_TIMEOUT: a request body must have arrived
	// this long after its headers (uploads: see UploadMinRate); 408 beyond.
	BodyTimeout time.Duration
	// UploadMinRate is HTTP_UPLOAD_MIN_RATE: an upload body may take
	// BodyTimeout plus one second per UploadMinRate bytes received.
	UploadMinRate int64
	// SSEMaxPerUser is SSE_MAX_STREAMS_PER_USER: event streams one user may
	// hold at once on one API process; 429 beyond.
	SSEMaxPerUser int
}

func (e *env) httpServer(c *HTTPServer) {
	c.ReadHeaderTimeout = e.duration("HTTP_READ_HEADER_TIMEOUT", 10*time.Second, "the request line and headers must arrive within this (slow clients are cut)")
	c.IdleTimeout = e.duration("HTTP_IDLE_TIMEOUT", 60*time.Second, "an idle keep-alive connection is closed after this")
	c.BodyTimeout = e.duration("HTTP_BODY_TIMEOUT", 30*time.Second, "a request body must arrive within this after its headers (408 beyond); uploads also get HTTP_UPLOAD_MIN_RATE")
	c.UploadMinRate = int64(e.count("HTTP_UPLOAD_MIN_RATE", 16<<10, 1<<30, "slowest accepted upload in bytes/s: an upload body may take HTTP_BODY_TIMEOUT plus one second per this many bytes received"))
	c.SSEMaxPerUser = e.count("SSE_MAX_STREAMS_PER_USER", 20, 100_000, "event streams (GET /pipelines/{id}/events) one user may hold at once on one API process (429 beyond)")
	for _, v := range []struct {
		name string
		d    time.Duration
	}{{"HTTP_READ_HEADER_TIMEOUT", c.ReadHeaderTimeout}, {"HTTP_IDLE_TIMEOUT", c.IdleTimeout}, {"HTTP_BODY_TIMEOUT", c.BodyTimeout}} {
		if v.d < time.Second {
			e.failf(v.name, "must be at least 1s")
		}
	}
}
