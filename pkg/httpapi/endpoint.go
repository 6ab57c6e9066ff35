package httpapi

import (
	"maps"
	"net/http"
)

// The handler kit. Every route of the table is one function of its request
// that returns a response or an error:
//
//	func (s *Server) getUnit(r *http.Request) (response, error) {
//		id, err := pathUnitID(r)
//		if err != nil {
//			return response{}, err
//		}
//		return reply(report.GetUnit(r.Context(), s.Pool, id))
//	}
//
// and handle adapts it to net/http: one place writes JSON, the status, the
// headers and, through writeError (errors.go), every error. Path
// parameters, query values, pagination and JSON bodies are parsed by the
// helpers of params.go, never by hand.

// endpoint is a handler body.
type endpoint func(r *http.Request) (response, error)

// response is a successful answer: a JSON body with a status and headers,
// or a writer for anything else (CSV, files, redirects, event streams).
type response struct {
	status int
	body   any // JSON-encoded unless nil
	header http.Header
	// write, when set, produces the whole response (headers, status, body)
	// instead of status and body.
	write func(w http.ResponseWriter, r *http.Request)
}

// ok is 200 with v as JSON.
func ok(v any) response { return response{status: http.StatusOK, body: v} }

// created is 201 with v as JSON.
func created(v any) response { return response{status: http.StatusCreated, body: v} }

// accepted is 202 with v as JSON (work enqueued).
func accepted(v any) response { return response{status: http.StatusAccepted, body: v} }

// noContent is 204.
func noContent() response { return response{status: http.StatusNoContent} }

// notModified is 304 (If-None-Match matched).
func notModified() response { return response{status: http.StatusNotModified} }

// stream is a response written by write.
func stream(write func(w http.ResponseWriter, r *http.Request)) response {
	return response{write: write}
}

// with returns resp with header key set to value.
func (resp response) with(key, value string) response {
	if resp.header == nil {
		resp.header = http.Header{}
	}
	resp.header.Set(key, value)
	return resp
}

// reply is the answer of a body that only reads: 200 with v, or err.
func reply[T any](v T, err error) (response, error) {
	if err != nil {
		return response{}, err
	}
	return ok(v), nil
}

// handle adapts an endpoint to net/http.
func (s *Server) handle(fn endpoint) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		resp, err := fn(r)
		if err != nil {
			writeError(w, r, s.Logger, err)
			return
		}
		maps.Copy(w.Header(), resp.header)
		switch {
		case resp.write != nil:
			resp.write(w, r)
		case resp.body == nil:
			w.WriteHeader(resp.status)
		default:
			writeJSON(w, resp.status, resp.body)
		}
	}
}
