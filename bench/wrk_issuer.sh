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
PORT=${PORT:-18480}
. bench/wrk_lib.sh

bench_root issuer api plain

# One application with the client_credentials grant.
REG=$ROOT/var/registry.db
set -- $(register_app "$REG" --name bench --grant client_credentials)
CLIENT_ID=$1; SECRET=$2

{
httpd_conf_head authz_user
issuer_conf "\"$REG\"" token introspect
bearer_conf
} > "$ROOT/conf/httpd.conf"

start_httpd /static.txt

TOKEN=$(cc_grant "$CLIENT_ID" "$SECRET" | json_field access_token)
# A revoked token elsewhere, so the cache holds something real.
OTHER=$(cc_grant "$CLIENT_ID" "$SECRET" | json_field access_token)
"$ADMIN" --registry "$REG" token revoke --jti "$(token_jti "$OTHER")" >/dev/null
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL/api/data.txt")" = 200 ] \
    || { echo "protected file refused the token" >&2; exit 1; }

post_lua token grant_type=client_credentials "$CLIENT_ID:$SECRET"
post_lua introspect "token=$TOKEN" "$CLIENT_ID:$SECRET"

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

# The check's share of httpd's CPU time (perf, optional) during one more
# run of the checked file.
SHARE=$(perf_share at_revocation_is_revoked \
        -H "Authorization: Bearer $TOKEN" "$URL/api/data.txt")

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
