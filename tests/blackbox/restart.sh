#!/usr/bin/env bash
# restart.sh - allocations survive a clean restart unchanged: start lbipamd on a fresh file,
# create a cluster and a dual-stack pool, allocate 50 services (single stack, dual stack,
# requested IPs, shared IPs), record every allocation (all pages, bodies as served), SIGTERM
# (exit status must be 0), check the file with PRAGMA integrity_check, start again on the
# same file and compare the pages byte for byte. A new allocation after the restart must not
# get an address that was already held.
set -euo pipefail
# shellcheck source=common.bash source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
command -v sqlite3 >/dev/null || bb_fail "sqlite3 is missing (scripts/deps.sh test installs it)"

db=$bb_tmp/lbipam.db
bb_start "$db"

bb_api POST /v1/clusters '{"name": "c1", "labels": {"env": "test"}}' >/dev/null
bb_api POST /v1/pools '{"name": "p1", "blocks": [{"cidr": "10.1.0.0/24"},
    {"start": "10.1.1.10", "stop": "10.1.1.40"}, {"cidr": "2001:db8:1::/64"}]}' >/dev/null
bb_ok "created cluster c1 and pool p1"

n=0
for ns in alpha beta gamma delta epsilon; do
    for i in 0 1 2 3 4 5 6 7 8 9; do
        svc="svc-$i"
        case $i in
        0 | 1) body='{"ipFamilyPolicy": "PreferDualStack", "labels": {"tier": "web"}}' ;;
        2) body='{"ipFamilies": ["IPv6"]}' ;;
        3) body="{\"requestedIPs\": [\"10.1.1.$((10 + n / 10))\"], \"externalRef\": \"CHG-$n\"}" ;;
        4 | 5) body="{\"sharingKey\": \"dns-$ns\", \"ports\": [{\"port\": 5$i, \"protocol\": \"UDP\"}]}" ;;
        *) body="{\"labels\": {\"n\": \"$n\"}, \"managedBy\": \"lbipam-sync\"}" ;;
        esac
        bb_api PUT "/v1/allocations/c1/$ns/$svc" "$body" >/dev/null
        n=$((n + 1))
    done
done
bb_ok "allocated $n services"

before=$bb_tmp/before.pages
count=$(bb_all_allocations "$before")
[[ $count == "$n" ]] || bb_fail "GET /v1/allocations lists $count allocations, expected $n"
bb_ok "listed all $count allocations over $(wc -l <"$before") pages"
jq -r '.items[].addresses[].ip' "$before" | sort -u >"$bb_tmp/held.txt"
jq -s -e '[.[].items[] | select((.addresses | length) == 0)] | length == 0' "$before" >/dev/null ||
    bb_fail "some allocation has no address"

bb_stop
[[ $bb_exit == 0 ]] || bb_fail "lbipamd exited with status $bb_exit after SIGTERM, expected 0"
bb_ok "SIGTERM: exit 0"

check=$(sqlite3 "$db" 'PRAGMA integrity_check;')
[[ $check == ok ]] || bb_fail "PRAGMA integrity_check: $check"
fk=$(sqlite3 "$db" 'PRAGMA foreign_key_check;')
[[ -z $fk ]] || bb_fail "PRAGMA foreign_key_check: $fk"
bb_ok "PRAGMA integrity_check = ok, foreign_key_check clean"

bb_start "$db"
after=$bb_tmp/after.pages
count=$(bb_all_allocations "$after")
if ! cmp -s "$before" "$after"; then
    diff "$before" "$after" >&2 || true
    bb_fail "the allocations differ after the restart"
fi
bb_ok "after the restart the $count allocations are byte-for-byte identical"

new=$(bb_api PUT /v1/allocations/c1/alpha/newcomer '{}')
new_ip=$(jq -r '.addresses[0].ip' <<<"$new")
if grep -qxF "$new_ip" "$bb_tmp/held.txt"; then
    bb_fail "a new allocation after the restart got $new_ip, which was already held"
fi
bb_ok "a new allocation after the restart gets a free address ($new_ip)"

bb_stop
[[ $bb_exit == 0 ]] || bb_fail "lbipamd exited with status $bb_exit after the second SIGTERM"
check=$(sqlite3 "$db" 'PRAGMA integrity_check;')
[[ $check == ok ]] || bb_fail "PRAGMA integrity_check after the second run: $check"
bb_ok "second run: exit 0, integrity_check = ok"
bb_pass
