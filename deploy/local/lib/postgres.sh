#!/usr/bin/env bash
# Runs a PostgreSQL server (Debian's postgresql package) of our own in a directory of our own.
#   postgres.sh start --dir D --port P [--owner-pid PID]
#       initdb D/data once (user "pep", trust on the local socket and 127.0.0.1 only), start it
#       on 127.0.0.1:P with its socket in D, wait until it answers; D/data/postmaster.pid holds
#       its pid. With --owner-pid, a watchdog stops it when that process is gone (tests).
#   postgres.sh createdb --dir D --port P NAME       a database (no-op if it exists)
#   postgres.sh stop --dir D                         fast shutdown of the server in D/data
# The server runs as the "postgres" system user when started by root (initdb refuses root).
# Used by the test harness (free ports, temp dirs), tests/bench/replicas_bench.sh and
# deploy/local/up --postgres.
set -euo pipefail

bindir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    if [[ -x "$d/pg_ctl" ]]; then echo "$d"; return 0; fi
  done
  echo "postgres.sh: no PostgreSQL server (apt-get install postgresql)" >&2
  exit 1
}
BIN="$(bindir)"

DIR=""; PORT=5432; OWNER=""; ARGS=()
while (($#)); do
  case "$1" in
    --dir) DIR="$2"; shift 2 ;;
    --port) PORT="$2"; shift 2 ;;
    --owner-pid) OWNER="$2"; shift 2 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
CMD="${ARGS[0]:-}"
[[ -n "$DIR" ]] || { echo "postgres.sh: --dir is required" >&2; exit 2; }
DIR="$(mkdir -p "$DIR" && cd "$DIR" && pwd)"

as_server_user() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start() {
  if [[ $(id -u) -eq 0 ]]; then chown postgres "$DIR"; fi
  # Already running from this directory (a second `up`): nothing to do.
  if [[ -f "$DIR/data/postmaster.pid" ]] && as_server_user "$BIN/pg_ctl" -D "$DIR/data" status > /dev/null 2>&1; then
    return 0
  fi
  if [[ ! -f "$DIR/data/PG_VERSION" ]]; then
    as_server_user "$BIN/initdb" -D "$DIR/data" -U pep --auth=trust -E UTF8 --locale=C.UTF-8 \
      > "$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; exit 1; }
  fi
  # fsync on and full_page_writes on (the defaults, stated): a commit is durable when acked.
  as_server_user "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 start \
    -o "-p $PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$DIR -c fsync=on \
        -c full_page_writes=on -c synchronous_commit=on -c max_connections=200" >&2 \
    || { tail -20 "$DIR/server.log" >&2; exit 1; }
  if [[ -n "$OWNER" ]]; then
    local pid; pid="$(head -1 "$DIR/data/postmaster.pid")"
    # A test that dies without cleaning up must not leave its server behind (SIGINT: fast stop).
    nohup bash -c "while kill -0 $OWNER 2>/dev/null && kill -0 $pid 2>/dev/null; do sleep 1; done; \
      kill -INT $pid 2>/dev/null" > /dev/null 2>&1 < /dev/null &
  fi
}

createdb() {
  local name="${ARGS[1]:?database name}"
  if ! "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U pep -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1; then
    "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U pep "$name"
  fi
}

stop() {
  [[ -f "$DIR/data/postmaster.pid" ]] || return 0
  as_server_user "$BIN/pg_ctl" -D "$DIR/data" -m fast -w -t 60 stop >&2 || true
}

case "$CMD" in
  start) start ;;
  createdb) createdb ;;
  stop) stop ;;
  *) echo "usage: postgres.sh start|createdb|stop --dir D [--port P] [--owner-pid PID]" >&2; exit 2 ;;
esac
