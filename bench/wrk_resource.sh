#!/bin/sh
# Resource-server benchmark (issue 2, item 7b): a 100-byte static file
# served unprotected, protected with HS256 (AuthTokenIssuer,
# AuthTokenAudience and a Require token-scope line), and protected the same
# way with ES256, all from one httpd. httpd is pinned to CPU 0 (event MPM,
# 2 children x 32 threads, ListenCoresBucketsRatio 1) and wrk to CPU 1
# (-t2 -c32 -d10s); three interleaved repetitions, medians. For each case:
# requests per second, the ratio to unprotected, and the httpd CPU time per
# request (utime+stime of every httpd process, from /proc/PID/stat) minus
# the unprotected figure, in microseconds. A fourth case, unprot+hdr, sends
# the HS256 token to the unprotected file: what receiving the ~400 header
# bytes costs, apart from anything the module does.
#
#   bench/wrk_resource.sh [--no-cache]      (DURATION=10 REPS=3 PORT=...)
#
# --no-cache sets AuthTokenVerifyCache Off, so every ES256 request pays for
# its signature check (the default cache makes a repeated token cost about
# what an HS256 one does). Needs the build (scripts/build.sh), wrk,
# python3-jwt and two CPUs. Bounded: about REPS x 4 x (DURATION + 1) seconds.
set -eu
cd "$(dirname "$0")/.."
REPO=$(pwd)
DURATION=${DURATION:-10}
REPS=${REPS:-3}
PORT=${PORT:-$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
CACHE=1024
[ "${1:-}" = "--no-cache" ] && CACHE=Off

[ -f mod_auth_token/mod_auth_token.so ] || { echo "build first: scripts/build.sh" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }

ROOT=$(mktemp -d /tmp/at-wrk-resource.XXXXXX)
chmod 755 "$ROOT"
mkdir -p "$ROOT/conf" "$ROOT/logs" "$ROOT/keys" "$ROOT/htdocs/open" \
         "$ROOT/htdocs/hs" "$ROOT/htdocs/es"
stop() {
    if [ -f "$ROOT/logs/httpd.pid" ]; then
        apachectl -d "$ROOT" -f conf/httpd.conf -k stop 2>/dev/null || true
        i=0
        while [ -f "$ROOT/logs/httpd.pid" ] && [ $i -lt 100 ]; do
            sleep 0.1; i=$((i + 1))
        done
    fi
    rm -rf "$ROOT"
}
trap stop EXIT INT TERM

# 100 bytes exactly, the same file in the three places
head -c 99 /dev/zero | tr '\0' 'x' > "$ROOT/htdocs/open/file.txt"
echo >> "$ROOT/htdocs/open/file.txt"
cp "$ROOT/htdocs/open/file.txt" "$ROOT/htdocs/hs/"
cp "$ROOT/htdocs/open/file.txt" "$ROOT/htdocs/es/"

# keys and one token per algorithm (valid for an hour)
/usr/bin/python3 - "$ROOT" <<'EOF'
import os, sys, time, jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
root = sys.argv[1]
secret = os.urandom(32).hex().encode()
open(root + "/keys/hs256.key", "wb").write(secret)
k = ec.generate_private_key(ec.SECP256R1())
open(root + "/keys/es256.pub", "wb").write(k.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
now = int(time.time())
claims = {"iss": "https://auth.example.com", "sub": "bench-client",
          "aud": "orders-api", "iat": now, "exp": now + 3600,
          "jti": "bench", "client_id": "bench-client",
          "scope": "orders:read orders:write"}
open(root + "/hs.token", "w").write(jwt.encode(claims, secret, "HS256",
                                               headers={"typ": "at+jwt"}))
pem = k.private_bytes(serialization.Encoding.PEM,
                      serialization.PrivateFormat.PKCS8,
                      serialization.NoEncryption())
open(root + "/es.token", "w").write(jwt.encode(
    claims, pem, "ES256", headers={"typ": "at+jwt", "kid": "es1"}))
EOF

MODS=/usr/lib/apache2/modules
cat > "$ROOT/conf/httpd.conf" <<EOF
ServerRoot "$ROOT"
ServerName 127.0.0.1
Listen 127.0.0.1:$PORT
PidFile "$ROOT/logs/httpd.pid"
ErrorLog "$ROOT/logs/error_log"
LogLevel warn
Mutex file:$ROOT/logs
DefaultRuntimeDir "$ROOT/logs"
User www-data
Group www-data
LoadModule mpm_event_module $MODS/mod_mpm_event.so
LoadModule authn_core_module $MODS/mod_authn_core.so
LoadModule authz_core_module $MODS/mod_authz_core.so
LoadModule mime_module $MODS/mod_mime.so
LoadModule auth_token_module $REPO/mod_auth_token/mod_auth_token.so
TypesConfig /etc/mime.types
StartServers 2
ServerLimit 2
ThreadsPerChild 32
MaxRequestWorkers 64
MinSpareThreads 8
MaxSpareThreads 64
ThreadLimit 32
ListenCoresBucketsRatio 1
KeepAlive On
MaxKeepAliveRequests 0
AuthTokenVerifyCache $CACHE
DocumentRoot "$ROOT/htdocs"
<Directory "$ROOT/htdocs">
    Require all granted
</Directory>
<Location /hs>
    AuthType Bearer
    AuthName bench
    AuthTokenVerifyKey HS256 $ROOT/keys/hs256.key
    AuthTokenIssuer https://auth.example.com
    AuthTokenAudience orders-api
    AuthzSendForbiddenOnFailure On
    Require token-scope orders:read
</Location>
<Location /es>
    AuthType Bearer
    AuthName bench
    AuthTokenVerifyKey ES256 $ROOT/keys/es256.pub kid=es1
    AuthTokenIssuer https://auth.example.com
    AuthTokenAudience orders-api
    AuthzSendForbiddenOnFailure On
    Require token-scope orders:read
</Location>
EOF

taskset -c 0 apachectl -d "$ROOT" -f conf/httpd.conf -k start
i=0
until curl -s -o /dev/null "http://127.0.0.1:$PORT/open/file.txt"; do
    i=$((i + 1)); [ $i -gt 100 ] && { echo "httpd did not start" >&2; cat "$ROOT/logs/error_log" >&2; exit 1; }
    sleep 0.1
done

URL=http://127.0.0.1:$PORT
HS=$(cat "$ROOT/hs.token")
ES=$(cat "$ROOT/es.token")
# sanity: the protected files answer 200 with the token and 401 without
for c in "hs $HS" "es $ES"; do
    set -- $c
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $2" "$URL/$1/file.txt")" = 200 ] \
        || { echo "/$1 does not accept its token" >&2; cat "$ROOT/logs/error_log" >&2; exit 1; }
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/$1/file.txt")" = 401 ] \
        || { echo "/$1 is not protected" >&2; exit 1; }
