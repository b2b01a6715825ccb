#!/bin/sh
# Delegated-authorization benchmark: the authorization step with a
# remembered consent (GET /oauth/authorize -> 302 with a code) and the code
# exchange at the token endpoint (authorization_code + PKCE, public client,
# ES256), each beside a static file on the same server. httpd is pinned to
# CPU 0 and wrk to CPU 1; REPS interleaved repetitions, medians, ratios to
# the static file (goal: at least 0.25 each).
#
#   bench/wrk_authorize.sh        (DURATION=5 REPS=3 CONNECTIONS=32 PORT=...)
#
# The person signs in with Basic from an htpasswd file hashed with {SHA},
# so that the numbers are this module's work and not bcrypt's (with bcrypt,
# Apache's own password check dominates any sign-in). The codes the
# authorization runs return are collected by wrk and redeemed by the next
# exchange run (each code once: a second redemption would be refused).
# Needs the build (scripts/build.sh), wrk, openssl, htpasswd, python3 and
# two CPUs. Bounded: about REPS x (4 x DURATION + 3) seconds.
set -eu
cd "$(dirname "$0")/.."
PORT=${PORT:-18490}
. bench/wrk_lib.sh

bench_root authorize
mkdir -p "$ROOT/codes"
htpasswd -bcs "$ROOT/conf/people" alice bench-pw >/dev/null 2>&1
chmod 644 "$ROOT/conf/people"

CALLBACK=$URL/static.txt
REG=$ROOT/var/registry.db
set -- $(register_app "$REG" --name bench-web --type public \
         --grant authorization_code --redirect-uri "$CALLBACK")
CLIENT_ID=$1
VERIFIER=$(openssl rand -base64 48 | tr -d '\n=' | tr '/+' '_-')
CHALLENGE=$(printf '%s' "$VERIFIER" | openssl dgst -sha256 -binary \
            | openssl base64 -A | tr -d '=' | tr '/+' '_-')
ENC_CB=$(printf '%s' "$CALLBACK" | sed 's/:/%3A/g; s|/|%2F|g')
AUTHZ_PATH="/oauth/authorize?response_type=code&client_id=$CLIENT_ID&redirect_uri=$ENC_CB&scope=read&state=bench&code_challenge=$CHALLENGE&code_challenge_method=S256"
BASIC=$(printf 'alice:bench-pw' | base64 -w0)

{
httpd_conf_head authn_file authz_user auth_basic
issuer_conf "\"$REG\"" token
cat <<EOF
# Codes are collected during one run and redeemed in the next.
AuthTokenCodeLifetime 600
<Location /oauth/authorize>
    SetHandler oauth-authorize
    AuthType Basic
    AuthName "bench"
    AuthBasicProvider file
    AuthUserFile "$ROOT/conf/people"
    Require valid-user
</Location>
EOF
} > "$ROOT/conf/httpd.conf"

start_httpd /static.txt

# The consent, given once on the page (the form's fields sent back).
python3 - "$URL" "$AUTHZ_PATH" <<'EOF'
import base64, re, sys, urllib.parse, urllib.request
url, path = sys.argv[1], sys.argv[2]
auth = {"Authorization": "Basic " + base64.b64encode(b"alice:bench-pw").decode()}
page = urllib.request.urlopen(urllib.request.Request(url + path, headers=auth)).read().decode()
fields = dict(re.findall(r'type="hidden" name="([a-z_]+)" value="([^"]*)"', page))
fields["decision"] = "allow"
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None
opener = urllib.request.build_opener(NoRedirect)
try:
    opener.open(urllib.request.Request(url + "/oauth/authorize", headers=auth,
                data=urllib.parse.urlencode(fields).encode()))
    sys.exit("the consent page did not redirect")
except urllib.error.HTTPError as e:
    assert e.code == 302 and "code=" in e.headers["Location"], e.code
EOF
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Basic $BASIC" "$URL$AUTHZ_PATH")" = 302 ] \
    || { echo "the remembered consent does not skip the page" >&2; exit 1; }

# Authorization runs write the codes they get, one file per wrk thread.
cat > "$ROOT/lua/authorize.lua" <<EOF
wrk.headers["Authorization"] = "Basic $BASIC"
local out
function init(args)
    out = io.open(args[1] .. "/" .. tostring({}):gsub("[^%w]", ""), "w")
    out:setvbuf("line")
end
function response(status, headers, body)
    local code = (headers["Location"] or ""):match("[?&]code=([^&]+)")
    if status ~= 302 or not code then
        error("authorize answered " .. status)
    end
    out:write(code, "\n")
end
EOF
# Exchange runs redeem them: thread N of 2 takes every other code.
cat > "$ROOT/lua/exchange.lua" <<EOF
local n = 0
local codes = {}
function setup(thread)
    n = n + 1
    thread:set("id", n)
