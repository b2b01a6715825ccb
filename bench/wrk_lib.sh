# What the wrk benchmarks of the issuer share (sourced from the clone's top
# folder, after any of DURATION, REPS, CONNECTIONS, PORT and RUN_USER the
# script fixes itself): the prerequisites, the server's folder and
# configuration, starting and stopping it, the registry's application and
# tokens, measured runs with the server's CPU time, medians, perf's share
# of a function. (sh has no local variables: a function's own names carry
# a prefix of its initials.)

REPO=$(pwd)
DURATION=${DURATION:-5}
REPS=${REPS:-3}
CONNECTIONS=${CONNECTIONS:-32}
RUN_USER=${RUN_USER:-www-data}
MODDIR=${MODDIR:-/usr/lib/apache2/modules}
MODULE=$REPO/mod_auth_token/mod_auth_token.so
ADMIN=$REPO/admin-cgi/token-admin

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
PORT=${PORT:-$(free_port)}
URL=http://127.0.0.1:$PORT

# The build, wrk and two CPUs (httpd on CPU 0, wrk on CPU 1).
for f in "$MODULE" "$ADMIN"; do
    [ -f "$f" ] || { echo "missing $f: run scripts/build.sh" >&2; exit 1; }
done
command -v wrk >/dev/null || { echo "wrk is not installed" >&2; exit 1; }
[ "$(nproc)" -ge 2 ] || { echo "needs two CPUs (httpd on 0, wrk on 1)" >&2; exit 1; }

# ROOT, the server's folder, removed on exit (cleanup; a script may
# redefine it): conf, logs, htdocs, keys with an ES256 signing key, var for
# the registry (the server's User writes there), lua for wrk's scripts.
# htdocs/static.txt is a small file, and the same file is data.txt in each
# FOLDER of htdocs named, so that only the token work differs.
bench_root() {  # NAME [FOLDER]...
    ROOT=$(mktemp -d "/tmp/at-bench-$1.XXXXXX")
    chmod 755 "$ROOT"
    mkdir -p "$ROOT/conf" "$ROOT/logs" "$ROOT/htdocs" "$ROOT/keys" \
             "$ROOT/var" "$ROOT/lua"
    chown "$RUN_USER:" "$ROOT/var"
    trap cleanup EXIT INT TERM
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -out "$ROOT/keys/es256.pem" 2>/dev/null
    chmod 644 "$ROOT/keys/es256.pem"
    shift
    printf 'hello from the benchmark\n' > "$ROOT/htdocs/static.txt"
    for br_dir in "$@"; do
        mkdir -p "$ROOT/htdocs/$br_dir"
        cp "$ROOT/htdocs/static.txt" "$ROOT/htdocs/$br_dir/data.txt"
    done
}

cleanup() {
    stop_httpd
    rm -rf "$ROOT"
}

# The first lines of conf/httpd.conf: one process of HTTPD_THREADS (32)
# threads on one core, so that every worker shares the per-process caches
# and registry connections, as on a real server; then the modules named as
# arguments (mpm_event, authn_core, authz_core and mime always).
httpd_conf_head() {
    cat <<EOF
ServerRoot "$ROOT"
ServerName 127.0.0.1
Listen 127.0.0.1:$PORT
PidFile "$ROOT/logs/httpd.pid"
ErrorLog "$ROOT/logs/error_log"
LogLevel warn
User $RUN_USER
Group $RUN_USER
DocumentRoot "$ROOT/htdocs"
Mutex file:$ROOT/logs
DefaultRuntimeDir "$ROOT/logs"
StartServers 1
ServerLimit 1
ThreadsPerChild ${HTTPD_THREADS:-32}
MaxRequestWorkers ${HTTPD_THREADS:-32}
KeepAliveTimeout 30
MaxKeepAliveRequests 0
TypesConfig /etc/mime.types
<Directory />
    AllowOverride None
</Directory>
<Directory "$ROOT/htdocs">
    Require all granted
</Directory>
EOF
    for m in mpm_event authn_core authz_core mime "$@"; do
        echo "LoadModule ${m}_module $MODDIR/mod_$m.so"
    done
}

