#!/bin/sh
# A private PostgreSQL for the tests and the demo: a cluster made with
# initdb in DIR, its Unix socket in DIR/sock, TCP on 127.0.0.1:PORT only,
# password authentication (scram-sha-256) everywhere, started and stopped
# with pg_ctl. initdb refuses to run as root, so as root the server runs as
# the postgres user (Debian's postgresql package creates it).
#
#   pg-private.sh start DIR PORT   creates (first time) and starts the
#                                  cluster; prints the registry's conninfo
#   pg-private.sh stop DIR         stops it (fast shutdown)
#   pg-private.sh kill DIR         stops it at once (immediate shutdown)
#   pg-private.sh sql DIR SQL      runs SQL as the superuser, prints rows
#   pg-private.sh conninfo DIR     prints the registry's conninfo again
#
# The registry role and database are both "registry"; the role's password
# is random, kept in DIR/registry.pw (mode 0600) and printed in the
# conninfo. The superuser's is in DIR/postgres.pw. Nothing outside DIR is
# touched; remove DIR after stop.
set -e
cmd=$1
dir=$2
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ]; then
    echo "pg-private.sh: PostgreSQL not found: apt-get install postgresql" >&2
    exit 1
fi
[ -n "$dir" ] || { echo "usage: $0 start|stop|kill|sql|conninfo DIR ..." >&2; exit 2; }

# Runs a server binary as the cluster's owner.
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

conninfo() {
    echo "host=$dir/sock port=$(cat "$dir/port") dbname=registry user=registry password=$(cat "$dir/registry.pw")"
}

superuser_sql() {
    PGPASSWORD=$(cat "$dir/postgres.pw") "$bindir/psql" -X -q -A -t \
        -v ON_ERROR_STOP=1 -h "$dir/sock" -p "$(cat "$dir/port")" \
        -U postgres -d postgres -c "$1"
}

case "$cmd" in
start)
    port=$3
    [ -n "$port" ] || { echo "usage: $0 start DIR PORT" >&2; exit 2; }
    mkdir -p "$dir/sock" "$dir/log"
    chmod 755 "$dir" "$dir/sock" "$dir/log"
    [ "$(id -u)" = 0 ] && chown postgres "$dir/sock" "$dir/log"
    echo "$port" > "$dir/port"
    fresh=0
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        fresh=1
        umask 077
        openssl rand -hex 16 > "$dir/postgres.pw"
        openssl rand -hex 16 > "$dir/registry.pw"
        umask 022
        mkdir -p "$dir/data"
        if [ "$(id -u)" = 0 ]; then
            chown postgres "$dir/data"
            cp "$dir/postgres.pw" "$dir/data.pw"
            chown postgres "$dir/data.pw"
        else
            cp "$dir/postgres.pw" "$dir/data.pw"
        fi
        as_owner "$bindir/initdb" -D "$dir/data" -U postgres \
            --pwfile="$dir/data.pw" -A scram-sha-256 -E UTF8 \
            --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; exit 1; }
        rm -f "$dir/data.pw"
    fi
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log/server.log" -w -t 60 \
        -o "-p $port -k $dir/sock -c listen_addresses=127.0.0.1" \
        start >/dev/null
    if [ "$fresh" = 1 ]; then
        superuser_sql "CREATE ROLE registry LOGIN PASSWORD '$(cat "$dir/registry.pw")'"
        superuser_sql "CREATE DATABASE registry OWNER registry ENCODING 'UTF8'"
    fi
    conninfo
    ;;
stop|kill)
    mode=fast
    [ "$cmd" = kill ] && mode=immediate
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -m "$mode" -w -t 60 stop \
            >/dev/null
    fi
    ;;
sql)
    superuser_sql "$3"
    ;;
conninfo)
    conninfo
    ;;
*)
    echo "usage: $0 start|stop|kill|sql|conninfo DIR ..." >&2
    exit 2
    ;;
esac
