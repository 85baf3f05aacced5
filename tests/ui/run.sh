#!/usr/bin/env bash
# run.sh - CTest's entry to the dashboard's end-to-end test (dashboard.test.mjs): checks that
# what it needs is installed (scripts/deps.sh test installs Debian's chromium and, with
# `npm ci`, the pinned playwright-core) and fails clearly otherwise; it never skips.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "$here/../.." && pwd)

fail() {
    printf 'not ok - %s\n0 passed, 1 failed\n' "$*"
    exit 1
}
command -v node >/dev/null || fail "node is missing (scripts/deps.sh test installs it)"
[[ -x ${CHROMIUM:-/usr/bin/chromium} ]] ||
    fail "/usr/bin/chromium is missing: run scripts/deps.sh test (Debian package chromium)"
[[ -f $source_dir/node_modules/playwright-core/package.json ]] ||
    fail "node_modules/playwright-core is missing: run scripts/deps.sh test (npm ci)"
want=$(jq -r '.dependencies["playwright-core"]' "$source_dir/package.json")
have=$(jq -r .version "$source_dir/node_modules/playwright-core/package.json")
[[ $want == "$have" ]] || fail "node_modules has playwright-core $have, package.json pins $want: npm ci"

# Never let playwright fetch a browser or phone home.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 PLAYWRIGHT_BROWSERS_PATH=0
exec timeout 300 node "$here/dashboard.test.mjs"
