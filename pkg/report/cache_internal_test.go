package report

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The results cache's rules without a database: off until live, a read
// that raced with an invalidation is not stored, invalidations drop what
// they name.
func TestCacheRules(t *testing.T) {
	t.Parallel()
	years := []int32{2025, 2024}
	found := map[int32]*yearData{2025: {year: 2025}} // 2024 has no report
	c := NewCache()

	_, seq, ok := c.get(1, years)
	require.False(t, ok)
	c.put(1, years, found, seq)
	_, _, ok = c.get(1, years)
	require.False(t, ok, "not live: nothing is stored")

	c.SetLive(true)
	_, seq, _ = c.get(1, years)
	c.Invalidate("unit:1") // a change committed while the database was read
	c.put(1, years, found, seq)
	_, _, ok = c.get(1, years)
	require.False(t, ok, "a read older than an invalidation is not stored")

	_, seq, _ = c.get(1, years)
	c.put(1, years, found, seq)
	got, _, ok := c.get(1, years)
	require.True(t, ok)
	require.Equal(t, found, got)
	_, _, ok = c.get(1, []int32{2025, 2023})
	require.False(t, ok, "every year asked must be known")

	c.Invalidate("unit:2")
	c.Invalidate("units")
	_, _, ok = c.get(1, years)
	require.True(t, ok, "another unit's change and a units change keep unit 1")
	c.Invalidate("unit:1")
	_, _, ok = c.get(1, years)
	require.False(t, ok)

	_, seq, _ = c.get(1, years)
	c.put(1, years, found, seq)
	c.Invalidate("all")
	_, _, ok = c.get(1, years)
	require.False(t, ok, "all drops everything")

	_, seq, _ = c.get(1, years)
	c.put(1, years, found, seq)
	c.SetLive(false)
	_, _, ok = c.get(1, years)
	require.False(t, ok, "a lost listener empties it")
	var nilCache *Cache
	_, _, ok = nilCache.get(1, years)
	require.False(t, ok)
	nilCache.put(1, years, found, 0)
}
