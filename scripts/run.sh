#!/usr/bin/env bash
# Runs the whole system in the foreground: migrate up, seed (reference data
# and demo lab), then api, worker and the fake external services. Ctrl-C stops everything. Called by `make run`
# with DATABASE_URL set.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?DATABASE_URL must be set (make run sets it)}"

export APP_ENV=${APP_ENV:-dev}
export LOG_FORMAT=${LOG_FORMAT:-text}
export COOKIE_SECURE=${COOKIE_SECURE:-false}
HTTP_PORT=${HTTP_PORT:-8080}
fixtures=../shared/data/external

bin/migrate up

# Seed the reference data and the demo lab (LAB-DEMO, year 2025) from the
# shared data directory; both commands are idempotent.
data_dir=${SEED_DATA_DIR:-../shared/data}
if [ -d "$data_dir" ]; then
  bin/migrate seed-reference --data "$data_dir"
  bin/migrate seed-demo --data "$data_dir"
else
  echo "run: no data directory at $data_dir, skipping seed-reference and seed-demo"
fi

pids=()
cleanup() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

# The fake ECB and Accred (docs/jobs.md §9.3, §10): the worker takes its
# exchange rates and, for year setups and the nightly unit sync, its unit
# directory from them (UNIT_PROVIDER=accred). Roles stay the dev fixtures'
# (ROLE_PROVIDER=dev): the Accred LAB-DEMO (cf 7918) takes the dev LAB-DEMO
# over, so its principal keeps their lab and the demo data.
worker_env=()
if [ -d "$fixtures" ] && { [ -z "${ECB_BASE_URL:-}" ] || [ -z "${ACCRED_BASE_URL:-}" ] || [ -z "${TABLEAU_SERVER_URL:-}" ] || [ -z "${ES_URLS:-}" ]; }; then
  bin/worker fakes --addr 127.0.0.1:8099 --data "$fixtures" --accred-username dev --accred-password dev &
  pids+=($!)
  export ECB_BASE_URL=${ECB_BASE_URL:-http://127.0.0.1:8099/ecb}
  if [ -z "${ACCRED_BASE_URL:-}" ]; then
    worker_env=(ACCRED_BASE_URL=http://127.0.0.1:8099/accred ACCRED_USERNAME=dev ACCRED_PASSWORD=dev UNIT_PROVIDER=accred)
  fi
  # The fake Tableau (docs/jobs.md §8.5) with the fake's default Connected
  # App: POST /api/v1/integrations/tableau/sync {"year": 2025} syncs its
  # recorded trips (the API reads the variables to know Tableau is
  # configured, the worker syncs; the nightly run covers the open years).
  if [ -z "${TABLEAU_SERVER_URL:-}" ]; then
    export TABLEAU_SERVER_URL=http://127.0.0.1:8099/tableau TABLEAU_SITE_CONTENT_URL=co2demo \
      TABLEAU_CLIENT_ID=dev-connected-app TABLEAU_SECRET_ID=dev-secret-id TABLEAU_SECRET_VALUE=dev-secret-value \
      TABLEAU_USERNAME=co2-sync TABLEAU_DATASOURCE_LUID=4c1b2e7a-9d3f-4e0b-8a6c-5d2e1f0a9b8c
  fi
  # The fake Elasticsearch (docs/jobs.md §11.4): audit_ship sends the audit
  # trail to it every minute (kept in the fake's memory); the API reads
  # ES_URLS to show Elasticsearch as configured in GET /api/v1/integrations.
  if [ -z "${ES_URLS:-}" ]; then
    export ES_URLS=http://127.0.0.1:8099/elastic ES_API_KEY=dev
  fi
fi

# The API gets the worker's Accred variables too, only so that GET
# /api/v1/integrations shows Accred as configured (logins keep ROLE_PROVIDER=dev).
env "${worker_env[@]}" HTTP_ADDR=":$HTTP_PORT" ADMIN_ADDR=127.0.0.1:9090 bin/api serve &
pids+=($!)
env "${worker_env[@]}" ADMIN_ADDR=127.0.0.1:9091 bin/worker run &
pids+=($!)

echo
echo "co2-calculator is running: http://localhost:$HTTP_PORT  (API: http://localhost:$HTTP_PORT/api/v1/openapi.json)"
echo "admin: api http://127.0.0.1:9090/metrics, worker http://127.0.0.1:9091/metrics — Ctrl-C stops everything"
echo
wait -n "${pids[@]}"
