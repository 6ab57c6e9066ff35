package fleet

import "time"

// SetClockForTest replaces the reaper's clock (the process clock that tells
// how long the database has answered).
func (r *Reaper) SetClockForTest(now func() time.Time) { r.now = now }