done

# CPU ticks (utime+stime) of every httpd process of this server
httpd_ticks() {
    ppid=$(cat "$ROOT/logs/httpd.pid")
    pids="$ppid $(pgrep -P "$ppid" | tr '\n' ' ')"
    t=0
    for p in $pids; do
        v=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)
        t=$((t + v))
    done
    echo $t
}

# Runs one case; appends "case rps us_per_request" to $ROOT/results.
run_case() {
    name=$1 path=$2 token=$3
    # a short warm-up so every thread has its connection state
    if [ -n "$token" ]; then
        taskset -c 1 wrk -t2 -c32 -d1s -H "Authorization: Bearer $token" "$URL$path" >/dev/null
    else
        taskset -c 1 wrk -t2 -c32 -d1s "$URL$path" >/dev/null
    fi
    before=$(httpd_ticks)
    if [ -n "$token" ]; then
        out=$(taskset -c 1 timeout $((DURATION + 30)) wrk -t2 -c32 -d${DURATION}s \
              -H "Authorization: Bearer $token" "$URL$path")
    else
        out=$(taskset -c 1 timeout $((DURATION + 30)) wrk -t2 -c32 -d${DURATION}s "$URL$path")
    fi
    after=$(httpd_ticks)
    if echo "$out" | grep -q "Non-2xx"; then
        echo "$name: non-2xx answers:" >&2; echo "$out" >&2; exit 1
    fi
    reqs=$(echo "$out" | awk '/requests in/ { print $1 }')
    rps=$(echo "$out" | awk '/^Requests\/sec/ { print $2 }')
    hz=$(getconf CLK_TCK)
    us=$(awk -v t=$((after - before)) -v hz="$hz" -v n="$reqs" \
         'BEGIN { printf "%.2f", t * 1000000 / hz / n }')
    echo "$name $rps $us" >> "$ROOT/results"
    printf '  %-12s %10s req/s %8s us CPU/request\n' "$name" "$rps" "$us"
}

echo "httpd on CPU 0, wrk on CPU 1, -t2 -c32 -d${DURATION}s, $REPS repetitions, AuthTokenVerifyCache $CACHE"
r=1
while [ $r -le "$REPS" ]; do
    echo "repetition $r"
    run_case unprotected /open/file.txt ""
    run_case unprot+hdr /open/file.txt "$HS"
    run_case HS256 /hs/file.txt "$HS"
    run_case ES256 /es/file.txt "$ES"
    r=$((r + 1))
done

grep -E "AT00|error" "$ROOT/logs/error_log" | head -5 >&2 || true

echo
echo "medians:"
/usr/bin/python3 - "$ROOT/results" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
med = {}
for name in ("unprotected", "unprot+hdr", "HS256", "ES256"):
    rps = [float(r[1]) for r in rows if r[0] == name]
    us = [float(r[2]) for r in rows if r[0] == name]
    med[name] = (statistics.median(rps), statistics.median(us))
base_rps, base_us = med["unprotected"]
print("%-12s %12s %8s %18s" % ("case", "req/s", "ratio", "+us CPU/request"))
for name, (rps, us) in med.items():
    print("%-12s %12.0f %8.2f %18.2f" % (name, rps, rps / base_rps,
                                          us - base_us))
EOF
