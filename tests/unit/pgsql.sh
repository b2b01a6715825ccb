#!/bin/sh
# The registry's unit tests (test_registry*, test_jti_batch) a second time,
# against a private PostgreSQL started here (scripts/pg-private.sh) and
# stopped at the end; `make check` has run them against SQLite. Run after
# the build, from anywhere.
set -e
cd "$(dirname "$0")/../.."
dir=$(mktemp -d /tmp/at-pg-unit.XXXXXX)
trap 'scripts/pg-private.sh stop "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT INT TERM
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
conninfo=$(scripts/pg-private.sh start "$dir" "$port")
fail=0
for t in test_registry test_registry_authz test_registry_console test_registry_race \
         test_jti_batch; do
    echo "== tests/unit/$t (PostgreSQL)"
    (cd tests/unit && AT_TEST_REGISTRY="pgsql:$conninfo" ./$t) || fail=1
done
exit $fail
