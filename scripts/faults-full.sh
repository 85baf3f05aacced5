#!/usr/bin/env bash
# faults-full.sh - the durability and fault tests of issue 6 at full size: kill -9 in the
# middle of a 64-connection allocation load 20 times, two lbipamd on one database for 30 s,
# disk full, read-only database, 3 online backups under load. The suite runs the same scripts
# (tests/blackbox/fault_*.sh) at a small size. Needs root (tmpfs mount, chattr) and wrk.
#
#   scripts/faults-full.sh            builds a Release lbipamd into build-rel/ and uses it
#   LBIPAMD=path scripts/faults-full.sh   uses that binary (e.g. the sanitized build)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ -z ${LBIPAMD:-} ]]; then
    build=${BUILD:-$root/build-rel}
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" -j "$(nproc)" --target lbipamd >/dev/null
    LBIPAMD=$build/server/lbipamd
fi
export LBIPAMD LBIPAM_SOURCE=$root FAULT_SIZE=full
export LBIPAM_TEST_TMP=${LBIPAM_TEST_TMP:-${TMPDIR:-/tmp}/lbipam-faults}

failed=0
for t in "$root"/tests/blackbox/fault_*.sh; do
    name=$(basename "$t" .sh)
    start=$SECONDS
    if bash "$t"; then
        echo "== $name: passed in $((SECONDS - start)) s"
    else
        echo "== $name: FAILED after $((SECONDS - start)) s"
        failed=$((failed + 1))
    fi
done
((failed == 0)) || {
    echo "faults-full.sh: $failed fault tests failed" >&2
    exit 1
}
echo "faults-full.sh: every fault test passed at full size"
