#!/bin/bash
# run.sh - the end-to-end tests of lbipam-sync, as ctest calls them.
#   LBIPAMD      path to the lbipamd binary (required)
#   LBIPAM_SYNC  path to the lbipam-sync binary (required)
#   $1           optional filter on test names
# Prints one line per test and closes with "N passed, N failed"; exit status 1 on failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${LBIPAMD:?set LBIPAMD to the lbipamd binary}"
: "${LBIPAM_SYNC:?set LBIPAM_SYNC to the lbipam-sync binary}"
command -v node >/dev/null || { echo "node is required"; exit 1; }
command -v openssl >/dev/null || { echo "openssl is required"; exit 1; }
exec node "$here/e2e.mjs" "$@"
