// Package fleet keeps track of the worker processes (jobs.md §1): every
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
package fleet
