#!/usr/bin/env bash
# test.sh - the README's test command and what CI runs (.ci/run): install what is missing,
# build everything with AddressSanitizer + UndefinedBehaviorSanitizer into build-asan/, and
# run the whole suite (unit, API, black-box, the OpenAPI lint) with CTest. Exits non-zero on
# any failure. Extra arguments go to ctest (e.g. `-R blackbox`).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$root/build-asan"

"$root/scripts/deps.sh" test

# Explicit, so that a stray environment cannot weaken them: leaks are errors, the first report
# aborts the process (CTest's FAIL_REGULAR_EXPRESSION catches the text as well).
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# @redocly/cli must not try to reach the internet from the tests.
export REDOCLY_TELEMETRY=off
export REDOCLY_SUPPRESS_UPDATE_NOTICE=true

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DLBIPAM_SANITIZE=ON -DLBIPAM_TESTS=ON
cmake --build "$build" -j "$(nproc)"
ctest --test-dir "$build" --output-on-failure --no-tests=error -j2 "$@"
