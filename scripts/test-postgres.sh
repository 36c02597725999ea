#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, on a unix socket only (no TCP port):
#   scripts/test-postgres.sh start   -> prints the database URL
#   scripts/test-postgres.sh stop
set -euo pipefail
dir=${GPURENT_TEST_PG_DIR:-/tmp/gpurent-test-pg}
port=55432
bin=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")
as_postgres() { su postgres -s /bin/sh -c "$*"; }

case "${1:-}" in
start)
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_postgres "$bin/pg_ctl -D $dir/data -m immediate stop" >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    chown postgres "$dir"
    as_postgres "$bin/initdb -D $dir/data -A trust -U postgres" >/dev/null
    as_postgres "$bin/pg_ctl -D $dir/data -l $dir/log -w \
        -o \"-k $dir -p $port -c listen_addresses='' -c fsync=off\" start" >/dev/null
    echo "postgresql://postgres@/postgres?host=$dir&port=$port"
    ;;
stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_postgres "$bin/pg_ctl -D $dir/data -m fast -w stop" >/dev/null || true
    fi
    rm -rf "$dir"
    ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
