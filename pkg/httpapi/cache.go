package httpapi

import (
	"context"
	"net/http"

	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
	"github.com/co2-calculator/co2-calculator/pkg/notifycache"
	"github.com/co2-calculator/co2-calculator/pkg/report"
)

// The read caches of the unit checks and of the results summary
// (docs/architecture.md "Caches"). Both are invalidated through
// report.NotifyChannel, which triggers on units, years, carbon_reports and
// report_modules notify (migration 000016) whichever process writes, and
// are used only while the listener LISTENs. A write request served by
// this process also empties them before its answer is written (after its
// commit): its own caller never reads what it just changed from a cache
// the notification has not reached yet.

// maxCachedUnits bounds unitCache; when full it is emptied.
const maxCachedUnits = 50_000

// readCaches are the caches of one Server.
type readCaches struct {
	units   *notifycache.Map[int64, perm.Unit] // the units of the permission checks (cf and ancestry)
	results *report.Cache
}

func newReadCaches() *readCaches {
	return &readCaches{units: notifycache.New[int64, perm.Unit](maxCachedUnits, 0, nil), results: report.NewCache()}
}

// invalidate applies one report.NotifyChannel payload.
func (c *readCaches) invalidate(payload string) {
	if payload == "units" {
		c.units.Clear()
		return
	}
	c.results.Invalidate(payload)
}

func (c *readCaches) setLive(live bool) {
	c.units.SetLive(live)
	c.results.SetLive(live)
}

// evictAll empties both caches (they stay live).
func (c *readCaches) evictAll() {
	c.units.Clear()
	c.results.Invalidate("")
}

// loadUnitCached is loadUnit through the unit cache.
func (s *Server) loadUnitCached(ctx context.Context, id int64) (perm.Unit, error) {
	u, seq, ok := s.caches.units.Get(id)
	if ok {
		return u, nil
	}
	u, err := s.loadUnit(ctx, id)
	if err != nil {
		return u, err
	}
	s.caches.units.Put(id, u, seq)
	return u, nil
}

// evictOnWrite empties the read caches when a write request's answer
// starts (the handler has committed by then).
func (s *Server) evictOnWrite(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		ew := &evictWriter{ResponseWriter: w, evict: s.caches.evictAll}
		next.ServeHTTP(ew, r)
		ew.once() // a handler that wrote nothing
	})
}

type evictWriter struct {
	http.ResponseWriter
	evict func()
	done  bool
}

func (w *evictWriter) once() {
	if !w.done {
		w.done = true
		w.evict()
	}
}

func (w *evictWriter) WriteHeader(code int) {
	w.once()
	w.ResponseWriter.WriteHeader(code)
}

func (w *evictWriter) Write(b []byte) (int, error) {
	w.once()
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *evictWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