# The module as the issuer: AuthTokenRegistry's arguments as given (quoted
# as the directive wants them), ES256 signing, and a Location for each
# endpoint named (token: /oauth/token with the oauth-token handler).
issuer_conf() {  # REGISTRY-ARGUMENTS ENDPOINT...
    cat <<EOF
LoadModule auth_token_module "$MODULE"
AuthTokenRegistry $1
AuthTokenIssuerName $URL
AuthTokenSigningKey ES256 "$ROOT/keys/es256.pem"
EOF
    shift
    for ic_name in "$@"; do
        printf '<Location /oauth/%s>\n    SetHandler oauth-%s\n</Location>\n' \
            "$ic_name" "$ic_name"
    done
}

# Two protected folders for the issuer's own tokens: /plain, and /api with
# AuthTokenRevocationCheck On.
bearer_conf() {
    cat <<EOF
<Location /api>
    AuthType Bearer
    AuthName "bench"
    AuthTokenVerifyLocal On
    AuthTokenRevocationCheck On
    Require valid-user
</Location>
<Location /plain>
    AuthType Bearer
    AuthName "bench"
    AuthTokenVerifyLocal On
    Require valid-user
</Location>
EOF
}

stop_httpd() {
    if [ -f "$ROOT/logs/httpd.pid" ]; then
        pid=$(cat "$ROOT/logs/httpd.pid")
        apachectl -d "$ROOT" -f conf/httpd.conf -k stop >/dev/null 2>&1 || true
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
            sleep 0.1; i=$((i + 1))
        done
    fi
}

# Starts httpd on CPU 0 and waits until PATH answers.
start_httpd() {
    taskset -c 0 apachectl -d "$ROOT" -f conf/httpd.conf -k start
    i=0
    until curl -fs -o /dev/null "http://127.0.0.1:$PORT$1"; do
        i=$((i + 1)); [ $i -lt 100 ] || { cat "$ROOT/logs/error_log" >&2; exit 1; }
        sleep 0.1
    done
}

# The scope "read" and an application with it (app add's OPTIONs) in the
# registry SPEC; prints its client_id and client_secret (none: public).
register_app() {  # SPEC OPTION...
    ra_spec=$1
    shift
    "$ADMIN" --registry "$ra_spec" scope add read --description bench >/dev/null
    "$ADMIN" --registry "$ra_spec" --json app add --scope read "$@" \
        | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["client_id"], d["client_secret"] or "")'
}

