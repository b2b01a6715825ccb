#!/bin/sh
# Per-page time of the console's applications list with 10 and with 10,000
# applications: the CGI binary is run directly (as httpd's mod_cgid would)
# in a loop, so the figure is the console's own cost without the network.
# The list pages in SQL (LIMIT/OFFSET), so both columns should be close.
# Runs of the two registries alternate and the median is reported, so that
# other load on the machine hits both alike.
#
#   bench/console_pages.sh [RUNS]        (default 200 runs per case)
#
# TOKEN_ADMIN may name another binary; everything else is built here.
set -e
cd "$(dirname "$0")/.."
RUNS=${1:-200}
TOKEN_ADMIN=${TOKEN_ADMIN:-admin-cgi/token-admin}
make -s bench/bench_console_seed
[ -x "$TOKEN_ADMIN" ] || make -s admin
WORK=$(mktemp -d /tmp/at-console-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# A private copy: a rebuild during the run must not pull it away.
cp "$TOKEN_ADMIN" "$WORK/token-admin"
TOKEN_ADMIN=$WORK/token-admin

# One GET of PATH?QUERY on registry REG; appends its microseconds to FILE.
# (sh has no local variables: the names are the function's own.)
one() {
    o_reg=$1 o_path=$2 o_query=$3 o_file=$4
    o_start=$(date +%s%N)
    GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET REMOTE_USER=bench \
    SCRIPT_NAME=/admin PATH_INFO="$o_path" QUERY_STRING="$o_query" \
    AUTH_TOKEN_REGISTRY="$o_reg" AUTH_TOKEN_CONSOLE_HTDOCS="$PWD/htdocs" \
        "$TOKEN_ADMIN" > "$WORK/out"
    o_end=$(date +%s%N)
    grep -q '^Status: 200' "$WORK/out" \
        || { echo "not 200 for $o_path?$o_query:"; head -3 "$WORK/out"; exit 1; }
    echo $(( (o_end - o_start) / 1000 )) >> "$o_file"
}

median_ms() {
    sort -n "$1" | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] / 1000 }'
}

bench/bench_console_seed "$WORK/r10.db" 10
bench/bench_console_seed "$WORK/r10000.db" 10000
printf '%-28s %14s %14s\n' "page (median ms per run)" "10 apps" "10,000 apps"
# Each case names its page for both registries; "last" is the last page.
for case in "/apps|" "/apps|page=2" "/apps|page=last" "/apps|q=app-000007" \
            "/|" "/audit|" "/audit|app=APP-000007" "/audit|actor=sed" \
            "/apps/new|"; do
    path=${case%%|*} query=${case#*|}
    : > "$WORK/t10"
    : > "$WORK/t10000"
    i=0
    while [ $i -lt "$RUNS" ]; do
        for n in 10 10000; do
            q=$query
            [ "$q" = "page=last" ] && q="page=$(( (n + 24) / 25 ))"
            one "$WORK/r$n.db" "$path" "$q" "$WORK/t$n"
        done
        i=$((i + 1))
    done
    printf '%-28s %14s %14s\n' "$path?$query" "$(median_ms "$WORK/t10")" \
        "$(median_ms "$WORK/t10000")"
done
