#!/bin/sh
# README's demo: on a fresh Debian 12, as root, from a clean clone:
#   scripts/demo.sh          install packages, build, and start httpd on
#                            https://127.0.0.1:8080/ with the issuer, a
#                            protected sample API and the operators' console;
#                            the certificate comes from a local CA made once
#   scripts/demo.sh --http   the same on plain http (curl works; OAuth
#                            client libraries refuse http)
#   scripts/demo.sh stop     stop it, and say whether it was running
# Running it again restarts the server with the same keys, CA, registry,
# application and operator password. DEMO_PORT (default 8080) and DEMO_RUN
# (the demo's state folder, default demo/run) let a second demo run beside
# the first (the tests start one that way).
set -eu
cd "$(dirname "$0")/.."
. "$(pwd)/scripts/demo-lib.sh"
RUN=${DEMO_RUN:-$REPO/demo/run}
PORT=${DEMO_PORT:-8080}

usage() {
    echo "usage: scripts/demo.sh [--http] | scripts/demo.sh stop" >&2
    exit 2
}

# Stops the demo's httpd and says what happened; with "quiet", says
# nothing when there was nothing to stop. Fails when httpd stays up.
stop_server() {
    pidfile=$RUN/httpd.pid
    if [ ! -f "$pidfile" ]; then
        [ "${1:-}" = quiet ] || echo "demo was not running ($RUN has no httpd.pid)"
        return 0
    fi
    pid=$(cat "$pidfile")
    case $pid in
        '' | *[!0-9]*)
            rm -f "$pidfile"
            echo "demo was not running (removed an unreadable pid file)"
            return 0 ;;
    esac
    # A pid that is gone, or now belongs to another program, is stale.
    if ! kill -0 "$pid" 2>/dev/null \
       || ! tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null \
            | grep -Eq 'apache2|httpd'; then
        rm -f "$pidfile"
        echo "demo was not running (removed the stale pid file of process $pid)"
        return 0
    fi
    if ! stop_httpd "$RUN" "$pid"; then
        echo "demo: httpd (pid $pid) did not stop within 15 s; see its error_log" >&2
        return 1
    fi
    rm -f "$pidfile"
    echo "demo stopped (httpd pid $pid on port $(sed -n 's/^Listen 127.0.0.1:\([0-9]*\).*/\1/p' "$RUN/conf/httpd.conf" 2>/dev/null))"
}

SCHEME=https
[ "${1:-}" != --pgsql ] || { shift; exec scripts/demo-pgsql.sh "$@"; }
case "${1:-}" in
    stop)
        [ $# -eq 1 ] || usage
        stop_server
        exit $? ;;
    --http)
        [ $# -eq 1 ] || usage
        SCHEME=http ;;
    '') ;;
    *) usage ;;
esac
[ "$(id -u)" -eq 0 ] || die "run as root (it installs packages and starts httpd)"
URL=$SCHEME://127.0.0.1:$PORT
STOP="scripts/demo.sh stop"
# (the folder quoted for the shell, so the line can be copied as it is)
[ -z "${DEMO_RUN:-}" ] || STOP="DEMO_RUN='$(printf '%s' "$RUN" | sed "s/'/'\\\\''/g")' $STOP"

scripts/install-deps.sh
scripts/build.sh
stop_server quiet

mkdir -p "$RUN/conf" "$RUN/keys"
chmod 755 "$RUN"
demo_secrets

# What the server's User must reach. A clone under /root is not reachable
# by www-data, and opening up /root is not ours to do; a second demo
# (DEMO_RUN) gets a folder of its own.
if runuser -u "$RUN_USER" -- test -x "$RUN"; then
    STATE=$RUN
elif [ -z "${DEMO_RUN:-}" ]; then
    STATE=/var/lib/mod_auth_token-demo
else
    STATE=/var/lib/mod_auth_token-demo-$(printf '%s' "$RUN" | md5sum | cut -c1-8)
fi
server_state "$STATE"
mkdir -p "$STATE/var"
chown "$RUN_USER:$RUN_USER" "$STATE/var"
REG=$STATE/var/registry.db

# The sample API: one document behind Require token-scope orders:read.
cat > "$STATE/htdocs/api/orders.json" <<'EOF'
{"orders": [{"id": 1, "item": "tea", "qty": 2}, {"id": 2, "item": "scones", "qty": 6}]}
EOF
printf 'mod_auth_token demo: see /api/orders.json, /oauth/*, /admin/\n' \
    > "$STATE/htdocs/index.html"
