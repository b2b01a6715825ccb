#!/bin/sh
# The demo on PostgreSQL, as two httpd nodes that are one issuer
# (docs/multi-node.md); called by scripts/demo.sh --pgsql:
#   scripts/demo.sh --pgsql        a private PostgreSQL (its own port and
#                                  socket), node 1 on http://127.0.0.1:8081
#                                  and node 2 on :8082, each with the demo's
#                                  issuer, protected API and console
#   scripts/demo.sh --pgsql stop   stop both nodes and PostgreSQL
# Plain http on loopback (scripts/demo.sh itself shows HTTPS). DEMO_PORT
# moves node 1 (node 2 is the next port), DEMO_PG_PORT the database
# (default 54329), DEMO_RUN the state folder (default demo/run-pgsql).
# Running it again keeps the database, the signing key, the application
# and the operator password.
set -eu
cd "$(dirname "$0")/.."
REPO=$(pwd)
RUN=${DEMO_RUN:-$REPO/demo/run-pgsql}
PORT1=${DEMO_PORT:-8081}
PORT2=$((PORT1 + 1))
PG_PORT=${DEMO_PG_PORT:-54329}
RUN_USER=www-data
MODDIR=/usr/lib/apache2/modules
ADMIN_BIN=$REPO/admin-cgi/token-admin

die() {
    echo "demo: $*" >&2
    exit 1
}

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
            apachectl -d "$RUN/node$n" -f conf/httpd.conf -k stop \
                >/dev/null 2>&1 || true
            i=0
            while kill -0 "$(cat "$pidfile" 2>/dev/null || echo 0)" \
                  2>/dev/null && [ $i -lt 150 ]; do
                sleep 0.1; i=$((i + 1))
            done
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
KEY=$RUN/keys/issuer-es256.key.pem
if [ ! -s "$KEY" ]; then
    umask 077
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -out "$KEY" 2>/dev/null
    umask 022
fi
CONSOLE_KEY=$STATE/console.key
if [ ! -s "$CONSOLE_KEY" ]; then
    umask 077
    openssl rand 32 > "$CONSOLE_KEY"
    umask 022
fi
chown "$RUN_USER:$RUN_USER" "$CONSOLE_KEY"
chmod 600 "$CONSOLE_KEY"
PWFILE=$RUN/operator-password
if [ ! -s "$PWFILE" ]; then
    umask 077
    openssl rand -base64 18 | tr -d '\n/+=' > "$PWFILE"
    umask 022
fi
OPERATOR_PASSWORD=$(cat "$PWFILE")

admin() {
    "$ADMIN_BIN" --registry "$REG" --actor demo "$@"
}
json_member() {
    sed -n "s/^  \"$1\": \"\\([^\"]*\\)\",\\{0,1\\}\$/\\1/p"
}
admin scope list | grep -q "orders:read" \
    || admin scope add orders:read --description "read the sample orders" \
           >/dev/null
CLIENT_FILE=$RUN/demo-client
if [ ! -s "$CLIENT_FILE" ] || ! admin app show "$(head -1 "$CLIENT_FILE")" \
        >/dev/null 2>&1; then
    EXISTING=$(admin app list | awk '$4 == "demo-client" {print $1}')
    if [ -n "$EXISTING" ]; then
        OUT=$(admin --json app rotate-secret "$EXISTING")
    else
        OUT=$(admin --json app add --name demo-client \
              --description "the demo's service client" \
              --grant client_credentials,refresh_token --scope orders:read \
              --audience orders-api --offline-client-credentials)
    fi
    umask 077
    printf '%s\n' "$OUT" | json_member client_id > "$CLIENT_FILE"
    printf '%s\n' "$OUT" | json_member client_secret >> "$CLIENT_FILE"
    umask 022
fi
CLIENT_ID=$(sed -n 1p "$CLIENT_FILE")
CLIENT_SECRET=$(sed -n 2p "$CLIENT_FILE")

# Each node: demo/httpd.conf.in as scripts/demo.sh renders it for http,
# with the registry on PostgreSQL and node 1's URL as both nodes' issuer
# name.
ISSUER=http://127.0.0.1:$PORT1
for n in 1 2; do
    port=$(( n == 1 ? PORT1 : PORT2 ))
    nrun=$RUN/node$n
    nstate=$STATE/node$n
    mkdir -p "$nrun/conf" "$nrun/keys" "$nstate/logs" "$nstate/conf" \
             "$nstate/htdocs/api" "$nstate/console/bin"
    chmod 755 "$nrun" "$nstate" "$nstate/logs" "$nstate/conf" \
              "$nstate/htdocs" "$nstate/console"
    cp "$KEY" "$nrun/keys/issuer-es256.key.pem"
    cp "$ADMIN_BIN" "$nstate/console/bin/token-admin"
    chmod 755 "$nstate/console/bin" "$nstate/console/bin/token-admin"
    rm -rf "$nstate/console/htdocs"
    cp -r "$REPO/htdocs" "$nstate/console/htdocs"
    printf '{"orders": [{"id": 1, "item": "tea", "qty": 2}], "node": %d}\n' \
        "$n" > "$nstate/htdocs/api/orders.json"
    printf 'mod_auth_token demo node %d (PostgreSQL registry)\n' "$n" \
        > "$nstate/htdocs/index.html"
    chmod -R a+rX "$nstate/htdocs" "$nstate/console/htdocs"
    htpasswd -bcB "$nstate/conf/operators.htpasswd" operator \
        "$OPERATOR_PASSWORD" >/dev/null 2>&1
    chown "root:$RUN_USER" "$nstate/conf/operators.htpasswd"
    chmod 640 "$nstate/conf/operators.htpasswd"
    sed -e '/^@TLS@/d' -e "s|@RUN@|$nrun|g" -e "s|@STATE@|$nstate|g" \
        -e "s|@REPO@|$REPO|g" -e "s|@PORT@|$port|g" \
        -e "s|@MODDIR@|$MODDIR|g" -e "s|@URL@|http://127.0.0.1:$port|g" \
        -e "s|@PROTO@|http|g" \
        -e "s|^AuthTokenRegistry .*|AuthTokenRegistry pgsql \"$CONNINFO\"|" \
        -e "s|^AuthTokenIssuerName .*|AuthTokenIssuerName $ISSUER|" \
        -e "s|^\\( *\\)SetEnv AUTH_TOKEN_REGISTRY .*|\\1SetEnv AUTH_TOKEN_REGISTRY \"$REG\"\\n\\1SetEnv AUTH_TOKEN_CONSOLE_KEY $CONSOLE_KEY|" \
        demo/httpd.conf.in > "$nrun/conf/httpd.conf"
    chmod 600 "$nrun/conf/httpd.conf"
    apachectl -d "$nrun" -f conf/httpd.conf -t >/dev/null 2>&1 \
        || { apachectl -d "$nrun" -f conf/httpd.conf -t; die "node $n: configuration refused"; }
    apachectl -d "$nrun" -f conf/httpd.conf -k start \
        || die "node $n did not start; see $nstate/logs/error_log"
    i=0
    until curl -fs -o /dev/null "http://127.0.0.1:$port/"; do
        i=$((i + 1))
        [ $i -lt 100 ] || die "node $n does not answer; see $nstate/logs/error_log"
        sleep 0.1
    done
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
