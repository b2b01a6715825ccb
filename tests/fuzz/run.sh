#!/bin/sh
# Runs each libFuzzer target for a bounded time and prints, per target, the
# executions and whether it crashed (fails when one did).
#   tests/fuzz/run.sh [SECONDS [TARGET...]]     default 60 s, every target
# Builds them first (make fuzz). What the fuzzers find stays in
# build/fuzz/corpus/TARGET (used again next run), crashes in
# build/fuzz/crashes/, each target's output in build/fuzz/logs/TARGET.log.
# Replay one input: build/fuzz/fuzz_TARGET FILE.
set -e
cd "$(dirname "$0")/../.."
secs=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-"jws jwks form basic console_form console_cookie"}
make -s -j2 fuzz
mkdir -p build/fuzz/crashes build/fuzz/logs
failed=0
printf '%-16s %12s %10s  %s\n' target executions exec/s result
for t in $targets; do
    seeds=tests/fuzz/corpus/$t
    extra=""
    max_len=4096
    case $t in
        # the attack corpus of the unit tests, as more seeds
        jws) extra=tests/unit/corpus; max_len=16384 ;;
        jwks) max_len=16384 ;;
    esac
    mkdir -p "build/fuzz/corpus/$t"
    log=build/fuzz/logs/$t.log
    rc=0
    "build/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=10 \
        -max_len=$max_len -use_value_profile=1 -print_final_stats=1 \
        -artifact_prefix="build/fuzz/crashes/$t-" \
        "build/fuzz/corpus/$t" "$seeds" $extra >"$log" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    if [ $rc -eq 0 ]; then
        result="0 crashes"
    else
        failed=1
        result="CRASH (exit $rc): $(sed -n 's/^artifact_prefix.*Test unit written to //p' "$log" | tail -1), see $log"
    fi
    printf '%-16s %12s %10s  %s\n' "$t" "${execs:-?}" "${speed:-?}" "$result"
done
exit $failed
