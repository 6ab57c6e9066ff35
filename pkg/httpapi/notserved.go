package httpapi

// NotYetServed is the one list of the operations that docs/api.md
// documents but the router does not serve yet, as "METHOD /path" (paths
// relative to /api/v1). TestAPIDocument keeps it exact: every documented
// operation is either routed or listed here, never both, and docs/api.md
// marks each one served ("yes") or "not yet" accordingly. Documenting a
// planned operation means adding its row to docs/api.md ("not yet") and
// its line here; serving it means removing the line and flipping the row.
// Every documented operation is served today.
var NotYetServed = []string{}
