#!/usr/bin/env bash
# PostgreSQL wherever the project runs.
#
#   eval "$(scripts/pg.sh ensure VAR URL)"
#
# prints `export VAR=<url>`: URL itself when a server answers there;
# otherwise the URL of a private cluster under .data/postgres (created with
# initdb on first use, started when stopped; a second call is instant). The
# database named in URL is created when missing. The Debian `postgresql`
# package is installed with apt-get when no server binaries exist.
#
#   scripts/pg.sh stop      stops the private cluster
#   scripts/pg.sh status    tells whether it runs
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
root="$repo/.data/postgres"

log() { echo "pg.sh: $*" >&2; }

find_bin() {
  local b
  b=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$b" ] || [ ! -x "$b/initdb" ]; then
    log "no PostgreSQL server binaries found; installing the Debian package 'postgresql'"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2 \
      || { $sudo apt-get update -q >&2 && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2; }
    b=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  echo "$b"
}

# initdb and postgres refuse to run as root: drop to the postgres user.
as_pg() { if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }

# The cluster lives under .data/postgres unless the postgres user cannot
# reach that directory (a checkout under /root, say): then under /var/tmp.
cluster_dir() {
  mkdir -p "$root"
  if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$root" 2>/dev/null; then
    local alt="/var/tmp/co2-calculator-pg-$(echo -n "$repo" | sha1sum | cut -c1-10)"
    mkdir -p "$alt"
    echo "$alt"
  else
    echo "$root"
  fi
}

free_port() { local p=$1; while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done; echo "$p"; }

# libpq refuses pgxpool's pool_* parameters: drop them for psql/pg_isready.
libpq_url() { echo "$1" | sed -E 's/([?&])pool_[a-z_]+=[^&]*&?/\1/g; s/[?&]$//'; }

answers() { # BIN URL
  "$1/pg_isready" -q -t 3 -d "$(libpq_url "$2")" >/dev/null 2>&1
}

# db_url URL DBNAME -> URL with the database replaced (query kept)
with_db() {
  local url=$1 db=$2 base query=""
  base=${url%%\?*}
  [ "$base" != "$url" ] && query="?${url#*\?}"
  echo "${base%/*}/$db$query"
}

db_of() { local u=${1%%\?*}; echo "${u##*/}"; }

create_db() { # BIN URL
  local bin=$1 url=$2 db admin
  db=$(db_of "$url")
  admin=$(libpq_url "$(with_db "$url" postgres)")
  if ! "$bin/psql" -q -At "$admin" -c "SELECT 1 FROM pg_database WHERE datname = '$db'" 2>/dev/null | grep -q 1; then
    "$bin/psql" -q "$admin" -c "CREATE DATABASE \"$db\"" >/dev/null 2>&1 || true
  fi
}

start_private() { # BIN -> port
  local bin=$1 dir port
  dir=$(cluster_dir)
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; fi
  chmod 700 "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    log "creating a private cluster in $dir"
    as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  if [ -f "$dir/port" ]; then port=$(cat "$dir/port"); else port=""; fi
  if [ -n "$port" ] && as_pg "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    echo "$port"; return
  fi
  port=$(free_port "${port:-55432}")
  echo "$port" > "$dir/port"
  log "starting the private cluster on 127.0.0.1:$port"
  if ! as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
      start >"$dir/pg_ctl.log" 2>&1; then
    cat "$dir/pg_ctl.log" "$dir/postgres.log" >&2; exit 1
  fi
  echo "$port"
}

cmd=${1:-}
case "$cmd" in
ensure)
  var=${2:?variable name}; url=${3:?url}
  bin=$(find_bin)
  if ! answers "$bin" "$url"; then
    port=$(start_private "$bin")
    db=$(db_of "$url")
    query=""; [ "${url%%\?*}" != "$url" ] && query="?${url#*\?}"
    url="postgres://postgres@127.0.0.1:$port/$db${query:-?sslmode=disable}"
  fi
  create_db "$bin" "$url"
  echo "export $var='$url'"
  ;;
stop)
  bin=$(find_bin); dir=$(cluster_dir)
  if [ -f "$dir/data/PG_VERSION" ]; then as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true; fi
  ;;
status)
  bin=$(find_bin); dir=$(cluster_dir)
  as_pg "$bin/pg_ctl" -D "$dir/data" status
  ;;
*) echo "usage: $0 ensure VAR URL | stop | status" >&2; exit 2;;
esac