json_field() {  # FIELD < JSON
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# The token endpoint's answer to a client_credentials grant for ID:SECRET.
cc_grant() {  # ID SECRET [CURL-OPTION]...
    cg_user=$1:$2
    shift 2
    curl -fs -u "$cg_user" -d grant_type=client_credentials "$@" \
        "$URL/oauth/token"
}

# The jti claim of an access token (a JWT).
token_jti() {  # TOKEN
    printf '%s' "$1" | /usr/bin/python3 -c '
import base64,json,sys
p=sys.stdin.read().split(".")[1]; print(json.loads(base64.urlsafe_b64decode(p+"="*(-len(p)%4)))["jti"])'
}

# $ROOT/lua/NAME.lua, wrk's request: a form POST of BODY, authenticated by
# client_secret_basic as ID:SECRET.
post_lua() {  # NAME BODY ID:SECRET
    cat > "$ROOT/lua/$1.lua" <<EOF
wrk.method = "POST"
wrk.body = "$2"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $(printf '%s' "$3" | base64 -w0)"
EOF
}

# CPU time (user + system, clock ticks) the processes PID... used so far.
HZ=$(getconf CLK_TCK)
pid_ticks() {  # PID...
    pt_t=0
    for pt_pid in "$@"; do
        pt_t=$((pt_t + $(awk '{print $14 + $15}' "/proc/$pt_pid/stat" 2>/dev/null || echo 0)))
    done
    echo $pt_t
}

# The httpd children's: per request it measures the work itself, whatever
# else CPU 0 is doing.
httpd_ticks() {
    pid_ticks $(pgrep -P "$(cat "$ROOT/logs/httpd.pid")")
}

# The server's CPU time that a measured run counts (a script may redefine
# it: wrk_registry.sh adds PostgreSQL's).
server_ticks() {
    httpd_ticks
}

# record NAME WRK_OUTPUT TICKS_BEFORE TICKS_AFTER: requests/s appended to
# $ROOT/NAME.txt, server CPU microseconds per request to $ROOT/NAME.cpu; a
# non-2xx/3xx answer fails the run (a fast error is not a result).
record() {
    if printf '%s' "$2" | grep -q "Non-2xx"; then
        printf '%s\n' "$2" >&2
        echo "$1: non-2xx answers" >&2
        exit 1
    fi
    printf '%s' "$2" | awk '/Requests\/sec/ {print $2}' >> "$ROOT/$1.txt"
    printf '%s' "$2" | awk -v t=$(($4 - $3)) -v hz="$HZ" \
        '/requests in/ {printf "%.2f\n", t / hz * 1e6 / $1}' >> "$ROOT/$1.cpu"
}

# One wrk run of SECONDS on CPU 1 (-t2, CONNECTIONS), recorded as NAME.
measure() {  # NAME SECONDS WRK-ARGUMENT...
    m_name=$1 m_secs=$2
    shift 2
    m_before=$(server_ticks)
    m_out=$(taskset -c 1 timeout $((m_secs + 30)) \
            wrk -t2 -c"$CONNECTIONS" -d"${m_secs}s" "$@")
    record "$m_name" "$m_out" "$m_before" "$(server_ticks)"
}

# A second's warm-up (every thread gets its connections), then a measured
# run of DURATION on PATH.
rate() {  # NAME PATH [WRK-OPTION]...
    r_name=$1 r_path=$2
    shift 2
    taskset -c 1 timeout 30 wrk -t2 -c"$CONNECTIONS" -d1s "$@" "$URL$r_path" \
        >/dev/null
    measure "$r_name" "$DURATION" "$@" "$URL$r_path"
}

median() {
    sort -n "$ROOT/$1" | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'
}

# The share (%) of the httpd children's CPU time in SYMBOL and what it
# calls, sampled with perf (call graphs by DWARF unwinding: the module has
# no frame pointers) during a run of wrk on WRK-ARGUMENTs after a second's
# warm-up. Empty when perf is missing or not allowed.
perf_share() {  # SYMBOL WRK-ARGUMENT...
    command -v perf >/dev/null 2>&1 \
        && perf stat -e task-clock true >/dev/null 2>&1 || return 0
    ps_symbol=$1
    shift
    taskset -c 1 timeout 30 wrk -t2 -c"$CONNECTIONS" -d1s "$@" >/dev/null
    perf record -q -F 4999 --call-graph dwarf,8192 \
        -p "$(pgrep -d, -P "$(cat "$ROOT/logs/httpd.pid")")" \
        -o "$ROOT/perf.data" -- sleep "$DURATION" >/dev/null 2>&1 &
    ps_perf=$!
    sleep 0.2
    taskset -c 1 timeout $((DURATION + 30)) \
        wrk -t2 -c"$CONNECTIONS" -d"$((DURATION - 1))s" "$@" >/dev/null
    wait $ps_perf || true
    perf report -i "$ROOT/perf.data" --stdio --children --sort symbol \
        -g none 2>/dev/null \
        | awk -v s="$ps_symbol" '$4 == s {gsub("%", "", $1); t += $1} END {printf "%.3f", t}'
}
