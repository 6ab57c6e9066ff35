#!/usr/bin/env bash
# End-to-end tests of the SPA against the real system (docs/frontend.md §8).
#
#   web/e2e/run.sh            # from anywhere; `make web/e2e` calls it
#   web/e2e/run.sh --serve    # start the stack only and wait (manual testing; Ctrl-C stops)
#
# Builds nothing: expects bin/api, bin/worker and bin/migrate (`make build`)
# and the SPA in web/dist/spa (`make web/build`; served through SPA_DIR, so
# the binaries need not be rebuilt after a SPA change). Then:
#   1. a dedicated database (E2E_DB, default co2_e2e), dropped and re-created
#      (scripts/pg.sh ensure: the server at E2E_DATABASE_URL or a private cluster);
#   2. migrate up, seed-reference, seed-demo (LAB-DEMO, 2025);
#   3. api (APP_ENV=dev, built-in dev OIDC provider, a free port) and worker;
#   4. node e2e/app.e2e.mjs BASE_URL, then e2e/lab.mjs and e2e/backoffice.mjs
#      (playwright-core + Debian Chromium; E2E_SUITES="lab" runs only the lab
#      suite, E2E_SUITES="backoffice" only the back-office one);
#   5. stops api and worker (trap) and exits with the tests' status.
# Logs and screenshots: web/test-artifacts/e2e/.
set -euo pipefail

web=$(cd "$(dirname "$0")/.." && pwd)
repo=$(cd "$web/.." && pwd)
cd "$repo"

serve_only=false
[ "${1:-}" = "--serve" ] && serve_only=true

for b in api worker migrate; do
  [ -x "bin/$b" ] || { echo "e2e: bin/$b is missing; run 'make build' first" >&2; exit 2; }
done
[ -f "$web/dist/spa/index.html" ] || { echo "e2e: web/dist/spa is missing; run 'make web/build' first" >&2; exit 2; }

artifacts="$web/test-artifacts/e2e"
rm -rf "$artifacts"
mkdir -p "$artifacts"

started=$(date +%s)
db=${E2E_DB:-co2_e2e}
base_url=${E2E_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/$db?sslmode=disable}
eval "$(scripts/pg.sh ensure E2E_URL "$base_url")"
# Drop and re-create the database, so every run starts from the seeds only.
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
admin_url=$(echo "$E2E_URL" | sed -E "s#/$db(\?|\$)#/postgres\1#; s/([?&])pool_[a-z_]+=[^&]*&?/\1/g; s/[?&]\$//")
"$pgbin/psql" -q -X "$admin_url" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
eval "$(scripts/pg.sh ensure E2E_URL "$E2E_URL")"
export DATABASE_URL=$E2E_URL
echo "e2e: database $DATABASE_URL"

free_port() { local p=$1; while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done; echo "$p"; }

bin/migrate up >"$artifacts/migrate.log" 2>&1
bin/migrate seed-reference --data "${SEED_DATA_DIR:-../shared/data}" >>"$artifacts/migrate.log" 2>&1
bin/migrate seed-demo --data "${SEED_DATA_DIR:-../shared/data}" >>"$artifacts/migrate.log" 2>&1

port=$(free_port "${E2E_PORT:-18480}")
admin_api=$(free_port $((port + 1)))
admin_worker=$(free_port $((admin_api + 1)))
url="http://127.0.0.1:$port"
export APP_ENV=dev DEV_OIDC_ENABLED=true COOKIE_SECURE=false LOG_FORMAT=text
export PUBLIC_BASE_URL=$url SPA_DIR="$web/dist/spa"

pids=()
cleanup() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup INT TERM EXIT

HTTP_ADDR="127.0.0.1:$port" ADMIN_ADDR="127.0.0.1:$admin_api" bin/api serve >"$artifacts/api.log" 2>&1 &
pids+=($!)
ADMIN_ADDR="127.0.0.1:$admin_worker" bin/worker run >"$artifacts/worker.log" 2>&1 &
pids+=($!)

for _ in $(seq 1 100); do
  curl -fsS "$url/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "$url/readyz" >/dev/null || { echo "e2e: the API did not become ready" >&2; tail -20 "$artifacts/api.log" >&2; exit 1; }
echo "e2e: api $url (stack ready in $(( $(date +%s) - started )) s)"

if $serve_only; then
  echo "e2e: serving until Ctrl-C"
  wait -n "${pids[@]}"
  exit 0
fi

# Suites, in this order (E2E_SUITES picks some, e.g. E2E_SUITES=lab): app.e2e.mjs
# (with journeys.mjs), lab.mjs (issue 15's lab pages), backoffice.mjs (issue 15's
# back office). Each runs even when an
# earlier one failed; the status is the first failure's.
status=0
for suite in ${E2E_SUITES:-app lab backoffice}; do
  case $suite in
    app) script=e2e/app.e2e.mjs ;;
    lab) script=e2e/lab.mjs ;;
    backoffice) script=e2e/backoffice.mjs ;;
    *) echo "e2e: unknown suite $suite" >&2; status=2; continue ;;
  esac
  suite_started=$(date +%s)
  s=0
  (cd "$web" && export PATH="$(ls -d "$web"/.node/node_modules/node-linux-*/bin | head -1):$PATH" && \
    ARTIFACTS_DIR="$artifacts" DATABASE_URL="$DATABASE_URL" PSQL="$pgbin/psql" WORKER_PID="${pids[1]}" \
    node "$script" "$url") || s=$?
  echo "e2e: suite $suite $([ $s = 0 ] && echo passed || echo FAILED) in $(( $(date +%s) - suite_started )) s"
  [ $status = 0 ] && status=$s
done
echo "e2e: $([ $status = 0 ] && echo PASS || echo FAIL) in $(( $(date +%s) - started )) s (artifacts: $artifacts)"
exit $status
