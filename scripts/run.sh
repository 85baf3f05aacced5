#!/usr/bin/env bash
# run.sh - the README's run command: install what is missing, build a Release lbipamd into
# build/, and run it in the foreground on 127.0.0.1:8080 with ./lbipam.db (relative to the
# directory you run this from). Extra arguments are passed to lbipamd and override the
# defaults, e.g. `./scripts/run.sh --listen '[::1]:8080' --log-level debug`.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

"$root/scripts/deps.sh" build

# The test suite is not built here (it needs Criterion); scripts/test.sh builds it.
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release -DLBIPAM_TESTS=OFF >/dev/null
cmake --build "$root/build" --target lbipamd -j "$(nproc)"

exec "$root/build/server/lbipamd" --listen 127.0.0.1:8080 --db ./lbipam.db "$@"
