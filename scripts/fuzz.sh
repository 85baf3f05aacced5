#!/usr/bin/env bash
# fuzz.sh - runs every libFuzzer target long (default 10 minutes each, two at a time), keeping
# the corpus it grows in build-fuzz/work/<target> and any crash in build-fuzz/artifacts/.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]. Prints each target's executions at the end.
# The seed corpus in tests/fuzz/corpus/ is read, never written.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${LBIPAM_FUZZ_BUILD:-$root/build-fuzz}
seconds=${1:-600}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(fuzz_netaddr fuzz_selector fuzz_pool_decode fuzz_alloc_decode)

CC=clang cmake -S "$root" -B "$build" -DLBIPAM_FUZZ=ON -DLBIPAM_TESTS=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target "${targets[@]}"
mkdir -p "$build/artifacts" "$build/logs"

run() {
    local t=$1
    mkdir -p "$build/work/$t"
    "$build/tests/fuzz/$t" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="$build/artifacts/$t-" "$build/work/$t" "$root/tests/fuzz/corpus/$t" \
        >"$build/logs/$t.log" 2>&1
}

status=0
for ((i = 0; i < ${#targets[@]}; i += 2)); do
    pids=()
    for t in "${targets[@]:i:2}"; do
        run "$t" &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || status=1; done
done
for t in "${targets[@]}"; do
    printf '%-20s %s\n' "$t" "$(grep -E '^stat::number_of_executed_units' "$build/logs/$t.log" || echo 'no stats (crashed?)')"
done
exit "$status"
