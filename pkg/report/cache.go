package report

import (
	"strconv"
	"strings"

	"github.com/co2-calculator/co2-calculator/pkg/notifycache"
)

// The results cache (docs/architecture.md "Caches"): the loaded report
// modules of a unit-year (status, stats, year configuration) are reused by
// the results endpoints until something changes them. Every write of what
// it holds — carbon_reports, report_modules (status, stats,
// recomputed_after_validation), years — notifies NotifyChannel in its own
// transaction through triggers (migration 000016), whichever process makes
// it; the API's listener hands the payload to Cache.Invalidate. The cache
// is used only while the listener LISTENs (Cache.SetLive): a lost
// connection empties it and every request reads the database until it is
// back.

// NotifyChannel is the LISTEN/NOTIFY channel of results changes: payload
// "unit:<id>" (the reports of a unit), "units" (the units table) or
// anything else (everything).
const NotifyChannel = "results_changes"

// maxCachedReports bounds the cache (one entry is a unit-year's eight
// modules, whose decoded stats are shared with decodedStats); when full it
// is emptied.
const maxCachedReports = 20_000

// Cache holds loaded unit-years. A nil *Cache caches nothing.
type Cache struct {
	m *notifycache.Map[cacheKey, *yearData]
}

type cacheKey struct {
	unit int64
	year int32
}

// NewCache returns an empty cache, off until SetLive(true).
func NewCache() *Cache {
	return &Cache{m: notifycache.New[cacheKey, *yearData](maxCachedReports, 0, nil)}
}

// SetLive turns the cache on while the notifications are received (true)
// and off, emptied, when they are not (false).
func (c *Cache) SetLive(live bool) {
	c.m.SetLive(live)
}

// Invalidate applies one NotifyChannel payload.
func (c *Cache) Invalidate(payload string) {
	if payload == "units" {
		return // the unit table holds nothing of a report
	}
	if kind, id, _ := strings.Cut(payload, ":"); kind == "unit" {
		if unit, err := strconv.ParseInt(id, 10, 64); err == nil {
			c.m.Evict(func(k cacheKey, _ *yearData) bool { return k.unit == unit })
			return
		}
	}
	c.m.Clear()
}

// get returns the cached unit-years (a year without report maps to nil),
// or the sequence number a database read must hand back to put.
func (c *Cache) get(unit int64, years []int32) (map[int32]*yearData, uint64, bool) {
	if c == nil || len(years) == 0 {
		return nil, 0, false
	}
	keys := make([]cacheKey, len(years))
	for i, y := range years {
		keys[i] = cacheKey{unit, y}
	}
	got, seq, ok := c.m.GetAll(keys)
	if !ok {
		return nil, seq, false
	}
	out := make(map[int32]*yearData, len(years))
	for k, yd := range got {
		if yd != nil {
			out[k.year] = yd
		}
	}
	return out, seq, true
}

// put stores what a database read found for the years (absent years as
// nil) unless an invalidation happened since seq.
func (c *Cache) put(unit int64, years []int32, found map[int32]*yearData, seq uint64) {
	if c == nil || len(years) == 0 {
		return
	}
	values := make(map[cacheKey]*yearData, len(years))
	for _, y := range years {
		values[cacheKey{unit, y}] = found[y]
	}
	c.m.PutAll(values, seq)
}
