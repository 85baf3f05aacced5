#!/usr/bin/env bash
# fault_readonly.sh - a database file lbipamd can open only for reading: lbipamd starts and
# serves reads (every allocation made before), /readyz is 503, writes get 503 with reason
# store_unavailable and a detail saying the database is read-only; nothing is corrupted, and
# once the file is writable again a restarted lbipamd accepts writes.
# The file is made immutable (chattr +i, needs root): root ignores permission bits, and a
# read-only mount would also forbid the -wal and -shm files SQLite needs beside a WAL database.
set -euo pipefail
# shellcheck source=common.bash source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
# shellcheck source=fault.bash source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/fault.bash"
fb_need_root
command -v chattr >/dev/null || bb_fail "chattr is missing (e2fsprogs)"

db=$bb_tmp/lbipam.db
fb_start "$db"
fb_setup "$db" "$bb_port"
fb_load_start "$db" "$bb_port" "r" 16 1
wait "$fb_load_pid" || bb_fail "wrk failed: $(cat "$bb_tmp/wrk.r.out")"
bb_stop
[[ $bb_exit == 0 ]] || bb_fail "lbipamd exited with status $bb_exit after SIGTERM"
chattr +i "$db" || bb_fail "cannot make $db immutable (chattr +i needs root and ext2/3/4, xfs or btrfs)"
fb_immutable+=("$db")
bb_ok "$(fb_acked_count) allocations made; database file now read-only (immutable)"

fb_start "$db"
out=$(fb_curl "$db" "$bb_port" GET /readyz)
[[ ${out##*$'\n'} == 503 ]] || bb_fail "/readyz on a read-only database: $out"
out=$(fb_curl "$db" "$bb_port" PUT /v1/allocations/c1/load/ro-1 '{}')
[[ ${out##*$'\n'} == 503 ]] || bb_fail "PUT on a read-only database: $out"
body=${out%$'\n'*}
[[ $(jq -r .reason <<<"$body") == store_unavailable ]] || bb_fail "503 reason: $body"
jq -r .detail <<<"$body" | grep -qi 'read-only' || bb_fail "503 detail does not say read-only: $body"
out=$(fb_curl "$db" "$bb_port" DELETE "/v1/allocations/c1/load/$(head -n1 "$fb_acked"/acked.1 | cut -d' ' -f1)")
[[ ${out##*$'\n'} == 503 ]] || bb_fail "DELETE on a read-only database: $out"
checked=$(fb_verify "$db" "$bb_port")
bb_ok "read-only: /readyz 503, PUT and DELETE 503 ('$(jq -r .detail <<<"$body")')," \
    "reads serve all $checked acknowledged allocations, integrity_check ok"
bb_stop
[[ $bb_exit == 0 ]] || bb_fail "lbipamd exited with status $bb_exit after SIGTERM (read-only)"

chattr -i "$db"
fb_start "$db"
out=$(fb_curl "$db" "$bb_port" GET /readyz)
[[ ${out##*$'\n'} == 200 ]] || bb_fail "/readyz after the file is writable again: $out"
out=$(fb_curl "$db" "$bb_port" PUT /v1/allocations/c1/load/rw-1 '{}')
[[ ${out##*$'\n'} == 201 ]] || bb_fail "PUT after the file is writable again: $out"
printf 'rw-1 %s\n' "$(jq -r '.addresses[0].ip' <<<"${out%$'\n'*}")" >>"$fb_acked/acked.rw"
checked=$(fb_verify "$db" "$bb_port")
bb_stop
[[ $bb_exit == 0 ]] || bb_fail "lbipamd exited with status $bb_exit after SIGTERM"
bb_ok "writable again: /readyz 200, writes accepted, all $checked allocations present"
bb_pass
