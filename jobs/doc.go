// Package jobs holds the River job args (stable kind names, never renamed)
// and their workers, the queue names, the retry policy and the periodic
// schedule. Both binaries import it: cmd/api registers the workers only to
// validate kinds on insert; cmd/worker runs them.
package jobs
