// Package pipeline implements the pipeline model (docs/jobs.md §2): a
// pipeline groups the River jobs caused by one user action or schedule tick
// and exposes one status and one progress bar.
//
// Jobs are linked to pipelines through pipeline_jobs (job args never carry a
// pipeline id). A River worker middleware (Middleware) keeps the links up to
// date as jobs start, report progress, succeed or fail; after each change the
// pipeline's derived fields are recomputed with the pure function Derive, its
// version is bumped and `NOTIFY pipeline_updates, '<id>:<version>'` is sent,
// which the API's Listener turns into Server-Sent Events.
//
// Users act on pipelines through Cancel and Retry (docs/jobs.md §2.5), and
// operators on single River jobs through CancelJob and RetryJob: each acts
// with River in the transaction that mirrors the job's new state into its
// links, refreshes the pipelines and writes the audit event.
package pipeline
