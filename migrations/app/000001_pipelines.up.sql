-- Pipelines group the River jobs caused by one user action or schedule tick
-- (spec docs/jobs.md §2). Status and progress are derived from pipeline_jobs.
CREATE TABLE pipelines (
    id                  uuid PRIMARY KEY,
    kind                text NOT NULL CHECK (kind IN (
                            'data_upload', 'factor_upload', 'factor_compute', 'reference_upload',
                            'recalculation', 'tableau_sync', 'ecb_sync', 'accred_sync', 'year_setup',
                            'export', 'fx_manual', 'factor_edit')),
    status              text NOT NULL DEFAULT 'NOT_STARTED' CHECK (status IN (
                            'NOT_STARTED', 'RUNNING', 'SUCCESS', 'PARTIAL', 'FAILED')),
    cancelled           boolean NOT NULL DEFAULT false,
    cancel_requested_by bigint,
    cancel_requested_at timestamptz,
    trigger             text NOT NULL CHECK (trigger IN ('user', 'schedule', 'system')),
    year                integer,
    module              text,
    submodule           text,
    unit_id             bigint,
    report_module_id    bigint,
    upload_id           uuid,
    export_id           uuid,
    created_by          bigint,
    phases              text[] NOT NULL,
    phase               text,
    phase_index         integer NOT NULL DEFAULT 1,
    progress_done       bigint NOT NULL DEFAULT 0,
    progress_total      bigint NOT NULL DEFAULT 0,
    percent             integer NOT NULL DEFAULT 0,
    eta_seconds         integer,
    message             text,
    counters            jsonb NOT NULL DEFAULT '{}',
    last_error          text,
    job_count           integer NOT NULL DEFAULT 0,
    failed_job_count    integer NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL DEFAULT now(),
    started_at          timestamptz,
    finished_at         timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    version             bigint NOT NULL DEFAULT 1
);

CREATE INDEX pipelines_active_idx ON pipelines (status) WHERE status IN ('NOT_STARTED', 'RUNNING');
CREATE INDEX pipelines_year_module_idx ON pipelines (year, module);
CREATE INDEX pipelines_created_at_idx ON pipelines (created_at DESC);
CREATE INDEX pipelines_kind_idx ON pipelines (kind);

CREATE TABLE pipeline_jobs (
    pipeline_id      uuid NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    job_id           bigint NOT NULL, -- River job id; no FK, River cleans its own table
    kind             text NOT NULL,
    queue            text NOT NULL,
    role             text NOT NULL CHECK (role IN ('root', 'child')),
    state            text NOT NULL DEFAULT 'queued' CHECK (state IN (
                         'queued', 'running', 'retrying', 'succeeded', 'failed', 'cancelled')),
    attempt          integer NOT NULL DEFAULT 0,
    max_attempts     integer NOT NULL,
    attached_at      timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    message          text,
    progress         jsonb NOT NULL DEFAULT '{}',
    result           jsonb NOT NULL DEFAULT '{}',
    row_errors       jsonb NOT NULL DEFAULT '[]',
    row_errors_total integer NOT NULL DEFAULT 0,
    PRIMARY KEY (pipeline_id, job_id)
);

CREATE INDEX pipeline_jobs_job_id_idx ON pipeline_jobs (job_id);

-- Foreign exchange rates: units of a currency per 1 EUR for a year.
CREATE TABLE fx_rates (
    year           integer NOT NULL CHECK (year BETWEEN 1990 AND 2200),
    currency       text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    per_eur        double precision NOT NULL CHECK (per_eur > 0),
    source         text NOT NULL CHECK (source IN ('ecb_annual', 'ecb_monthly_avg', 'manual')),
    months_covered integer CHECK (months_covered BETWEEN 1 AND 12),
    fetched_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (year, currency)
);

-- Last run of each external integration (tableau, ecb, accred, elasticsearch).
CREATE TABLE integration_state (
    name             text PRIMARY KEY CHECK (name IN ('tableau', 'ecb', 'accred', 'elasticsearch')),
    last_attempt_at  timestamptz,
    last_success_at  timestamptz,
    last_status      text,
    last_message     text,
    last_pipeline_id uuid,
    details          jsonb NOT NULL DEFAULT '{}',
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Worker heartbeats (one row per worker process).
CREATE TABLE workers (
    id           text PRIMARY KEY,
    hostname     text NOT NULL,
    version      text NOT NULL,
    git_sha      text NOT NULL DEFAULT '',
    queues       jsonb NOT NULL,
    running_jobs integer NOT NULL DEFAULT 0,
    started_at   timestamptz NOT NULL,
    heartbeat_at timestamptz NOT NULL
);
