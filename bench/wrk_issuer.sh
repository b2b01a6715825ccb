#!/bin/sh
# Issuer benchmark: client-credentials tokens per second (ES256 signing,
# client_secret_basic) and introspections per second, beside a static file
# on the same server; plus what AuthTokenRevocationCheck On costs per
# request on a protected file. httpd is pinned to CPU 0 and wrk to CPU 1,
# so every rate is what one core of httpd does. Three interleaved
# repetitions, medians, ratios to the static file.
#
#   bench/wrk_issuer.sh            (DURATION=5 REPS=3 CONNECTIONS=32 PORT=...)
#
# Needs the build (scripts/build.sh), wrk, openssl, and two CPUs; perf
# (linux-perf) is used when present. Bounded: about REPS x 5 x (DURATION
# + 1) seconds plus one more run.
set -eu
cd "$(dirname "$0")/.."
REPO=$(pwd)
DURATION=${DURATION:-5}
REPS=${REPS:-3}
CONNECTIONS=${CONNECTIONS:-32}
PORT=${PORT:-18480}
RUN_USER=${RUN_USER:-www-data}
. bench/wrk_lib.sh


ROOT=$(mktemp -d /tmp/at-bench-issuer.XXXXXX)
chmod 755 "$ROOT"
mkdir -p "$ROOT/conf" "$ROOT/logs" "$ROOT/htdocs/api" "$ROOT/htdocs/plain" \
         "$ROOT/keys" "$ROOT/var" "$ROOT/lua"
chown "$RUN_USER:" "$ROOT/var"
# The same small file everywhere, so only the token work differs.
printf 'hello from the benchmark\n' > "$ROOT/htdocs/static.txt"
cp "$ROOT/htdocs/static.txt" "$ROOT/htdocs/api/data.txt"
cp "$ROOT/htdocs/static.txt" "$ROOT/htdocs/plain/data.txt"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$ROOT/keys/es256.pem" 2>/dev/null
chmod 644 "$ROOT/keys/es256.pem"

cleanup() {
    stop_httpd
    rm -rf "$ROOT"
}
trap cleanup EXIT INT TERM

# One application with the client_credentials grant.
REG=$ROOT/var/registry.db
"$ADMIN" --registry "$REG" scope add read --description "bench" >/dev/null
APP_JSON=$("$ADMIN" --registry "$REG" --json app add --name bench \
           --grant client_credentials --scope read)
CLIENT_ID=$(printf '%s' "$APP_JSON" | python3 -c \
    'import json,sys; d=json.load(sys.stdin); print(d.get("client_id") or d["app"]["client_id"])')
SECRET=$(printf '%s' "$APP_JSON" | python3 -c \
    'import json,sys; d=json.load(sys.stdin); print(d.get("client_secret") or d.get("secret"))')
BASIC=$(printf '%s:%s' "$CLIENT_ID" "$SECRET" | base64 -w0)

{
httpd_conf_head authz_user
cat <<EOF
LoadModule auth_token_module $MODULE
AuthTokenRegistry $REG
AuthTokenIssuerName http://127.0.0.1:$PORT
AuthTokenSigningKey ES256 $ROOT/keys/es256.pem
<Location /oauth/token>
    SetHandler oauth-token
</Location>
<Location /oauth/introspect>
    SetHandler oauth-introspect
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
} > "$ROOT/conf/httpd.conf"

start_httpd /static.txt
URL=http://127.0.0.1:$PORT

