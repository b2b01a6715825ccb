#!/bin/sh
# README's demo: on a fresh Debian 12, as root, from a clean clone:
#   scripts/demo.sh          install packages, build, and start httpd on
#                            127.0.0.1:8080 with the issuer, a protected
#                            sample API and the operators' console
#   scripts/demo.sh stop     stop it
# Running it again restarts the server with the same keys, registry,
# application and operator password.
set -eu
cd "$(dirname "$0")/.."
REPO=$(pwd)
RUN=$REPO/demo/run
PORT=${DEMO_PORT:-8080}
URL=http://127.0.0.1:$PORT
RUN_USER=www-data
MODDIR=/usr/lib/apache2/modules

die() {
    echo "demo: $*" >&2
    exit 1
}

stop_server() {
    [ -f "$RUN/httpd.pid" ] || return 0
    pid=$(cat "$RUN/httpd.pid")
    if kill -0 "$pid" 2>/dev/null; then
        apachectl -d "$RUN" -f conf/httpd.conf -k stop >/dev/null 2>&1 || true
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
            sleep 0.1
            i=$((i + 1))
        done
    fi
    rm -f "$RUN/httpd.pid"
}

if [ "${1:-}" = "stop" ]; then
    stop_server
    echo "demo stopped"
    exit 0
fi
[ $# -eq 0 ] || die "usage: scripts/demo.sh [stop]"
[ "$(id -u)" -eq 0 ] || die "run as root (it installs packages and starts httpd)"

scripts/install-deps.sh
scripts/build.sh
stop_server

ADMIN_BIN=$REPO/admin-cgi/token-admin
mkdir -p "$RUN/conf" "$RUN/keys"
chmod 755 "$RUN"

# What the server's User must reach. A clone under /root is not reachable
# by www-data, and opening up /root is not ours to do.
if runuser -u "$RUN_USER" -- test -x "$RUN"; then
    STATE=$RUN
else
    STATE=/var/lib/mod_auth_token-demo
fi
mkdir -p "$STATE/var" "$STATE/logs" "$STATE/conf" "$STATE/htdocs/api" \
         "$STATE/console/bin"
chmod 755 "$STATE" "$STATE/logs" "$STATE/conf" "$STATE/htdocs" \
          "$STATE/console"
chown "$RUN_USER:$RUN_USER" "$STATE/var"
REG=$STATE/var/registry.db

# The console runs as www-data: its own copy of the program and templates.
cp "$ADMIN_BIN" "$STATE/console/bin/token-admin"
chmod 755 "$STATE/console/bin" "$STATE/console/bin/token-admin"
rm -rf "$STATE/console/htdocs"
cp -r "$REPO/htdocs" "$STATE/console/htdocs"
chmod -R a+rX "$STATE/console/htdocs"

# The sample API: one document behind Require token-scope orders:read.
cat > "$STATE/htdocs/api/orders.json" <<'EOF'
{"orders": [{"id": 1, "item": "tea", "qty": 2}, {"id": 2, "item": "scones", "qty": 6}]}
EOF
printf 'mod_auth_token demo: see /api/orders.json, /oauth/*, /admin/\n' \
    > "$STATE/htdocs/index.html"
chmod -R a+rX "$STATE/htdocs"

# The issuer's signing key (ES256), made once; httpd reads it as root.
KEY=$RUN/keys/issuer-es256.key.pem
if [ ! -s "$KEY" ]; then
    umask 077
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -out "$KEY" 2>/dev/null
    umask 022
fi

# The operator of the console, with a password generated once.
PWFILE=$RUN/operator-password
if [ ! -s "$PWFILE" ]; then
    umask 077
    openssl rand -base64 18 | tr -d '\n/+=' > "$PWFILE"
    umask 022
fi
OPERATOR_PASSWORD=$(cat "$PWFILE")
htpasswd -bcB "$STATE/conf/operators.htpasswd" operator \
    "$OPERATOR_PASSWORD" >/dev/null 2>&1
chown "root:$RUN_USER" "$STATE/conf/operators.htpasswd"
chmod 640 "$STATE/conf/operators.htpasswd"

# The value of a top-level string member of token-admin's --json output
# (one member a line; client ids and secrets are base64url, no escapes).
json_member() {
    sed -n "s/^  \"$1\": \"\\([^\"]*\\)\",\\{0,1\\}\$/\\1/p"
}

# The registry, a scope and the demo application, registered once.
CLIENT_FILE=$RUN/demo-client
admin() {
    "$ADMIN_BIN" --registry "$REG" --actor demo "$@"
}
if ! admin scope list | grep -q "orders:read"; then
    admin scope add orders:read --description "read the sample orders" \
        >/dev/null
fi
if [ ! -s "$CLIENT_FILE" ] || ! admin app show "$(head -1 "$CLIENT_FILE")" \
        >/dev/null 2>&1; then
    # (No python3 here: a fresh Debian has none until the tests need it.)
    EXISTING=$(admin app list | awk '$4 == "demo-client" {print $1}')
    if [ -n "$EXISTING" ]; then
        # Registered by an earlier run whose note of the secret is gone:
        # the secret was shown once, so give the application a new one.
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

# A person, a web application and its callback (demo/delegated.sh).
. "$REPO/demo/delegated.sh"
delegated_setup

sed -e "s|@RUN@|$RUN|g" -e "s|@STATE@|$STATE|g" -e "s|@REPO@|$REPO|g" \
    -e "s|@PORT@|$PORT|g" -e "s|@MODDIR@|$MODDIR|g" \
    demo/httpd.conf.in > "$RUN/conf/httpd.conf"
apachectl -d "$RUN" -f conf/httpd.conf -t >/dev/null 2>&1 \
    || { apachectl -d "$RUN" -f conf/httpd.conf -t; die "configuration refused"; }
apachectl -d "$RUN" -f conf/httpd.conf -k start \
    || die "httpd did not start; see $STATE/logs/error_log"
i=0
until curl -fs -o /dev/null "$URL/"; do
    i=$((i + 1))
    [ $i -lt 100 ] || die "httpd does not answer; see $STATE/logs/error_log"
    sleep 0.1
done

cat <<EOF

mod_auth_token demo running on $URL (logs: $STATE/logs/)

Get an access token (client credentials, client_secret_basic):
  TOKEN=\$(curl -s -u '$CLIENT_ID:$CLIENT_SECRET' \\
      -d grant_type=client_credentials -d scope=orders:read \\
      $URL/oauth/token | sed -n 's/.*"access_token":"\\([^"]*\\)".*/\\1/p')

Call the protected API with it:
  curl -i -H "Authorization: Bearer \$TOKEN" $URL/api/orders.json

Without a token: 401 with a Bearer challenge:
  curl -i $URL/api/orders.json

Also: a refresh token with -d 'scope=orders:read offline_access';
  introspection: curl -s -u '$CLIENT_ID:$CLIENT_SECRET' -d token=\$TOKEN $URL/oauth/introspect
  metadata:      curl -s $URL/.well-known/oauth-authorization-server
  public keys:   curl -s $URL/oauth/jwks

Operators' console: $URL/admin/  (user: operator, password: $OPERATOR_PASSWORD)
Stop:             scripts/demo.sh stop
EOF
delegated_banner
