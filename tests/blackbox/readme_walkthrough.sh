#!/usr/bin/env bash
# readme_walkthrough.sh - the README's curl walkthrough works verbatim against a fresh
# database: the block between <!-- walkthrough:begin --> and <!-- walkthrough:end --> is run
# with `set -euo pipefail` and curl failing on any HTTP error (--fail-with-body), with only
# 127.0.0.1:8080 rewritten to this test's port. Then the allocation's IP must be the one the
# address lookup reports as allocated to default/web, and free after the release.
set -euo pipefail
# shellcheck source=common.bash source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"

readme=$LBIPAM_SOURCE/README.md
[[ -f $readme ]] || bb_fail "no $readme"

block=$bb_tmp/walkthrough.sh
# The shell code of the fenced block(s) between the markers, without the fences.
awk '/<!-- walkthrough:begin -->/ {on = 1; next}
     /<!-- walkthrough:end -->/ {on = 0}
     on && /^```/ {fence = !fence; next}
     on && fence {print}' "$readme" >"$block"
[[ -s $block ]] || bb_fail "README.md has no walkthrough block between the markers"
grep -q '127.0.0.1:8080' "$block" || bb_fail "the walkthrough does not talk to 127.0.0.1:8080"
bb_ok "extracted $(grep -c '^curl' "$block") curl commands from README.md"

bb_start "$bb_tmp/lbipam.db"
sed -i "s/127\.0\.0\.1:8080/127.0.0.1:$bb_port/g" "$block"

out=$bb_tmp/walkthrough.out
if ! bash -c '
    set -euo pipefail
    # curl -fsS semantics, but keep the problem body so that a failure says why.
    curl() { command curl --fail-with-body --max-time 30 "$@"; }
    cd "$2" # where run.sh runs: ./lbipam.db and the ./admin.token lbipamd wrote beside it
    source "$1"' walkthrough "$block" "$bb_tmp" >"$out" 2>"$bb_tmp/walkthrough.err"; then
    cat "$out" "$bb_tmp/walkthrough.err" >&2
    bb_fail "the README walkthrough failed"
fi
bb_ok "the walkthrough ran without an HTTP error"

# Its output is a stream of JSON documents (jq . of each reply).
jq -s . "$out" >"$bb_tmp/docs.json" || bb_fail "the walkthrough printed something that is not JSON"
alloc_ip=$(jq -r '[.[] | select(type == "object" and has("addresses"))][0].addresses[0].ip // empty' \
    "$bb_tmp/docs.json")
[[ -n $alloc_ip ]] || bb_fail "no allocation with an address in the walkthrough output"
bb_ok "the allocation got $alloc_ip"

lookups=$(jq -c '[.[] | select(type == "object" and has("holders"))]' "$bb_tmp/docs.json")
[[ $(jq length <<<"$lookups") -ge 2 ]] || bb_fail "expected two address lookups, got: $lookups"
first=$(jq -c '.[0]' <<<"$lookups")
[[ $(jq -r .ip <<<"$first") == "$alloc_ip" ]] ||
    bb_fail "the lookup is about $(jq -r .ip <<<"$first"), not the allocated $alloc_ip"
[[ $(jq -r .state <<<"$first") == allocated ]] || bb_fail "lookup of $alloc_ip: $first"
jq -e '.holders | any(.cluster == "prod-eu-1" and .namespace == "default" and .service == "web")' \
    <<<"$first" >/dev/null || bb_fail "default/web is not among the holders: $first"
bb_ok "GET /v1/addresses/$alloc_ip: allocated to prod-eu-1/default/web"

last=$(jq -c '.[-1]' <<<"$lookups")
[[ $(jq -r .ip <<<"$last") == "$alloc_ip" && $(jq -r .state <<<"$last") == free ]] ||
    bb_fail "after the release, the lookup says $last"
bb_ok "after DELETE, $alloc_ip is free again"

bb_stop
[[ $bb_exit == 0 ]] || bb_fail "lbipamd exited with $bb_exit after SIGTERM"
bb_ok "SIGTERM: exit 0"
bb_pass
