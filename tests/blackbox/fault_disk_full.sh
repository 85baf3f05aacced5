#!/usr/bin/env bash
# fault_disk_full.sh - the database on a small tmpfs made by the test (needs root), which is
# then filled: writes get 503 with reason store_unavailable and a detail saying the disk is
# full, /readyz is 503, reads keep working and show every acknowledged allocation, nothing is
# corrupted (integrity_check); when space returns, /readyz is 200 again and writes resume.
set -euo pipefail
# shellcheck source=common.bash source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
# shellcheck source=fault.bash source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/fault.bash"
fb_need_root

mnt=$bb_tmp/mnt
mkdir -p "$mnt"
mount -t tmpfs -o size=16m,mode=0700 lbipam-test "$mnt" ||
    bb_fail "cannot mount a tmpfs at $mnt (this test needs root with CAP_SYS_ADMIN)"
fb_mounts+=("$mnt")
db=$mnt/lbipam.db
fb_start "$db"
fb_setup "$db" "$bb_port"
fb_load_start "$db" "$bb_port" "d" 16 1
wait "$fb_load_pid" || bb_fail "wrk failed: $(cat "$bb_tmp/wrk.d.out")"
bb_ok "$(fb_acked_count) allocations before the disk fills"

# Fill the filesystem (dd stops at ENOSPC), then write until SQLite needs a page it cannot
# get: a commit may still fit in WAL space already allocated, so a few may succeed first.
dd if=/dev/zero of="$mnt/filler" bs=64k status=none 2>/dev/null || true
status="" out=""
for ((i = 0; i < 2000; i++)); do
    out=$(fb_curl "$db" "$bb_port" PUT "/v1/allocations/c1/load/full-$i" '{"description": "'"$(printf 'x%.0s' {1..200})"'"}')
    status=${out##*$'\n'}
    [[ $status == 2* ]] && printf 'full-%d %s\n' "$i" \
        "$(jq -r '.addresses[0].ip' <<<"${out%$'\n'*}")" >>"$fb_acked/acked.full"
    [[ $status == 503 ]] && break
    [[ $status == 2* ]] || bb_fail "PUT on a full disk: $status, expected 2xx or 503: $out"
done
[[ $status == 503 ]] || bb_fail "no write failed after $i PUTs on a full disk"
body=${out%$'\n'*}
[[ $(jq -r .reason <<<"$body") == store_unavailable ]] || bb_fail "503 reason: $body"
jq -r .detail <<<"$body" | grep -qi 'disk is full' || bb_fail "503 detail does not say the disk is full: $body"
bb_ok "disk full after $i more writes: PUT -> 503 store_unavailable, detail '$(jq -r .detail <<<"$body")'"

out=$(fb_curl "$db" "$bb_port" GET /readyz)
[[ ${out##*$'\n'} == 503 ]] || bb_fail "/readyz on a full disk: $out"
checked=$(fb_verify "$db" "$bb_port")
bb_ok "while full: /readyz 503, reads serve all $checked acknowledged allocations," \
    "integrity_check ok, no IP held twice"

rm -f "$mnt/filler"
ready=""
for ((i = 0; i < 300; i++)); do # /readyz probes with a write 5 s after the last refusal
    out=$(fb_curl "$db" "$bb_port" GET /readyz)
    if [[ ${out##*$'\n'} == 200 ]]; then
        ready=yes
        break
    fi
    sleep 0.1
done
[[ -n $ready ]] || bb_fail "/readyz did not return to 200 within 30 s after space returned: $out"
out=$(fb_curl "$db" "$bb_port" PUT /v1/allocations/c1/load/after-full '{}')
[[ ${out##*$'\n'} == 201 ]] || bb_fail "PUT after space returned: $out"
printf 'after-full %s\n' "$(jq -r '.addresses[0].ip' <<<"${out%$'\n'*}")" >>"$fb_acked/acked.full"
fb_load_start "$db" "$bb_port" "e" 16 1
wait "$fb_load_pid" || bb_fail "wrk failed: $(cat "$bb_tmp/wrk.e.out")"
checked=$(fb_verify "$db" "$bb_port")
bb_ok "space back: /readyz 200, writes resume; all $checked acknowledged allocations present"

bb_stop
[[ $bb_exit == 0 ]] || bb_fail "lbipamd exited with status $bb_exit after SIGTERM"
check=$(sqlite3 "$db" 'PRAGMA integrity_check;')
[[ $check == ok ]] || bb_fail "PRAGMA integrity_check after stop: $check"
bb_pass
