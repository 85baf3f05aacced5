#!/usr/bin/env bash
# fault_kill9.sh - kill -9 of lbipamd in the middle of a 64-connection allocation load, N times
# (3 in the suite, 20 under scripts/faults-full.sh), on one database. After each restart:
# PRAGMA integrity_check is ok, every allocation that got a 2xx (in any round so far) is
# present with the same IP, in the tables (sqlite3) and through the API, and no IP is held
# twice. A 2xx is sent only after a durable COMMIT, so nothing acknowledged may be lost.
set -euo pipefail
# shellcheck source=common.bash source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
# shellcheck source=fault.bash source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/fault.bash"

rounds=$(fb_size 3 20)
db=$bb_tmp/lbipam.db
fb_start "$db"
fb_setup "$db" "$bb_port"

for ((r = 1; r <= rounds; r++)); do
    before=$(fb_acked_count)
    fb_load_start "$db" "$bb_port" "k$r-" 64 60
    # Kill while the load runs: after a round-dependent number of acknowledged allocations
    # (20 to 400 more), so the kill lands at varied points of the writer's cycle.
    fb_wait_acked $((before + 20 + (r * 97) % 380))
    kill -KILL "$bb_pid"
    wait "$bb_pid" 2>/dev/null || true
    bb_pid=""
    kill -TERM "$fb_load_pid" 2>/dev/null || true
    wait "$fb_load_pid" 2>/dev/null || true
    fb_start "$db"
    checked=$(fb_verify "$db" "$bb_port")
    bb_ok "round $r: killed after $(($(fb_acked_count) - before)) acknowledged allocations;" \
        "after restart integrity_check ok, all $checked acknowledged allocations present" \
        "with the same IP, no IP held twice"
done

# The allocator still hands out only free addresses after all those crashes.
new=$(fb_call "$db" "$bb_port" PUT /v1/allocations/c1/load/after-crashes '{}')
ip=$(jq -r '.addresses[0].ip' <<<"$new")
if cut -d' ' -f2 "$bb_tmp/api.pairs" | grep -qxF "$ip"; then
    bb_fail "a new allocation got $ip, which was already held"
fi
bb_stop
[[ $bb_exit == 0 ]] || bb_fail "lbipamd exited with status $bb_exit after SIGTERM"
bb_ok "kill -9 x $rounds: $(fb_acked_count) acknowledged allocations checked in total"
bb_pass
