#!/usr/bin/env bash
# smoke.sh - the suite's short run of every libFuzzer target (registered by
# tests/CMakeLists.txt as fuzz_smoke). The suite itself is built with gcc, and libFuzzer is
# clang's, so this configures and builds its own clang build (LBIPAM_FUZZ=ON) under
# $LBIPAM_FUZZ_BUILD, then runs each target on a copy of its seed corpus for
# $LBIPAM_FUZZ_SECONDS (default 15). Any crash, leak, sanitizer report or failed build fails.
#
# Environment: LBIPAM_SOURCE (the source tree), LBIPAM_FUZZ_BUILD (build dir),
# LBIPAM_FUZZ_SECONDS.
set -euo pipefail

src=${LBIPAM_SOURCE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
build=${LBIPAM_FUZZ_BUILD:-$src/build-fuzz}
seconds=${LBIPAM_FUZZ_SECONDS:-15}
targets=(fuzz_netaddr fuzz_selector fuzz_pool_decode fuzz_alloc_decode)

command -v clang >/dev/null || {
    echo "FAIL [fuzz_smoke]: clang is missing (scripts/deps.sh test installs it)" >&2
    exit 1
}
CC=clang cmake -S "$src" -B "$build" -DLBIPAM_FUZZ=ON -DLBIPAM_TESTS=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target "${targets[@]}"

work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-smoke.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
status=0
for t in "${targets[@]}"; do
    mkdir -p "$work/$t"
    cp "$src/tests/fuzz/corpus/$t/"* "$work/$t/"
    log=$work/$t.log
    # -artifact_prefix keeps crash files out of the source tree.
    if "$build/tests/fuzz/$t" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="$work/" "$work/$t" >"$log" 2>&1; then
        printf 'ok [fuzz_smoke]: %s: %s\n' "$t" "$(grep -E '^stat::number_of_executed_units' "$log")"
    else
        cat "$log" >&2
        printf 'FAIL [fuzz_smoke]: %s found a problem (log above)\n' "$t" >&2
        status=1
    fi
done
exit "$status"
