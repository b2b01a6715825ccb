#!/bin/sh
# The issuer on PostgreSQL against the issuer on SQLite, on the same
# machine: client_credentials tokens per second, refresh-token rotations
# per second (each connection uses the refresh token its last answer
# handed out), and protected requests with AuthTokenRevocationCheck On
# against Off on PostgreSQL; then how long a revocation takes to be
# honoured (token revoke --jti by the CLI, another process like another
# node, until the server answers 401), median and max of 20.
#
# One httpd (1 child x 64 threads) and the private PostgreSQL
# (scripts/pg-private.sh, default settings: synchronous_commit on) are both
# pinned to CPU 0, so that the database's work counts against the server
# as SQLite's does; wrk runs on CPU 1 (-t2 -c32). REPS interleaved
# repetitions (SQLite, PostgreSQL, SQLite, ...), each with a fresh httpd;
# medians and ratios. Besides requests per second, the server CPU time per
# request (user + system of the httpd children and every PostgreSQL
# process, from /proc): on a machine shared with other work the rate
# depends on what else runs, the CPU per request much less.
#
#   bench/wrk_registry.sh          (DURATION=5 REPS=3)
#
# Needs the build (scripts/build.sh), wrk, openssl, postgresql and two
# CPUs. Bounded: about REPS x 2 x 4 x (DURATION + 2) seconds plus 30.
set -eu
cd "$(dirname "$0")/.."
REPO=$(pwd)
DURATION=${DURATION:-5}
REPS=${REPS:-3}
CONNECTIONS=32
MODULE=$REPO/mod_auth_token/mod_auth_token.so
ADMIN=$REPO/admin-cgi/token-admin
MODDIR=/usr/lib/apache2/modules
RUN_USER=www-data
free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
PORT=$(free_port)
URL=http://127.0.0.1:$PORT

