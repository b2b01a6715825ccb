#!/bin/sh
# Browser tests of the console (called by tests/run): Debian's headless
# Chromium driven by python3-selenium through chromedriver (no npm, no
# browser download) against a private httpd with the module, its issuer
# and the console behind Basic auth (server.py). Arguments go to pytest.
# Screenshots go to tests/artifacts/screenshots/.
set -e
cd "$(dirname "$0")"
mkdir -p ../artifacts/screenshots
exec timeout 900 /usr/bin/python3 -m pytest -q -p no:cacheprovider \
    --rootdir=. -c /dev/null . "$@"
