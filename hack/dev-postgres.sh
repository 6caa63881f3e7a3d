#!/usr/bin/env bash
# dev-postgres.sh install|start|stop|status|psql [psql args...]
#
# A throw-away Postgres for `make run`, in the project-local directory .dev/postgres (git-ignored):
# wal_level=logical, 127.0.0.1:54329, trust auth, superuser postgres (password "postgres"),
# log in .dev/postgres.log. The server binaries come from /usr/lib/postgresql/*/bin; when there are
# none, `install` (and `start`) run `apt-get update && apt-get install -y postgresql`.
# Idempotent: start on a running server and stop on a stopped one do nothing. As root the server
# runs as the `postgres` OS user (Postgres refuses to run as root), which then owns the data dir.
#
# Environment: DEV_PG_PORT (54329), DEV_PG_DIR (<repo>/.dev/postgres), PG_BIN (server bin dir).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT="${DEV_PG_PORT:-54329}"
DATA="${DEV_PG_DIR:-$ROOT/.dev/postgres}"
LOG="$(dirname "$DATA")/postgres.log"
export LC_ALL=C

log() { echo "dev-postgres: $*" >&2; }
die() { log "$*"; exit 1; }

# find_bin prints the newest server bin dir, or nothing.
find_bin() {
  if [[ -n "${PG_BIN:-}" ]]; then echo "$PG_BIN"; return; fi
  local d best="" bestv=0 v
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x "$d/postgres" ]] || continue
    v="$(basename "$(dirname "$d")")"
    [[ "$v" =~ ^[0-9]+$ ]] || continue
    if (( v > bestv )); then best="$d"; bestv="$v"; fi
  done
  echo "$best"
}

install_pg() {
  [[ -n "$(find_bin)" ]] && return 0
  local sudo=()
  if [[ $EUID -ne 0 ]]; then
    command -v sudo >/dev/null || die "no Postgres server found and not root (install the postgresql package)"
    sudo=(sudo)
  fi
  log "no Postgres server under /usr/lib/postgresql/*/bin; installing it with apt"
  "${sudo[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y postgresql
  [[ -n "$(find_bin)" ]] || die "apt installed postgresql but no server binary was found"
}

# as_pg runs a command as the user that owns the server (postgres when we are root).
as_pg() {
  if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

running() { [[ -f "$DATA/PG_VERSION" ]] && as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

init_cluster() {
  [[ -f "$DATA/PG_VERSION" ]] && return 0
  mkdir -p "$DATA"
  chmod 700 "$DATA"
  touch "$LOG"
  if [[ $EUID -eq 0 ]]; then
    chown postgres:postgres "$DATA" "$LOG"
    runuser -u postgres -- test -x "$DATA" ||
      die "the postgres user cannot reach $DATA (a parent directory is not traversable); set DEV_PG_DIR"
  fi
  local pw
  pw="$(mktemp)"
  echo postgres >"$pw"
  chmod 644 "$pw"
  log "initdb in $DATA"
  as_pg "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --pwfile="$pw" \
    --encoding=UTF8 --locale=C >>"$LOG" 2>&1 || { rm -f "$pw"; die "initdb failed; see $LOG"; }
  rm -f "$pw"
  # No Unix socket: the project path may be too long for one, and clients use TCP anyway.
  cat >>"$DATA/postgresql.conf" <<CONF

# dev-postgres.sh
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = ''
wal_level = logical
max_replication_slots = 20
max_wal_senders = 20
max_connections = 200
CONF
}

start() {
  install_pg
  BIN="$(find_bin)"
  init_cluster
  if running; then
    log "already running on 127.0.0.1:$PORT ($DATA)"
    return 0
  fi
  as_pg "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null ||
    die "start failed; last lines of $LOG:$(echo; tail -n 20 "$LOG")"
  log "running on 127.0.0.1:$PORT (wal_level=logical, user postgres, password postgres; log $LOG)"
}

stop() {
  BIN="$(find_bin)"
  if [[ -z "$BIN" ]] || ! running; then
    log "not running"
    return 0
  fi
  as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
  log "stopped"
}

status() {
  BIN="$(find_bin)"
  if [[ -n "$BIN" ]] && running; then
    echo "running on 127.0.0.1:$PORT ($DATA)"
  else
    echo "not running"
    return 3
  fi
}

psql_() {
  BIN="$(find_bin)"
  [[ -n "$BIN" ]] || die "no Postgres installed; run: $0 start"
  PGPASSWORD=postgres exec "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres "$@"
}

case "${1:-}" in
  install) install_pg ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  psql) shift; psql_ "$@" ;;
  *) echo "usage: $0 install|start|stop|status|psql [args]" >&2; exit 2 ;;
esac