[ -f "$MODULE" ] && [ -x "$ADMIN" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is not installed" >&2; exit 1; }
[ "$(nproc)" -ge 2 ] || { echo "needs two CPUs" >&2; exit 1; }

ROOT=$(mktemp -d /tmp/at-bench-registry.XXXXXX)
chmod 755 "$ROOT"
mkdir -p "$ROOT/conf" "$ROOT/logs" "$ROOT/htdocs/api" "$ROOT/htdocs/plain" \
         "$ROOT/keys" "$ROOT/var" "$ROOT/lua"
chown "$RUN_USER:" "$ROOT/var"
printf 'hello from the benchmark\n' > "$ROOT/htdocs/api/data.txt"
cp "$ROOT/htdocs/api/data.txt" "$ROOT/htdocs/plain/data.txt"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$ROOT/keys/es256.pem" 2>/dev/null
chmod 644 "$ROOT/keys/es256.pem"

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
cleanup() {
    stop_httpd
    scripts/pg-private.sh stop "$ROOT/pg" >/dev/null 2>&1 || true
    rm -rf "$ROOT"
}
trap cleanup EXIT INT TERM

mkdir -p "$ROOT/pg"
PG=$(taskset -c 0 scripts/pg-private.sh start "$ROOT/pg" "$(free_port)")

# One application per registry: client credentials with refresh tokens.
setup_registry() {  # SPEC -> prints "client_id secret"
    "$ADMIN" --registry "$1" scope add read --description bench >/dev/null
    "$ADMIN" --registry "$1" --json app add --name bench \
        --grant client_credentials,refresh_token --scope read \
        --offline-client-credentials | /usr/bin/python3 -c \
        'import json,sys; d=json.load(sys.stdin); print(d["client_id"], d["client_secret"])'
}
SQLITE_SPEC=$ROOT/var/registry.db
PG_SPEC="pgsql:$PG"
set -- $(setup_registry "$SQLITE_SPEC")
SQLITE_ID=$1; SQLITE_SECRET=$2
set -- $(setup_registry "$PG_SPEC")
PG_ID=$1; PG_SECRET=$2

start_httpd() {  # REGISTRY-DIRECTIVE-ARGS
    cat > "$ROOT/conf/httpd.conf" <<EOF
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
LoadModule mpm_event_module $MODDIR/mod_mpm_event.so
LoadModule authn_core_module $MODDIR/mod_authn_core.so
LoadModule authz_core_module $MODDIR/mod_authz_core.so
LoadModule authz_user_module $MODDIR/mod_authz_user.so
LoadModule mime_module $MODDIR/mod_mime.so
LoadModule auth_token_module $MODULE
# More workers than wrk has connections: a server at MaxRequestWorkers
# closes idle keep-alive connections, and a refresh token sent on one that
# closes is lost to the run.
StartServers 1
ServerLimit 1
ThreadsPerChild 64
MaxRequestWorkers 64
KeepAliveTimeout 30
MaxKeepAliveRequests 0
TypesConfig /etc/mime.types
<Directory "$ROOT/htdocs">
    Require all granted
</Directory>
AuthTokenRegistry $1
AuthTokenIssuerName http://127.0.0.1:$PORT
AuthTokenSigningKey ES256 $ROOT/keys/es256.pem
<Location /oauth/token>
    SetHandler oauth-token
</Location>
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
    taskset -c 0 apachectl -d "$ROOT" -f conf/httpd.conf -k start
    i=0
    until curl -fs -o /dev/null "$URL/plain/data.txt" -H "Authorization: Bearer x" \
          || [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/plain/data.txt")" = 401 ]; do
        i=$((i + 1)); [ $i -lt 100 ] || { cat "$ROOT/logs/error_log" >&2; exit 1; }
        sleep 0.1
    done
}

json_field() {  # FIELD < JSON
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# Lua for wrk: client credentials; refresh rotation from a queue of
# refresh tokens per thread (each answer's new token goes back in).
write_lua() {  # ID SECRET
    basic=$(printf '%s:%s' "$1" "$2" | base64 -w0)
    cat > "$ROOT/lua/token.lua" <<EOF
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $basic"
EOF
    cat > "$ROOT/lua/refresh.lua" <<EOF
local counter = 0
local threads = {}
function setup(thread)
    counter = counter + 1
    thread:set("id", counter)
    table.insert(threads, thread)
end
function init(args)
    queue = {}
    local f = io.open("$ROOT/lua/rts." .. id, "r")
    for line in f:lines() do table.insert(queue, line) end
    f:close()
end
request = function()
    local rt = table.remove(queue, 1) or "exhausted"
    return wrk.format("POST", "/oauth/token",
        {["Content-Type"] = "application/x-www-form-urlencoded",
         ["Authorization"] = "Basic $basic"},
        "grant_type=refresh_token&refresh_token=" .. rt)
end
response = function(status, headers, body)
    local rt = body:match('"refresh_token":"([^"]+)"')
    if rt then table.insert(queue, rt) end
end
EOF
}

# Refresh tokens for the two wrk threads: 32 each (16 connections each).
make_rts() {  # ID SECRET
    for t in 1 2; do
        : > "$ROOT/lua/rts.$t"
        n=0
        while [ $n -lt 32 ]; do
            curl -fs -u "$1:$2" -d grant_type=client_credentials \
                -d scope="read offline_access" "$URL/oauth/token" \
                | json_field refresh_token >> "$ROOT/lua/rts.$t"
            n=$((n + 1))
        done
    done
}

# CPU time (user + system, clock ticks) used so far by the httpd children
# and the PostgreSQL server's processes.
HZ=$(getconf CLK_TCK)
server_ticks() {
    pids=$(pgrep -P "$(cat "$ROOT/logs/httpd.pid")")
    postmaster=$(head -1 "$ROOT/pg/data/postmaster.pid")
    pids="$pids $postmaster $(pgrep -P "$postmaster")"
    t=0
    for pid in $pids; do
        t=$((t + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
    done
    echo $t
}

# One wrk run of DURATION: NAME.txt gets requests/s, NAME.cpu the server
# CPU microseconds per request; any non-2xx answer fails the run.
measure() {  # NAME wrk-arguments...
    name=$1; shift
    before=$(server_ticks)
    out=$(taskset -c 1 timeout $((DURATION + 30)) \
          wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" "$@")
    after=$(server_ticks)
    if printf '%s' "$out" | grep -q "Non-2xx"; then
        printf '%s\n' "$out" >&2
        echo "$name: non-2xx answers" >&2
        exit 1
    fi
    printf '%s' "$out" | awk '/Requests\/sec/ {print $2}' >> "$ROOT/$name.txt"
    printf '%s' "$out" | awk -v t=$((after - before)) -v hz="$HZ" \
        '/requests in/ {printf "%.1f\n", t / hz * 1e6 / $1}' >> "$ROOT/$name.cpu"
}

rate() {  # NAME PATH [wrk options]
    name=$1; path=$2; shift 2
    taskset -c 1 timeout 30 wrk -t2 -c"$CONNECTIONS" -d1s "$@" "$URL$path" \
        >/dev/null
    measure "$name" "$@" "$URL$path"
}

# The refresh run may not warm up (it would use up the tokens): one run.
refresh_rate() {  # NAME
    measure "$1" -s "$ROOT/lua/refresh.lua" "$URL/oauth/token"
}

median() {
    sort -n "$ROOT/$1" | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'
}

run_case() {  # LABEL DIRECTIVE-ARGS ID SECRET
    start_httpd "$2"
    write_lua "$3" "$4"
    tok=$(curl -fs -u "$3:$4" -d grant_type=client_credentials \
          "$URL/oauth/token" | json_field access_token)
    rate "$1-token" /oauth/token -s "$ROOT/lua/token.lua"
    make_rts "$3" "$4"
    refresh_rate "$1-refresh"
    rate "$1-plain" /plain/data.txt -H "Authorization: Bearer $tok"
    rate "$1-checked" /api/data.txt -H "Authorization: Bearer $tok"
    stop_httpd
}

echo "registry benchmark: $REPS x ${DURATION}s per case, $CONNECTIONS connections; httpd and PostgreSQL on CPU 0, wrk on CPU 1"
rep=1
while [ $rep -le "$REPS" ]; do
    run_case sqlite "$SQLITE_SPEC" "$SQLITE_ID" "$SQLITE_SECRET"
    run_case pgsql "pgsql \"$PG\"" "$PG_ID" "$PG_SECRET"
    for c in sqlite-token pgsql-token sqlite-refresh pgsql-refresh pgsql-plain pgsql-checked; do
        printf '  rep %d %-15s %8s req/s %8s us CPU/req\n' "$rep" "$c" \
            "$(tail -1 "$ROOT/$c.txt")" "$(tail -1 "$ROOT/$c.cpu")"
    done
    rep=$((rep + 1))
done

# Propagation: a token accepted, revoked by the CLI (a process of its
# own, as on another node), then polled every 10 ms until refused.
start_httpd "pgsql \"$PG\""
# And first, what the check itself costs on PostgreSQL: its share of httpd's
# CPU in the checked run, sampled with perf (call graphs by DWARF
# unwinding), times the CPU per request. On a shared machine this is the
# steadier figure: the On and Off rates above differ by more from one run
# to the next than the check costs. Optional: perf may be missing.
SHARE=""
if command -v perf >/dev/null 2>&1 && perf stat -e task-clock true >/dev/null 2>&1; then
    tok=$(curl -fs -u "$PG_ID:$PG_SECRET" -d grant_type=client_credentials \
          "$URL/oauth/token" | json_field access_token)
    taskset -c 1 timeout 30 wrk -t2 -c"$CONNECTIONS" -d1s \
        -H "Authorization: Bearer $tok" "$URL/api/data.txt" >/dev/null
    perf record -q -F 4999 --call-graph dwarf,8192 \
        -p "$(pgrep -d, -P "$(cat "$ROOT/logs/httpd.pid")")" \
        -o "$ROOT/perf.data" -- sleep "$DURATION" >/dev/null 2>&1 &
    PERF=$!
    sleep 0.2
    taskset -c 1 timeout $((DURATION + 30)) wrk -t2 -c"$CONNECTIONS" \
        -d"$((DURATION - 1))s" -H "Authorization: Bearer $tok" \
        "$URL/api/data.txt" >/dev/null
    wait $PERF || true
    SHARE=$(perf report -i "$ROOT/perf.data" --stdio --children \
            --sort symbol -g none 2>/dev/null \
            | awk '$4 == "at_revocation_is_revoked" {gsub("%", "", $1); s += $1} END {printf "%.3f", s}')
fi
: > "$ROOT/propagation.txt"
n=0
while [ $n -lt 20 ]; do
    tok=$(curl -fs -u "$PG_ID:$PG_SECRET" -d grant_type=client_credentials \
          "$URL/oauth/token" | json_field access_token)
    jti=$(printf '%s' "$tok" | /usr/bin/python3 -c '
import base64,json,sys
p=sys.stdin.read().split(".")[1]; print(json.loads(base64.urlsafe_b64decode(p+"="*(-len(p)%4)))["jti"])')
    curl -fs -o /dev/null -H "Authorization: Bearer $tok" "$URL/api/data.txt"
    /usr/bin/python3 - "$ADMIN" "$PG_SPEC" "$jti" "$URL" "$tok" >> "$ROOT/propagation.txt" <<'EOF'
import subprocess, sys, time, urllib.request, urllib.error
admin, spec, jti, url, tok = sys.argv[1:]
subprocess.run([admin, "--registry", spec, "token", "revoke", "--jti", jti],
               check=True, capture_output=True)
start = time.time()
while time.time() - start < 10:
    req = urllib.request.Request(url + "/api/data.txt",
                                 headers={"Authorization": "Bearer " + tok})
    try:
        urllib.request.urlopen(req, timeout=10)
    except urllib.error.HTTPError as e:
        if e.code == 401:
            break
    time.sleep(0.01)
print("%.3f" % (time.time() - start))
EOF
    n=$((n + 1))
done
stop_httpd

ST=$(median sqlite-token.txt); PT=$(median pgsql-token.txt)
SR=$(median sqlite-refresh.txt); PR=$(median pgsql-refresh.txt)
PP=$(median pgsql-plain.txt); PC=$(median pgsql-checked.txt)
STC=$(median sqlite-token.cpu); PTC=$(median pgsql-token.cpu)
SRC=$(median sqlite-refresh.cpu); PRC=$(median pgsql-refresh.cpu)
PPC=$(median pgsql-plain.cpu); PCC=$(median pgsql-checked.cpu)
PM=$(median propagation.txt); PX=$(sort -n "$ROOT/propagation.txt" | tail -1)
awk -v st="$ST" -v pt="$PT" -v sr="$SR" -v pr="$PR" -v pp="$PP" -v pc="$PC" \
    -v stc="$STC" -v ptc="$PTC" -v src="$SRC" -v prc="$PRC" -v ppc="$PPC" \
    -v pcc="$PCC" -v pm="$PM" -v px="$PX" -v share="$SHARE" 'BEGIN {
    printf "medians:                  req/s SQLite  PostgreSQL  ratio | CPU us/req SQLite  PostgreSQL  ratio\n"
    printf "  client_credentials       %8.0f    %8.0f   %5.2f | %8.1f      %8.1f   %5.2f  (goal >= 0.6)\n", st, pt, pt / st, stc, ptc, stc / ptc
    printf "  refresh rotation         %8.0f    %8.0f   %5.2f | %8.1f      %8.1f   %5.2f  (goal >= 0.5)\n", sr, pr, pr / sr, src, prc, src / prc
    printf "  PostgreSQL protected file, RevocationCheck On vs Off: %.0f / %.0f req/s = %.2f; %.1f / %.1f us CPU = %.2f (goal >= 0.90)\n", pc, pp, pc / pp, pcc, ppc, ppc / pcc
    if (share != "")
        printf "  RevocationCheck On on PostgreSQL: %.3f%% of httpd CPU in at_revocation_is_revoked = %.2f us/request, %.1f%% of a request without it (perf)\n", share, share / 100 * pcc, share / 100 * pcc / ppc * 100
    printf "  revocation honoured after (CLI revoke -> 401): median %.3f s, max %.3f s (goal < 2 s)\n", pm, px
}'
