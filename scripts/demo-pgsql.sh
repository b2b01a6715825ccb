#!/bin/sh
# The demo on PostgreSQL, as two httpd nodes that are one issuer
# (docs/multi-node.md); called by scripts/demo.sh --pgsql:
#   scripts/demo.sh --pgsql        a private PostgreSQL (its own port and
#                                  socket), node 1 on http://127.0.0.1:8081
#                                  and node 2 on :8082, each with the demo's
#                                  issuer, protected API and console
#   scripts/demo.sh --pgsql stop   stop both nodes and PostgreSQL
# It is scripts/demo.sh's demo (scripts/demo-lib.sh) with the registry on
# PostgreSQL, on plain http on loopback (scripts/demo.sh itself shows
# HTTPS) and without its person and web application. DEMO_PORT
# moves node 1 (node 2 is the next port), DEMO_PG_PORT the database
# (default 54329), DEMO_RUN the state folder (default demo/run-pgsql).
# Running it again keeps the database, the signing key, the application
# and the operator password.
set -eu
cd "$(dirname "$0")/.."
. "$(pwd)/scripts/demo-lib.sh"
RUN=${DEMO_RUN:-$REPO/demo/run-pgsql}
PORT1=${DEMO_PORT:-8081}
PORT2=$((PORT1 + 1))
PG_PORT=${DEMO_PG_PORT:-54329}

# Where www-data (httpd) and postgres (the database) can reach: the demo
# folder, unless it is in a clone they cannot enter (under /root).
state_dir() {
    if runuser -u "$RUN_USER" -- test -x "$RUN" \
       && runuser -u postgres -- test -x "$RUN"; then
        echo "$RUN"
    else
        echo "/var/lib/mod_auth_token-demo-pgsql-$(printf '%s' "$RUN" | md5sum | cut -c1-8)"
    fi
}

stop_all() {
    for n in 1 2; do
        pidfile=$RUN/node$n/httpd.pid
        if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
            stop_httpd "$RUN/node$n" "$(cat "$pidfile")" || true
            echo "demo node $n stopped"
        fi
        rm -f "$pidfile"
    done
    if [ -d "$RUN" ] && [ -f "$(state_dir)/pg/data/postmaster.pid" ]; then
        scripts/pg-private.sh stop "$(state_dir)/pg"
        echo "demo PostgreSQL stopped"
    fi
}

case "${1:-}" in
    stop) stop_all; exit 0 ;;
    '') ;;
    *) echo "usage: scripts/demo.sh --pgsql [stop]" >&2; exit 2 ;;
esac
[ "$(id -u)" -eq 0 ] || die "run as root (it installs packages and starts httpd)"

scripts/install-deps.sh --pgsql
scripts/build.sh
mkdir -p "$RUN/keys"
chmod 755 "$RUN"
stop_all >/dev/null
STATE=$(state_dir)
mkdir -p "$STATE/pg"
chmod 755 "$STATE"

# The database: created once, started on every run.
CONNINFO=$(scripts/pg-private.sh start "$STATE/pg" "$PG_PORT") \
    || die "PostgreSQL did not start; see $STATE/pg/log/server.log"
REG="pgsql:$CONNINFO"

# One signing key, one console key and one operator for both nodes: the
# nodes are one issuer, and a console form from one is good on the other.
demo_secrets
CONSOLE_KEY=$STATE/console.key
make_once "$CONSOLE_KEY" openssl rand 32
chown "$RUN_USER:$RUN_USER" "$CONSOLE_KEY"
chmod 600 "$CONSOLE_KEY"
demo_client

# Each node: a server as scripts/demo.sh makes it, on http, with the
# registry on PostgreSQL (its password in the configuration: root's only),
# node 1's URL as both nodes' issuer name and the shared console key.
ISSUER=http://127.0.0.1:$PORT1
for n in 1 2; do
    port=$(( n == 1 ? PORT1 : PORT2 ))
    nrun=$RUN/node$n
    nstate=$STATE/node$n
    mkdir -p "$nrun/conf" "$nrun/keys"
    chmod 755 "$nrun"
    cp "$KEY" "$nrun/keys/issuer-es256.key.pem"
    server_state "$nstate"
    printf '{"orders": [{"id": 1, "item": "tea", "qty": 2}], "node": %d}\n' \
        "$n" > "$nstate/htdocs/api/orders.json"
    printf 'mod_auth_token demo node %d (PostgreSQL registry)\n' "$n" \
        > "$nstate/htdocs/index.html"
    chmod -R a+rX "$nstate/htdocs"
    render_conf "$nrun" "$nstate" "$port" http \
        -e "s|^AuthTokenRegistry .*|AuthTokenRegistry pgsql \"$CONNINFO\"|" \
        -e "s|^AuthTokenIssuerName .*|AuthTokenIssuerName $ISSUER|" \
        -e "s|^\\( *\\)SetEnv AUTH_TOKEN_REGISTRY .*|\\1SetEnv AUTH_TOKEN_REGISTRY \"$REG\"\\n\\1SetEnv AUTH_TOKEN_CONSOLE_KEY $CONSOLE_KEY|"
    chmod 600 "$nrun/conf/httpd.conf"
    start_server "node $n" "$nrun" "$nstate" "http://127.0.0.1:$port"
done

N1=http://127.0.0.1:$PORT1
N2=http://127.0.0.1:$PORT2
cat <<EOF

mod_auth_token demo on PostgreSQL: two nodes, one issuer ($ISSUER)
  node 1: $N1   node 2: $N2   (logs: $STATE/node1/logs, $STATE/node2/logs)
  PostgreSQL: $STATE/pg (socket in $STATE/pg/sock, port $PG_PORT)

A token from node 1:
  TOKEN=\$(curl -s -u '$CLIENT_ID:$CLIENT_SECRET' \\
      -d grant_type=client_credentials -d scope=orders:read \\
      $N1/oauth/token | sed -n 's/.*"access_token":"\\([^"]*\\)".*/\\1/p')
is good on node 2:
  curl -i -H "Authorization: Bearer \$TOKEN" $N2/api/orders.json
Revoke it on node 2 (RFC 7009), and node 1 refuses it within 2 seconds:
  curl -s -u '$CLIENT_ID:$CLIENT_SECRET' -d token=\$TOKEN $N2/oauth/revoke
  sleep 2; curl -i -H "Authorization: Bearer \$TOKEN" $N1/api/orders.json

The command line on the same registry (its password is in a file):
  $ADMIN_BIN --registry "$(printf '%s' "$REG" | sed "s|password=[^ ]*|password=\\\$(cat $STATE/pg/registry.pw)|")" app list
Operators' console on either node: $N1/admin/ or $N2/admin/
  (user: operator, password: $OPERATOR_PASSWORD)
Stop: ${DEMO_RUN:+DEMO_RUN=$RUN }scripts/demo.sh --pgsql stop
EOF
