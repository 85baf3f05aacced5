#!/usr/bin/env bash
# openapi_lint.sh - openapi.yaml lints clean (no error, no warning: redocly.yaml extends
# recommended-strict) with the @redocly/cli pinned in package.json, and lbipamd serves the
# same document at GET /openapi.yaml. scripts/test.sh installs the pinned version with
# `npm ci`; without node_modules this test fails, it never skips.
set -euo pipefail
# shellcheck source=common.bash source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"

cd "$LBIPAM_SOURCE"
redocly=$LBIPAM_SOURCE/node_modules/.bin/redocly
if [[ ! -x $redocly ]]; then
    bb_fail "no $redocly: run 'scripts/deps.sh test' (npm ci) first; this test does not skip"
fi
command -v node >/dev/null || bb_fail "node is missing (scripts/deps.sh test installs it)"

want=$(jq -r '.dependencies["@redocly/cli"] // .devDependencies["@redocly/cli"]' package.json)
have=$(jq -r .version node_modules/@redocly/cli/package.json)
[[ $want == "$have" ]] ||
    bb_fail "node_modules has @redocly/cli $have, package.json pins $want: run npm ci"

# No telemetry, no update check: the tests never reach the internet.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1
out=$bb_tmp/lint.out
if ! timeout 120 "$redocly" lint --config redocly.yaml --format stylish openapi.yaml >"$out" 2>&1; then
    cat "$out"
    bb_fail "redocly lint openapi.yaml found problems"
fi
cat "$out"
# recommended-strict makes every finding an error, but be explicit: no warning either.
if grep -qiE 'warning' "$out"; then
    bb_fail "redocly lint reported warnings"
fi
bb_ok "redocly $have lint: clean"

bb_start "$bb_tmp/lbipam.db"
curl -sS --fail-with-body --max-time 10 -o "$bb_tmp/served.yaml" "$(bb_url /openapi.yaml)" ||
    bb_fail "GET /openapi.yaml failed"
cmp -s "$bb_tmp/served.yaml" openapi.yaml ||
    bb_fail "GET /openapi.yaml differs from openapi.yaml in the source tree (rebuild?)"
bb_ok "GET /openapi.yaml serves the linted document"
bb_stop
[[ $bb_exit == 0 ]] || bb_fail "lbipamd exited with status $bb_exit after SIGTERM"
bb_pass
