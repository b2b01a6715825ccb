# What the two demos share, sourced from the clone's top folder by
# scripts/demo.sh (SQLite, one server) and scripts/demo-pgsql.sh
# (PostgreSQL, two nodes), which then set RUN: the demo's own folder (keys,
# passwords, each server's configuration and pid file; read by root). A
# server's STATE folder is what its User (www-data) must reach: logs,
# pages, the console. (sh has no local variables: a function's own names
# carry a prefix of its initials.)

REPO=$(pwd)
RUN_USER=www-data
MODDIR=/usr/lib/apache2/modules
ADMIN_BIN=$REPO/admin-cgi/token-admin

die() {
    echo "demo: $*" >&2
    exit 1
}

# FILE made from COMMAND's output unless it is there already: keys and
# passwords are made on the first run, readable by root only, and kept.
make_once() {  # FILE COMMAND...
    if [ ! -s "$1" ]; then
        mo_file=$1
        shift
        umask 077
        "$@" > "$mo_file"
        umask 022
    fi
}

new_ec_key() {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null
}

new_password() {
    openssl rand -base64 18 | tr -d '\n/+='
}

# The issuer's signing key (ES256) in KEY, which httpd reads as root, and
# the console operator's password in OPERATOR_PASSWORD.
demo_secrets() {
    KEY=$RUN/keys/issuer-es256.key.pem
    make_once "$KEY" new_ec_key
    make_once "$RUN/operator-password" new_password
    OPERATOR_PASSWORD=$(cat "$RUN/operator-password")
}

admin() {
    "$ADMIN_BIN" --registry "$REG" --actor demo "$@"
}

# The value of a top-level string member of token-admin's --json output
# (one member a line; client ids and secrets are base64url, no escapes).
json_member() {
    sed -n "s/^  \"$1\": \"\\([^\"]*\\)\",\\{0,1\\}\$/\\1/p"
}

# A scope and the demo's service application in the registry REG,
# registered once; CLIENT_ID and CLIENT_SECRET from $RUN/demo-client.
demo_client() {
    admin scope list | grep -q "orders:read" \
        || admin scope add orders:read --description "read the sample orders" \
               >/dev/null
    dc_file=$RUN/demo-client
    if [ ! -s "$dc_file" ] || ! admin app show "$(head -1 "$dc_file")" \
            >/dev/null 2>&1; then
        # (No python3 here: a fresh Debian has none until the tests need it.)
        dc_existing=$(admin app list | awk '$4 == "demo-client" {print $1}')
        if [ -n "$dc_existing" ]; then
            # Registered by an earlier run whose note of the secret is gone:
            # the secret was shown once, so give the application a new one.
            dc_out=$(admin --json app rotate-secret "$dc_existing")
        else
            dc_out=$(admin --json app add --name demo-client \
                     --description "the demo's service client" \
                     --grant client_credentials,refresh_token \
                     --scope orders:read --audience orders-api \
                     --offline-client-credentials)
        fi
        umask 077
        printf '%s\n' "$dc_out" | json_member client_id > "$dc_file"
        printf '%s\n' "$dc_out" | json_member client_secret >> "$dc_file"
        umask 022
    fi
    CLIENT_ID=$(sed -n 1p "$dc_file")
    CLIENT_SECRET=$(sed -n 2p "$dc_file")
}

# A server's STATE folder: logs, configuration, pages (the caller writes
# them, the sample API's in htdocs/api), and the console as www-data runs
# it: its own copy of the program and templates, and the operator.
server_state() {  # STATE
    mkdir -p "$1/logs" "$1/conf" "$1/htdocs/api" "$1/console/bin"
    chmod 755 "$1" "$1/logs" "$1/conf" "$1/htdocs" "$1/console"
    cp "$ADMIN_BIN" "$1/console/bin/token-admin"
    chmod 755 "$1/console/bin" "$1/console/bin/token-admin"
    rm -rf "$1/console/htdocs"
    cp -r "$REPO/htdocs" "$1/console/htdocs"
    chmod -R a+rX "$1/console/htdocs"
    htpasswd -bcB "$1/conf/operators.htpasswd" operator \
        "$OPERATOR_PASSWORD" >/dev/null 2>&1
    chown "root:$RUN_USER" "$1/conf/operators.htpasswd"
    chmod 640 "$1/conf/operators.htpasswd"
}

# DIR/conf/httpd.conf from demo/httpd.conf.in: root's files in DIR, the
# rest in STATE, on 127.0.0.1:PORT with SCHEME (https keeps the @TLS@
# lines); sed's -e options after these change it further.
render_conf() {  # DIR STATE PORT SCHEME [-e EXPRESSION]...
    rc_dir=$1 rc_state=$2 rc_port=$3 rc_scheme=$4
    shift 4
    if [ "$rc_scheme" = https ]; then
        rc_tls='s/^@TLS@//'
    else
        rc_tls='/^@TLS@/d'
    fi
    sed -e "$rc_tls" -e "s|@RUN@|$rc_dir|g" -e "s|@STATE@|$rc_state|g" \
        -e "s|@REPO@|$REPO|g" -e "s|@PORT@|$rc_port|g" \
        -e "s|@MODDIR@|$MODDIR|g" \
        -e "s|@URL@|$rc_scheme://127.0.0.1:$rc_port|g" \
        -e "s|@PROTO@|$rc_scheme|g" "$@" \
        "$REPO/demo/httpd.conf.in" > "$rc_dir/conf/httpd.conf"
}

# Checks and starts the httpd of DIR, then waits until URL answers (curl's
# options: how to trust its certificate, as every client will).
start_server() {  # NAME DIR STATE URL [CURL-OPTION]...
    ss_name=$1 ss_dir=$2 ss_log=$3/logs/error_log ss_url=$4
    shift 4
    apachectl -d "$ss_dir" -f conf/httpd.conf -t >/dev/null 2>&1 \
        || { apachectl -d "$ss_dir" -f conf/httpd.conf -t;
             die "$ss_name: configuration refused"; }
    apachectl -d "$ss_dir" -f conf/httpd.conf -k start \
        || die "$ss_name did not start; see $ss_log"
    ss_i=0
    until curl -fs "$@" -o /dev/null "$ss_url/"; do
        ss_i=$((ss_i + 1))
        [ $ss_i -lt 100 ] || die "$ss_name does not answer on $ss_url; see $ss_log"
        sleep 0.1
    done
}

# Stops the httpd of DIR whose pid is PID (apachectl, a signal when that
# cannot) and waits up to 15 s for it to go; fails when it stays.
stop_httpd() {  # DIR PID
    if [ -f "$1/conf/httpd.conf" ]; then
        apachectl -d "$1" -f conf/httpd.conf -k stop >/dev/null 2>&1 \
            || kill -TERM "$2" 2>/dev/null || true
    else
        kill -TERM "$2" 2>/dev/null || true
    fi
    sh_i=0
    while kill -0 "$2" 2>/dev/null && [ $sh_i -lt 150 ]; do
        sleep 0.1
        sh_i=$((sh_i + 1))
    done
    ! kill -0 "$2" 2>/dev/null
}
