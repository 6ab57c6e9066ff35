package httpapi

// NotYetServed is the one list of the operations that docs/api.md
// documents but the router does not serve yet, as "METHOD /path" (paths
// relative to /api/v1). TestAPIDocument keeps it exact: every documented
// operation is either routed or listed here, never both, and docs/api.md
// marks each one served ("yes") or "not yet" accordingly. Adding a route
// means removing its line here and flipping its row in docs/api.md.
var NotYetServed = []string{
	// Years and their setup (docs/api.md §7).
	"GET /years",
	"GET /years/{year}",
	"POST /years",
	"POST /years/{year}/setup",
	"PATCH /years/{year}",
	"GET /years/{year}/data-status",
	"POST /years/{year}/reduction-objectives/{dataset}",

	// Factor curation, FX rates and recalculations (§8, §9).
	"GET /factors",
	"GET /factors/{id}",
	"POST /factors",
	"PATCH /factors/{id}",
	"DELETE /factors/{id}",
	"GET /factors/stale",
	"POST /factors/stale/purge",
	"POST /factors/compute",
	"PUT /fx-rates/{year}/{currency}",
	"DELETE /fx-rates/{year}/{currency}",
	"POST /recalculations",

	// Job operations (§10).
	"POST /pipelines/{id}/jobs/{job_id}/retry",
	"GET /ops/workers",
	"GET /ops/queues",
	"GET /ops/jobs",
	"POST /ops/jobs/{id}/retry",
	"POST /ops/jobs/{id}/cancel",
	"GET /ops/stale-stats",

	// Back-office reporting and exports (§11, §12).
	"GET /backoffice/years",
	"GET /backoffice/affiliations",
	"GET /backoffice/units",
	"GET /backoffice/overview",
	"GET /backoffice/usage",
	"GET /backoffice/results",
	"POST /exports",
	"GET /exports",
	"GET /exports/{id}",
	"GET /exports/{id}/download",

	// Audit and integrations (§13, §14).
	"GET /audit/events",
	"GET /audit/events/{id}",
	"GET /audit/stats",
	"GET /audit/verify",
	"POST /audit/shipping/retry-failed",
	"GET /integrations",
	"POST /integrations/tableau/sync",
	"POST /integrations/ecb/sync",
	"POST /integrations/accred/sync",
}
