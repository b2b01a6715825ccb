#!/bin/sh
# Per-page time of the console's applications list with 10 and with 10,000
# applications: the CGI binary is run directly (as httpd's mod_cgid would)
# in a loop, so the figure is the console's own cost without the network.
# The list pages in SQL (LIMIT/OFFSET), so both figures should be close.
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

# Runs one GET RUNS times; prints the mean milliseconds per page.
page_ms() {
    reg=$1 path=$2 query=$3
    start=$(date +%s%N)
    i=0
    while [ $i -lt "$RUNS" ]; do
        GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET REMOTE_USER=bench \
        SCRIPT_NAME=/admin PATH_INFO="$path" QUERY_STRING="$query" \
        AUTH_TOKEN_REGISTRY="$reg" AUTH_TOKEN_CONSOLE_HTDOCS="$PWD/htdocs" \
            "$TOKEN_ADMIN" > "$WORK/out"
        i=$((i + 1))
    done
    end=$(date +%s%N)
    grep -q '^Status: 200' "$WORK/out" || { echo "not 200:"; head -3 "$WORK/out"; exit 1; }
    awk -v s="$start" -v e="$end" -v n="$RUNS" \
        'BEGIN { printf "%.2f", (e - s) / 1000000 / n }'
}

printf '%-8s %-34s %10s\n' apps page "ms/page"
for n in 10 10000; do
    reg="$WORK/registry-$n.db"
    bench/bench_console_seed "$reg" "$n"
    last=$(( (n + 24) / 25 ))
    for case in "/apps|" "/apps|page=$last" "/apps|q=app-000007" "/|" "/audit|"; do
        path=${case%%|*} query=${case#*|}
        printf '%-8s %-34s %10s\n' "$n" "$path?$query" "$(page_ms "$reg" "$path" "$query")"
    done
done
