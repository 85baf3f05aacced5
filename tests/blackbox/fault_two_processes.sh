#!/usr/bin/env bash
# fault_two_processes.sh - two lbipamd processes on one database file, both under a
# 32-connection allocation load at once: both accept writes (SQLite's file lock and
# BEGIN IMMEDIATE serialise their writers), no IP is ever held twice, every 2xx is kept. Then
# the read-side fast path of a repeated PUT (answered by a reader without the writer) is
# checked across the processes: a PUT repeated on the other process returns the same address
# with 200, and after a DELETE on one process a PUT on the other allocates anew (201): no
# process answers from stale state.
set -euo pipefail
# shellcheck source=common.bash source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
# shellcheck source=fault.bash source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/fault.bash"

secs=$(fb_size 3 30)
db=$bb_tmp/lbipam.db
fb_start "$db"
fb_setup "$db" "$bb_port"
pid1=$bb_pid port1=$bb_port
fb_start "$db"
pid2=$bb_pid port2=$bb_port
fb_pids+=("$pid1")

fb_load_start "$db" "$port1" "p1-" 32 600
load1=$fb_load_pid
fb_load_start "$db" "$port2" "p2-" 32 600
load2=$fb_load_pid
# At least $secs s of load, and until each process has acknowledged writes (SQLite's lock is
# not fair: the process that just committed often takes it again first).
n1=0 n2=0
for ((i = 0; i < 600; i++)); do
    n1=$({ cat "$fb_acked"/acked.* 2>/dev/null || true; } | grep -c '^p1-' || true)
    n2=$({ cat "$fb_acked"/acked.* 2>/dev/null || true; } | grep -c '^p2-' || true)
    ((i >= secs * 10 && n1 > 0 && n2 > 0)) && break
    sleep 0.1
done
kill -INT "$load1" "$load2" 2>/dev/null || true
wait "$load1" 2>/dev/null || true
wait "$load2" 2>/dev/null || true
n1=$({ cat "$fb_acked"/acked.* || true; } | grep -c '^p1-' || true)
n2=$({ cat "$fb_acked"/acked.* || true; } | grep -c '^p2-' || true)
((n1 > 0 && n2 > 0)) || bb_fail "both processes must accept writes: $n1 and $n2 acknowledged in 60 s"
bad1=$(sed -n 's/^wrk-figure non2xx //p' "$bb_tmp/wrk.p1-.out")
bad2=$(sed -n 's/^wrk-figure non2xx //p' "$bb_tmp/wrk.p2-.out")
bb_ok "$((i / 10)) s of load on both: $n1 allocations acknowledged by process 1, $n2 by process 2" \
    "(non-2xx replies: ${bad1:-?} and ${bad2:-?})"

# Requests still in flight when wrk stopped may commit after it: a graceful stop of both
# finishes them, so the checks below see a settled database.
kill -TERM "$pid1"
wait "$pid1" || bb_fail "process 1 exited with status $? after SIGTERM"
bb_stop
[[ $bb_exit == 0 ]] || bb_fail "process 2 exited with status $bb_exit after SIGTERM"
bb_scan_log "$bb_tmp/lbipamd.0.log"
fb_start "$db"
pid1=$bb_pid port1=$bb_port
fb_pids+=("$pid1")
fb_start "$db"
pid2=$bb_pid port2=$bb_port
checked=$(fb_verify "$db" "$port1")
fb_api_pairs "$db" "$port2" >"$bb_tmp/api2.pairs"
cmp -s "$bb_tmp/api.pairs" "$bb_tmp/api2.pairs" || bb_fail "the two processes list different allocations"
bb_ok "integrity_check ok, all $checked acknowledged allocations present with the same IP," \
    "no IP held twice; both processes list the same $(wc -l <"$bb_tmp/api.pairs") allocations"

# The fast path of a repeated PUT, across the processes.
for i in 1 2 3 4 5 6 7 8 9 10; do
    body='{"labels": {"round": "'$i'"}}'
    out=$(fb_curl "$db" "$port1" PUT "/v1/allocations/c1/fast/svc-$i" "$body")
    [[ ${out##*$'\n'} == 201 ]] || bb_fail "first PUT of svc-$i on process 1: $out"
    ip1=$(jq -r '.addresses[0].ip' <<<"${out%$'\n'*}")
    out=$(fb_curl "$db" "$port2" PUT "/v1/allocations/c1/fast/svc-$i" "$body")
    [[ ${out##*$'\n'} == 200 ]] || bb_fail "repeated PUT of svc-$i on process 2: $out"
    ip2=$(jq -r '.addresses[0].ip' <<<"${out%$'\n'*}")
    [[ $ip1 == "$ip2" ]] || bb_fail "svc-$i: process 1 gave $ip1, the repeat on process 2 $ip2"
    out=$(fb_curl "$db" "$port2" DELETE "/v1/allocations/c1/fast/svc-$i")
    [[ ${out##*$'\n'} == 204 ]] || bb_fail "DELETE of svc-$i on process 2: $out"
    out=$(fb_curl "$db" "$port1" PUT "/v1/allocations/c1/fast/svc-$i" "$body")
    [[ ${out##*$'\n'} == 201 ]] ||
        bb_fail "PUT of svc-$i on process 1 after a DELETE on process 2 is stale: $out"
    out=$(fb_curl "$db" "$port2" GET "/v1/addresses/$ip1")
    [[ ${out##*$'\n'} == 200 ]] || bb_fail "GET /v1/addresses/$ip1 on process 2: $out"
done
bb_ok "repeated PUT, DELETE and PUT alternating between the processes: never stale"

dups=$(sqlite3 "$db" "SELECT count(*) FROM (SELECT ip FROM allocation_addresses GROUP BY ip
    HAVING count(*) > 1);")
[[ $dups == 0 ]] || bb_fail "$dups addresses held twice"
kill -TERM "$pid1"
wait "$pid1" || bb_fail "process 1 exited with status $? after SIGTERM"
bb_stop
[[ $bb_exit == 0 ]] || bb_fail "process 2 exited with status $bb_exit after SIGTERM"
bb_scan_log "$bb_tmp/lbipamd.2.log"
check=$(sqlite3 "$db" 'PRAGMA integrity_check;')
[[ $check == ok ]] || bb_fail "PRAGMA integrity_check after both stopped: $check"
bb_ok "both stopped cleanly; integrity_check ok"
bb_pass
