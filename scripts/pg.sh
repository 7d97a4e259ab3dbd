#!/usr/bin/env bash
# Start or stop a throwaway local PostgreSQL server bound to 127.0.0.1, for users and tests.
#
#   bash scripts/pg.sh start [DIR] [PORT] [MAX_CONNECTIONS]   # prints the storage URL to use
#   bash scripts/pg.sh restart [DIR] [PORT]
#   bash scripts/pg.sh stop  [DIR]
#
# Needs the PostgreSQL server binaries (Debian: apt-get install -y postgresql). Runs the server
# as the 'postgres' user when started as root. Data live in DIR (default: ./.pgdata).
set -euo pipefail
cmd="${1:-}"
dir="$(realpath -m "${2:-.pgdata}")"
port="${3:-55432}"
maxconn="${4:-100}"  # PostgreSQL's default; many workers need more (each keeps 2-3 connections)
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
if [ -z "$bin" ]; then
    echo "scripts/pg.sh: PostgreSQL server binaries not found (apt-get install -y postgresql)" >&2
    exit 1
fi
as_pg() {
    if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}
case "$cmd" in
start)
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; fi
    chmod 700 "$dir"
    if [ ! -f "$dir/PG_VERSION" ]; then
        as_pg "'$bin/initdb' -D '$dir' -U postgres --auth=trust" >/dev/null
    fi
    if ! as_pg "'$bin/pg_ctl' -D '$dir' status" >/dev/null 2>&1; then
        as_pg "'$bin/pg_ctl' -D '$dir' -l '$dir/server.log' -o \"-c listen_addresses=127.0.0.1 -p $port -k '$dir' -c max_connections=$maxconn\" -w start" >/dev/null
    fi
    as_pg "'$bin/psql' -h 127.0.0.1 -p $port -U postgres -tAc \"SELECT 1 FROM pg_database WHERE datname='autotune'\"" | grep -q 1 \
        || as_pg "'$bin/createdb' -h 127.0.0.1 -p $port -U postgres autotune"
    echo "postgresql+psycopg://postgres@127.0.0.1:$port/autotune"
    ;;
restart)  # cuts every connection, as a crash or an upgrade would; the server is back when this returns
    as_pg "'$bin/pg_ctl' -D '$dir' -l '$dir/server.log' -o \"-c listen_addresses=127.0.0.1 -p $port -k '$dir'\" -m fast -w restart" >/dev/null
    echo "restarted PostgreSQL in $dir"
    ;;
stop)
    as_pg "'$bin/pg_ctl' -D '$dir' -m fast -w stop" >/dev/null
    echo "stopped PostgreSQL in $dir"
    ;;
*)
    echo "usage: bash scripts/pg.sh start|restart|stop [DIR] [PORT]" >&2
    exit 2
    ;;
esac
