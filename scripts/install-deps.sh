#!/bin/sh
# Installs what building, the demo and the tests need on Debian 12 (as root).
# Idempotent: packages already present are left as they are.
set -e
PKGS="build-essential autoconf pkg-config apache2 apache2-dev
      libapr1-dev libaprutil1-dev libaprutil1-dbd-sqlite3 libssl-dev
      libjansson-dev libxml2-dev libsqlite3-dev sqlite3 openssl curl
      libcurl4-openssl-dev libaprutil1-dbd-pgsql libpq-dev"
# The PostgreSQL server, for the tests and the demo's --pgsql (a private
# instance each; the registry itself needs only the client side above).
if [ "$1" = "--tests" ] || [ "$1" = "--pgsql" ]; then
    PKGS="$PKGS postgresql"
fi
if [ "$1" = "--tests" ]; then
    # The browser tests: Debian's Chromium driven by python3-selenium
    # through chromedriver (no npm).
    PKGS="$PKGS python3-pytest python3-requests python3-jwt python3-jwcrypto
          python3-authlib python3-lxml python3-requests-oauthlib groff-base
          python3-selenium wrk valgrind chromium chromium-driver fonts-dejavu-core
          clang libclang-rt-14-dev libapache2-mod-auth-openidc"
    # The demo's test and the authorization tests drive openid-client with
    # Node.js. The machine image may ship its own Node.js with npm (which
    # conflicts with Debian's npm package): take Debian's only when there is
    # none.
    command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
    command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"
fi
if [ "$1" = "--bench" ]; then
    # bench/: wrk; compare.py's peers; the profilers of perf_where.py and
    # the callgrind_*.py scripts.
    PKGS="$PKGS python3-jwt wrk libapache2-mod-auth-openidc
          libapache2-mod-oauth2 linux-perf valgrind"
fi
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
        || missing="$missing $p"
done
if [ -n "$missing" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing
fi
