// Package notifycache is the map behind the API's read caches that
// PostgreSQL notifications keep current (the session cache, the pipeline
// heads, the unit and results caches: docs/architecture.md §3.4, "Caches of
// the API").
//
// A Map is used only while it is live — while the listener that receives
// its invalidations is connected (SetLive) — and a value read from the
// database is stored only when nothing was invalidated since the read
// began: Get hands out a sequence number that every invalidation bumps, and
// Put stores only under the same number, so a read that raced with a change
// never stores what the change replaced.
package notifycache

import (
	"sync"
	"time"
)

// Map is a bounded map of K to V. The zero value is not usable: New.
type Map[K comparable, V any] struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu   sync.RWMutex
	live bool
	seq  uint64 // bumped by every invalidation and by SetLive
	m    map[K]entry[V]
}

type entry[V any] struct {
	v  V
	at time.Time
}

// New returns an empty map, off until SetLive(true). It holds at most
// maxEntries values (when full it is emptied); a value is served for ttl
// after it was stored (0: until invalidated). now is its clock (nil:
// time.Now).
func New[K comparable, V any](maxEntries int, ttl time.Duration, now func() time.Time) *Map[K, V] {
	if now == nil {
		now = time.Now
	}
	return &Map[K, V]{ttl: ttl, max: maxEntries, now: now, m: map[K]entry[V]{}}
}

// Now is the map's clock.
func (c *Map[K, V]) Now() time.Time { return c.now() }

// Get returns the value of k, or false and the sequence number that a
// database read of k must hand back to Put.
func (c *Map[K, V]) Get(k K) (V, uint64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var zero V
	if !c.live {
		return zero, c.seq, false
	}
	e, ok := c.m[k]
	if !ok || c.expired(e) {
		return zero, c.seq, false
	}
	return e.v, c.seq, true
}

// GetAll returns the values of every key of keys, or false (one is missing)
// and the sequence number for PutAll.
func (c *Map[K, V]) GetAll(keys []K) (map[K]V, uint64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !c.live {
		return nil, c.seq, false
	}
	out := make(map[K]V, len(keys))
	for _, k := range keys {
		e, ok := c.m[k]
		if !ok || c.expired(e) {
			return nil, c.seq, false
		}
		out[k] = e.v
	}
	return out, c.seq, true
}

func (c *Map[K, V]) expired(e entry[V]) bool {
	return c.ttl > 0 && c.now().Sub(e.at) >= c.ttl
}

// Put stores v for k unless the map is off or something was invalidated
// since seq was handed out.
func (c *Map[K, V]) Put(k K, v V, seq uint64) {
	c.PutAll(map[K]V{k: v}, seq)
}

// PutAll stores values as Put does, all or none.
func (c *Map[K, V]) PutAll(values map[K]V, seq uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live || c.seq != seq {
		return
	}
	if len(c.m)+len(values) > c.max {
		clear(c.m)
	}
	at := c.now()
	for k, v := range values {
		c.m[k] = entry[V]{v: v, at: at}
	}
}

// Evict drops the values for which match is true.
func (c *Map[K, V]) Evict(match func(K, V) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	for k, e := range c.m {
		if match(k, e.v) {
			delete(c.m, k)
		}
	}
}

// Alter replaces the value of k, when there is one, by what f returns
// (dropped when f returns false); either way it counts as an
// invalidation. The value keeps its time of storage.
func (c *Map[K, V]) Alter(k K, f func(V) (V, bool)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	e, ok := c.m[k]
	if !ok {
		return
	}
	if v, keep := f(e.v); keep {
		c.m[k] = entry[V]{v: v, at: e.at}
	} else {
		delete(c.m, k)
	}
}

// Clear drops every value.
func (c *Map[K, V]) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	clear(c.m)
}

// SetLive empties the map and sets whether it may be used: true while the
// invalidations are received, false when they may be missed.
func (c *Map[K, V]) SetLive(live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	c.live = live
	clear(c.m)
}