end
function init(args)
    local i = 0
    for line in io.open(args[1]):lines() do
        i = i + 1
        if i % 2 == id - 1 then codes[#codes + 1] = line end
    end
end
local pos = 0
function request()
    pos = pos + 1
    local code = codes[pos]
    if not code then error("out of codes") end
    return wrk.format("POST", "/oauth/token",
        {["Content-Type"] = "application/x-www-form-urlencoded"},
        "grant_type=authorization_code&client_id=$CLIENT_ID"
        .. "&redirect_uri=$ENC_CB&code_verifier=$VERIFIER&code=" .. code)
end
EOF

echo "authorization benchmark: ${REPS} x ${DURATION}s per case, ${CONNECTIONS} connections, httpd on CPU 0, wrk on CPU 1"
# Warm-up of every path (not measured).
taskset -c 1 timeout 30 wrk -t2 -c"$CONNECTIONS" -d1s "$URL/static.txt" >/dev/null
rep=1
while [ $rep -le "$REPS" ]; do
    rate_dir=$ROOT/codes/$rep
    mkdir -p "$rate_dir"
    measure static "$DURATION" "$URL/static.txt"
    # Enough codes for an exchange run at twice the authorization rate.
    measure authorize "$((2 * DURATION))" -s "$ROOT/lua/authorize.lua" \
        "$URL$AUTHZ_PATH" -- "$rate_dir"
    cat "$rate_dir"/* > "$rate_dir.all"
    measure exchange "$DURATION" -s "$ROOT/lua/exchange.lua" "$URL/" \
        -- "$rate_dir.all"
    echo "  rep $rep (req/s | httpd CPU us/req): static $(tail -1 "$ROOT/static.txt") | $(tail -1 "$ROOT/static.cpu")  authorize $(tail -1 "$ROOT/authorize.txt") | $(tail -1 "$ROOT/authorize.cpu")  exchange $(tail -1 "$ROOT/exchange.txt") | $(tail -1 "$ROOT/exchange.cpu")  ($(wc -l < "$rate_dir.all") codes collected)"
    rep=$((rep + 1))
done

# PERF=1: where the exchange's time goes (perf, one more run).
if [ "${PERF:-0}" = 1 ] && perf stat -e task-clock true >/dev/null 2>&1; then
    mkdir -p "$ROOT/codes/perf"
    measure perf_authorize "$((2 * DURATION))" -s "$ROOT/lua/authorize.lua" \
        "$URL$AUTHZ_PATH" -- "$ROOT/codes/perf"
    cat "$ROOT/codes/perf"/* > "$ROOT/codes/perf.all"
    PIDS=$(pgrep -d, -P "$(cat "$ROOT/logs/httpd.pid")")
    if [ -n "${STRACE:-}" ]; then
        for pid in $(echo "$PIDS" | tr , ' '); do
            timeout $((DURATION + 2)) strace -c -f -p "$pid" -o "$ROOT/strace.$pid" &
        done
    fi
    perf record -q -F 1999 --call-graph dwarf,16384 -p "$PIDS" \
        -o "$ROOT/perf.data" \
        -- sleep "$DURATION" >/dev/null 2>&1 &
    PERFPID=$!
    measure perf_exchange "$DURATION" -s "$ROOT/lua/exchange.lua" "$URL/" \
        -- "$ROOT/codes/perf.all"
    wait $PERFPID || true
    if [ -n "${STRACE:-}" ]; then
        sleep 3; cat "$ROOT"/strace.* | head -25
        echo "exchanges in the perf run: $(tail -1 "$ROOT/perf_exchange.txt") req/s"
    fi
    perf report -i "$ROOT/perf.data" --stdio --no-children --sort dso \
        -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -12
    # The exchange's parts, each with what it calls.
    perf report -i "$ROOT/perf.data" --stdio --children --sort symbol \
        -g none 2>/dev/null | grep -v '^#' | grep -v '^$' \
        | grep -E ' (at_|ap_process_request|ap_run_handler|EVP_Digest|sqlite3_step|apr_dbd_|ap_get_brigade|ap_pass_brigade)' \
        | head -30
fi

S=$(median static.txt); A=$(median authorize.txt); E=$(median exchange.txt)
SC=$(median static.cpu); AC=$(median authorize.cpu); EC=$(median exchange.cpu)
awk -v s="$S" -v a="$A" -v e="$E" -v sc="$SC" -v ac="$AC" -v ec="$EC" 'BEGIN {
    printf "medians:                                req/s  of static | httpd CPU us/req  of static\n"
    printf "  static file                           %8.0f           | %8.1f\n", s, sc
    printf "  authorize, remembered consent (302)   %8.0f  %5.2f    | %8.1f          %5.2f   (goal >= 0.25)\n", a, a / s, ac, sc / ac
    printf "  code exchange (PKCE, ES256)           %8.0f  %5.2f    | %8.1f          %5.2f   (goal >= 0.25)\n", e, e / s, ec, sc / ec
    exit (a / s >= 0.25 && e / s >= 0.25) ? 0 : 2
}'