TOKEN=$(curl -fs -u "$CLIENT_ID:$SECRET" -d grant_type=client_credentials \
        "$URL/oauth/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
# A revoked token elsewhere, so the cache holds something real.
OTHER=$(curl -fs -u "$CLIENT_ID:$SECRET" -d grant_type=client_credentials \
        "$URL/oauth/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
OTHER_JTI=$(printf '%s' "$OTHER" | python3 -c '
import base64,json,sys
p=sys.stdin.read().split(".")[1]; print(json.loads(base64.urlsafe_b64decode(p+"="*(-len(p)%4)))["jti"])')
"$ADMIN" --registry "$REG" token revoke --jti "$OTHER_JTI" >/dev/null
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL/api/data.txt")" = 200 ] \
    || { echo "protected file refused the token" >&2; exit 1; }

cat > "$ROOT/lua/token.lua" <<EOF
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $BASIC"
EOF
cat > "$ROOT/lua/introspect.lua" <<EOF
wrk.method = "POST"
wrk.body = "token=$TOKEN"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $BASIC"
EOF

# rate NAME PATH [wrk options]: requests/s appended to $ROOT/NAME.txt, and
# httpd CPU microseconds per request to $ROOT/NAME.cpu; any non-2xx answer
# fails the run (a fast error is not a result).
rate() {
    name=$1; path=$2; shift 2
    # A short warm-up, so that every thread has its connections.
    taskset -c 1 timeout 30 wrk -t2 -c"$CONNECTIONS" -d1s "$@" "$URL$path" \
        >/dev/null
    before=$(httpd_ticks)
    out=$(taskset -c 1 timeout $((DURATION + 30)) \
          wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" "$@" "$URL$path")
    record "$name" "$out" "$before" "$(httpd_ticks)"
}

echo "issuer benchmark: ${REPS} x ${DURATION}s per case, ${CONNECTIONS} connections, httpd on CPU 0, wrk on CPU 1"
rep=1
while [ $rep -le "$REPS" ]; do
    rate static /static.txt
    rate token /oauth/token -s "$ROOT/lua/token.lua"
    rate introspect /oauth/introspect -s "$ROOT/lua/introspect.lua"
    rate plain /plain/data.txt -H "Authorization: Bearer $TOKEN"
    rate checked /api/data.txt -H "Authorization: Bearer $TOKEN"
    echo "  rep $rep (req/s | httpd CPU us/req): static $(tail -1 "$ROOT/static.txt") | $(tail -1 "$ROOT/static.cpu")  token $(tail -1 "$ROOT/token.txt") | $(tail -1 "$ROOT/token.cpu")  introspect $(tail -1 "$ROOT/introspect.txt") | $(tail -1 "$ROOT/introspect.cpu")  bearer $(tail -1 "$ROOT/plain.txt") | $(tail -1 "$ROOT/plain.cpu")  bearer+revocation $(tail -1 "$ROOT/checked.txt") | $(tail -1 "$ROOT/checked.cpu")"
    rep=$((rep + 1))
done

# The check's share of httpd's CPU time, sampled with perf (call graphs
# by DWARF unwinding, the module has no frame pointers) during one more
# run of the checked file. Optional: perf may be missing or not allowed.
SHARE=""
if command -v perf >/dev/null 2>&1 && perf stat -e task-clock true >/dev/null 2>&1; then
    PIDS=$(pgrep -d, -P "$(cat "$ROOT/logs/httpd.pid")")
    perf record -q -F 4999 --call-graph dwarf,8192 -p "$PIDS" \
        -o "$ROOT/perf.data" -- sleep "$DURATION" >/dev/null 2>&1 &
    PERF=$!
    sleep 0.2
    taskset -c 1 timeout $((DURATION + 30)) \
        wrk -t2 -c"$CONNECTIONS" -d"$((DURATION - 1))s" \
        -H "Authorization: Bearer $TOKEN" "$URL/api/data.txt" >/dev/null
    wait $PERF || true
    SHARE=$(perf report -i "$ROOT/perf.data" --stdio --children \
            --sort symbol -g none 2>/dev/null \
            | awk '$4 == "at_revocation_is_revoked" {gsub("%", "", $1); s += $1} END {printf "%.3f", s}')
fi

S=$(median static.txt); T=$(median token.txt); I=$(median introspect.txt)
P=$(median plain.txt); C=$(median checked.txt)
SC=$(median static.cpu); TC=$(median token.cpu); IC=$(median introspect.cpu)
PC=$(median plain.cpu); CC=$(median checked.cpu)
awk -v s="$S" -v t="$T" -v i="$I" -v p="$P" -v c="$C" -v share="$SHARE" \
    -v sc="$SC" -v tc="$TC" -v ic="$IC" -v pc="$PC" -v cc="$CC" 'BEGIN {
    printf "medians:                            req/s  of static | httpd CPU us/req  of static\n"
    printf "  static file                       %8.0f           | %8.1f\n", s, sc
    printf "  oauth-token client_credentials    %8.0f  %5.2f    | %8.1f          %5.2f   (target >= 0.30)\n", t, t / s, tc, sc / tc
    printf "  oauth-introspect                  %8.0f  %5.2f    | %8.1f          %5.2f\n", i, i / s, ic, sc / ic
    printf "  bearer file, VerifyLocal          %8.0f  %5.2f    | %8.1f          %5.2f\n", p, p / s, pc, sc / pc
    printf "  bearer file + RevocationCheck On  %8.0f  %5.2f    | %8.1f          %5.2f\n", c, c / s, cc, sc / cc
    printf "  RevocationCheck On: %+.1f us/request of httpd CPU (medians, checked - plain)\n", cc - pc
    if (share != "")
        printf "  RevocationCheck On: %.3f%% of httpd CPU in at_revocation_is_revoked = %.2f us/request (perf)\n", share, share / 100 * cc
    exit (t / s >= 0.30 || sc / tc >= 0.30) ? 0 : 2
}'
