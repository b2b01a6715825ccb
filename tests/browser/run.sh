#!/bin/sh
# Browser tests of the console (called by tests/run): headless Debian
# Chromium driven by playwright-core (no browser download) against a private
# httpd with the module, its issuer and the console behind Basic auth.
# Screenshots go to tests/artifacts/screenshots/.
set -e
cd "$(dirname "$0")"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ ! -d node_modules/playwright-core ]; then
    if [ -f package-lock.json ]; then
        npm ci --no-audit --no-fund --loglevel=error
    else
        npm install --no-audit --no-fund --loglevel=error
    fi
fi
mkdir -p ../artifacts/screenshots
ENVFILE=$(mktemp /tmp/at-browser-env.XXXXXX)
cleanup() {
    [ -s "$ENVFILE" ] && /usr/bin/python3 server.py stop "$ENVFILE"
    rm -f "$ENVFILE"
}
trap 'cleanup; exit 1' INT TERM
/usr/bin/python3 server.py start "$ENVFILE"
status=0
AT_BROWSER_ENV="$ENVFILE" timeout 300 node --test --test-concurrency=1 \
    console.test.mjs || status=$?
cleanup || status=1
exit $status
