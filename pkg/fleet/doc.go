// Package fleet keeps track of the worker processes (docs/jobs.md §1): every
// worker records itself in the workers table (Heartbeat) and runs a Reaper
// that hands back to River the running jobs of workers that stopped
// heartbeating.
//
// River rescues a job stuck in `running` only after RescueStuckJobsAfter
// and the job's own timeout (30 min for an upload import), so a worker
// killed with kill -9, OOM-killed or lost with its node would leave its jobs
// stuck that long. A worker's River client id is its heartbeat id, so the
// last element of river_job.attempted_by names the process running a job;
// when that process has given no sign of life for DeadAfter (3 heartbeats
// by default) the reaper retries, discards or cancels the job the way
// River's rescuer does, and records the reason in the job's pipelines.
//
// A live worker can leave a job stuck too: when its database connection
// breaks while River fetches, the fetch may have marked a job `running` for
// this worker although the answer never arrived, so the worker never starts
// it and keeps heartbeating. The Tracker middleware records the attempts the
// worker really works; the worker's own reaper hands back the jobs river_job
// says it runs that it never started, once they were fetched OrphanGrace
// ago. An attempt that returned while the database was down is not an
// orphan: River's completer keeps retrying to record its outcome until the
// database answers, so the job stays with River until the reaper sees that
// outcome recorded.
//
// The back office sees the fleet through Workers, Queues, Jobs and
// StaleStats (docs/api.md §10): the heartbeat rows, River's queues and jobs
// (their args scrubbed of secrets by audit.Scrub) and the report modules
// whose statistics wait for an aggregation.
package fleet
