package config

import "time"

// Exports configures the export files of the worker (docs/jobs.md §4.9).
type Exports struct {
	// ExportTTL is EXPORT_TTL: how long a ready export can be downloaded
	// (its file is deleted by the sweep after that, 410 gone).
	ExportTTL time.Duration
	// ScheduleExportCleanup is SCHEDULE_EXPORT_CLEANUP: the cron of the
	// sweep of expired exports ("" disables it).
	ScheduleExportCleanup string
}

func (e *env) exports(c *Exports) {
	c.ExportTTL = e.duration("EXPORT_TTL", 7*24*time.Hour, "how long a ready export can be downloaded (expires_at = stored + EXPORT_TTL); the hourly sweep deletes the file after")
	c.ScheduleExportCleanup = e.cronExpr("SCHEDULE_EXPORT_CLEANUP", "15 * * * *", "cron (UTC) of the sweep of exports (export_cleanup: files past expires_at deleted, rows marked expired); empty disables")
	if c.ExportTTL < time.Minute {
		e.failf("EXPORT_TTL", "must be at least 1m")
	}
}
