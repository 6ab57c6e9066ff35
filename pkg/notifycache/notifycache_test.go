package notifycache_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/notifycache"
)

func TestMap(t *testing.T) {
	t.Parallel()

	t.Run("OffUntilLive", func(t *testing.T) {
		t.Parallel()
		m := notifycache.New[string, int](10, 0, nil)
		_, seq, ok := m.Get("a")
		require.False(t, ok)
		m.Put("a", 1, seq)
		_, _, ok = m.Get("a")
		require.False(t, ok, "nothing is stored while off")

		m.SetLive(true)
		_, seq, _ = m.Get("a")
		m.Put("a", 1, seq)
		v, _, ok := m.Get("a")
		require.True(t, ok)
		require.Equal(t, 1, v)

		m.SetLive(false)
		_, _, ok = m.Get("a")
		require.False(t, ok, "off: emptied and not served")
		m.SetLive(true)
		_, _, ok = m.Get("a")
		require.False(t, ok, "back on empty")
	})

	t.Run("ReadOlderThanAnInvalidation", func(t *testing.T) {
		t.Parallel()
		m := notifycache.New[string, int](10, 0, nil)
		m.SetLive(true)
		for name, invalidate := range map[string]func(){
			"Clear": m.Clear,
			"Evict": func() { m.Evict(func(string, int) bool { return false }) },
			"Alter": func() { m.Alter("other", func(v int) (int, bool) { return v, true }) },
		} {
			_, seq, _ := m.Get("a")
			invalidate() // a change committed while the database was read
			m.Put("a", 1, seq)
			_, _, ok := m.Get("a")
			require.False(t, ok, "%s: the older read is not stored", name)
		}
	})

	t.Run("EvictAndAlter", func(t *testing.T) {
		t.Parallel()
		m := notifycache.New[int, string](10, 0, nil)
		m.SetLive(true)
		_, seq, _ := m.Get(1)
		m.PutAll(map[int]string{1: "one", 2: "two", 3: "three"}, seq)
		m.Evict(func(k int, v string) bool { return k == 1 || v == "three" })
		_, _, ok := m.Get(1)
		require.False(t, ok)
		_, _, ok = m.Get(3)
		require.False(t, ok)
		v, _, ok := m.Get(2)
		require.True(t, ok)
		require.Equal(t, "two", v)

		m.Alter(2, func(v string) (string, bool) { return v + "!", true })
		v, _, _ = m.Get(2)
		require.Equal(t, "two!", v)
		m.Alter(9, func(string) (string, bool) { t.Fatal("called for a missing key"); return "", true })
		m.Alter(2, func(v string) (string, bool) { return v, false })
		_, _, ok = m.Get(2)
		require.False(t, ok, "dropped by Alter")
	})

	t.Run("GetAllIsAllOrNothing", func(t *testing.T) {
		t.Parallel()
		m := notifycache.New[int, string](10, 0, nil)
		m.SetLive(true)
		_, seq, _ := m.GetAll([]int{1, 2})
		m.PutAll(map[int]string{1: "one", 2: "two"}, seq)
		got, _, ok := m.GetAll([]int{2, 1})
		require.True(t, ok)
		require.Equal(t, map[int]string{1: "one", 2: "two"}, got)
		_, _, ok = m.GetAll([]int{1, 3})
		require.False(t, ok)
	})

	t.Run("TTL", func(t *testing.T) {
		t.Parallel()
		now := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
		m := notifycache.New[string, int](10, 5*time.Second, func() time.Time { return now })
		m.SetLive(true)
		_, seq, _ := m.Get("a")
		m.Put("a", 1, seq)
		now = now.Add(4 * time.Second)
		m.Alter("a", func(v int) (int, bool) { return v + 1, true }) // keeps its time of storage
		v, _, ok := m.Get("a")
		require.True(t, ok)
		require.Equal(t, 2, v)
		now = now.Add(time.Second)
		_, _, ok = m.Get("a")
		require.False(t, ok, "expired after the TTL")
	})

	t.Run("Bounded", func(t *testing.T) {
		t.Parallel()
		m := notifycache.New[int, int](3, 0, nil)
		m.SetLive(true)
		for i := range 3 {
			_, seq, _ := m.Get(i)
			m.Put(i, i, seq)
		}
		_, _, ok := m.Get(0)
		require.True(t, ok)
		_, seq, _ := m.Get(3)
		m.Put(3, 3, seq) // full: emptied first
		_, _, ok = m.Get(0)
		require.False(t, ok)
		v, _, ok := m.Get(3)
		require.True(t, ok)
		require.Equal(t, 3, v)
	})
}
