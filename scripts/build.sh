#!/bin/sh
# Configures (once) and builds the module, the library and token-admin.
set -e
cd "$(dirname "$0")/.."
[ -x configure ] && [ configure -nt configure.ac ] || autoconf
[ -f Makefile ] && [ Makefile -nt Makefile.in ] && [ Makefile -nt configure ] \
    || ./configure -q
make -s -j2