chmod -R a+rX "$STATE/htdocs"

# HTTPS: a local CA and a server certificate for 127.0.0.1 and localhost,
# made once and kept in $RUN/tls (keys readable by root only: httpd loads
# them before it drops privileges). The server certificate is renewed when
# it has less than a day left; a new CA means a new server certificate.
make_tls() {
    TLS=$RUN/tls
    mkdir -p "$TLS"
    chmod 700 "$TLS"
    umask 077
    if [ ! -s "$TLS/ca.key" ] || [ ! -s "$TLS/ca.pem" ]; then
        cat > "$TLS/ca.cnf" <<'EOF'
[req]
prompt = no
distinguished_name = dn
x509_extensions = ext
[dn]
CN = mod_auth_token demo CA
[ext]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
        new_ec_key > "$TLS/ca.key"
        openssl req -x509 -new -config "$TLS/ca.cnf" -key "$TLS/ca.key" \
            -sha256 -days 3650 -out "$TLS/ca.pem" 2>/dev/null
        rm -f "$TLS/server.pem"
    fi
    if [ ! -s "$TLS/server.pem" ] || [ ! -s "$TLS/server.key" ] \
       || ! openssl x509 -checkend 86400 -noout -in "$TLS/server.pem" \
            >/dev/null 2>&1; then
        cat > "$TLS/server.cnf" <<'EOF'
[req]
prompt = no
distinguished_name = dn
[dn]
CN = 127.0.0.1
[ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
        new_ec_key > "$TLS/server.key"
        openssl req -new -config "$TLS/server.cnf" -key "$TLS/server.key" \
            -out "$TLS/server.csr" 2>/dev/null
        openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.pem" \
            -CAkey "$TLS/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
            -days 397 -sha256 -extfile "$TLS/server.cnf" -extensions ext \
            -out "$TLS/server.pem" 2>/dev/null
        rm -f "$TLS/server.csr"
    fi
    umask 022
    # The CA certificate (public) where every user can read it.
    CA=$STATE/ca.pem
    cp "$TLS/ca.pem" "$CA"
    chmod 644 "$CA"
}
CA=
if [ "$SCHEME" = https ]; then
    make_tls || die "could not make the demo's certificates in $RUN/tls"
fi

# The registry, a scope and the demo application, registered once.
demo_client

# A person, a web application and its callback (demo/delegated.sh).
. "$REPO/demo/delegated.sh"
delegated_setup

render_conf "$RUN" "$STATE" "$PORT" "$SCHEME"
start_server httpd "$RUN" "$STATE" "$URL" ${CA:+--cacert "$CA"}
# What the printed commands add to curl.
CURL_CA=${CA:+--cacert $CA}

cat <<EOF

mod_auth_token demo running on $URL (logs: $STATE/logs/)
EOF
if [ -n "$CA" ]; then
    cat <<EOF

Its certificate is signed by the demo's own CA (made once, in $RUN/tls):
  $CA
Trust that CA and keep certificate checks on:
  curl --cacert $CA ...
  export REQUESTS_CA_BUNDLE=$CA    # Python: requests, requests-oauthlib, authlib
  export NODE_EXTRA_CA_CERTS=$CA   # Node.js: openid-client, fetch
EOF
fi
cat <<EOF

Get an access token (client credentials, client_secret_basic):
  TOKEN=\$(curl -s $CURL_CA -u '$CLIENT_ID:$CLIENT_SECRET' \\
      -d grant_type=client_credentials -d scope=orders:read \\
      $URL/oauth/token | sed -n 's/.*"access_token":"\\([^"]*\\)".*/\\1/p')

Call the protected API with it:
  curl -i $CURL_CA -H "Authorization: Bearer \$TOKEN" $URL/api/orders.json

Without a token: 401 with a Bearer challenge:
  curl -i $CURL_CA $URL/api/orders.json

Also: a refresh token with -d 'scope=orders:read offline_access';
  introspection: curl -s $CURL_CA -u '$CLIENT_ID:$CLIENT_SECRET' -d token=\$TOKEN $URL/oauth/introspect
  metadata:      curl -s $CURL_CA $URL/.well-known/oauth-authorization-server
  public keys:   curl -s $CURL_CA $URL/oauth/jwks

Operators' console: $URL/admin/  (user: operator, password: $OPERATOR_PASSWORD)
Stop:             $STOP
EOF
delegated_banner
