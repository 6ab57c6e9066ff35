package httpapi

import (
	"context"
	"net/http"
	"sync"

	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
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

// unitCache keeps the units of the permission checks (cf and ancestry).
type unitCache struct {
	mu   sync.RWMutex
	live bool
	seq  uint64
	m    map[int64]perm.Unit
}

func (c *unitCache) get(id int64) (perm.Unit, uint64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !c.live {
		return perm.Unit{}, c.seq, false
	}
	u, ok := c.m[id]
	return u, c.seq, ok
}

func (c *unitCache) put(id int64, u perm.Unit, seq uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live || c.seq != seq {
		return
	}
	if len(c.m) >= maxCachedUnits {
		clear(c.m)
	}
	c.m[id] = u
}

func (c *unitCache) reset(live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	c.live = live
	clear(c.m)
}

func (c *unitCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	clear(c.m)
}

// readCaches are the caches of one Server.
type readCaches struct {
	units   unitCache
	results *report.Cache
}

func newReadCaches() *readCaches {
	return &readCaches{units: unitCache{m: map[int64]perm.Unit{}}, results: report.NewCache()}
}

// invalidate applies one report.NotifyChannel payload.
func (c *readCaches) invalidate(payload string) {
	if payload == "units" {
		c.units.clear()
		return
	}
	c.results.Invalidate(payload)
}

func (c *readCaches) setLive(live bool) {
	c.units.reset(live)
	c.results.SetLive(live)
}

// evictAll empties both caches (they stay live).
func (c *readCaches) evictAll() {
	c.units.clear()
	c.results.Invalidate("")
}

// loadUnitCached is loadUnit through the unit cache.
func (s *Server) loadUnitCached(ctx context.Context, id int64) (perm.Unit, error) {
	u, seq, ok := s.caches.units.get(id)
	if ok {
		return u, nil
	}
	u, err := s.loadUnit(ctx, id)
	if err != nil {
		return u, err
	}
	s.caches.units.put(id, u, seq)
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
