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
# 32 connections: the refresh tokens made for each run are counted for them.
CONNECTIONS=32
. bench/wrk_lib.sh

bench_root registry api plain
cleanup() {
    stop_httpd
    scripts/pg-private.sh stop "$ROOT/pg" >/dev/null 2>&1 || true
    rm -rf "$ROOT"
}

mkdir -p "$ROOT/pg"
PG=$(taskset -c 0 scripts/pg-private.sh start "$ROOT/pg" "$(free_port)")

# One application per registry: client credentials with refresh tokens.
SQLITE_SPEC=$ROOT/var/registry.db
PG_SPEC="pgsql:$PG"
set -- $(register_app "$SQLITE_SPEC" --name bench \
         --grant client_credentials,refresh_token --offline-client-credentials)
SQLITE_ID=$1; SQLITE_SECRET=$2
set -- $(register_app "$PG_SPEC" --name bench \
         --grant client_credentials,refresh_token --offline-client-credentials)
PG_ID=$1; PG_SECRET=$2

# More workers than wrk has connections: a server at MaxRequestWorkers
# closes idle keep-alive connections, and a refresh token sent on one that
# closes is lost to the run.
HTTPD_THREADS=64
start_server() {  # REGISTRY-DIRECTIVE-ARGS
    {
        httpd_conf_head authz_user
        issuer_conf "$1" token
        bearer_conf
    } > "$ROOT/conf/httpd.conf"
    start_httpd /static.txt
}

# Lua for wrk: client credentials; refresh rotation from a queue of
# refresh tokens per thread (each answer's new token goes back in).
write_lua() {  # ID SECRET
    post_lua token grant_type=client_credentials "$1:$2"
    basic=$(printf '%s:%s' "$1" "$2" | base64 -w0)
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
            cc_grant "$1" "$2" -d scope="read offline_access" \
                | json_field refresh_token >> "$ROOT/lua/rts.$t"
            n=$((n + 1))
        done
    done
}

# The server's CPU time: the httpd children's and the PostgreSQL server's
# processes'.
server_ticks() {
    postmaster=$(head -1 "$ROOT/pg/data/postmaster.pid")
    echo $(($(httpd_ticks) + $(pid_ticks $postmaster $(pgrep -P "$postmaster"))))
}

# The refresh run may not warm up (it would use up the tokens): one run.
refresh_rate() {  # NAME
    measure "$1" "$DURATION" -s "$ROOT/lua/refresh.lua" "$URL/oauth/token"
}

run_case() {  # LABEL DIRECTIVE-ARGS ID SECRET
    start_server "$2"
    write_lua "$3" "$4"
    tok=$(cc_grant "$3" "$4" | json_field access_token)
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
    run_case sqlite "\"$SQLITE_SPEC\"" "$SQLITE_ID" "$SQLITE_SECRET"
    run_case pgsql "pgsql \"$PG\"" "$PG_ID" "$PG_SECRET"
    for c in sqlite-token pgsql-token sqlite-refresh pgsql-refresh pgsql-plain pgsql-checked; do
        printf '  rep %d %-15s %8s req/s %8s us CPU/req\n' "$rep" "$c" \
            "$(tail -1 "$ROOT/$c.txt")" "$(tail -1 "$ROOT/$c.cpu")"
    done
    rep=$((rep + 1))
done

# Propagation: a token accepted, revoked by the CLI (a process of its
# own, as on another node), then polled every 10 ms until refused.
start_server "pgsql \"$PG\""
# And first, what the check itself costs on PostgreSQL: its share of httpd's
# CPU in the checked run (perf, optional), times the CPU per request. On a
# shared machine this is the steadier figure: the On and Off rates above
# differ by more from one run to the next than the check costs.
tok=$(cc_grant "$PG_ID" "$PG_SECRET" | json_field access_token)
SHARE=$(perf_share at_revocation_is_revoked \
        -H "Authorization: Bearer $tok" "$URL/api/data.txt")
: > "$ROOT/propagation.txt"
n=0
while [ $n -lt 20 ]; do
    tok=$(cc_grant "$PG_ID" "$PG_SECRET" | json_field access_token)
    jti=$(token_jti "$tok")
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
