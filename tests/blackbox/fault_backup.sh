#!/usr/bin/env bash
# fault_backup.sh - `lbipamd backup --to FILE` while a 64-connection allocation load writes to
# the same database: the copy passes PRAGMA integrity_check, and a new lbipamd on the copy
# serves every allocation acknowledged before the backup started, with the same IP, none
# twice. The backup refuses to overwrite an existing file.
set -euo pipefail
# shellcheck source=common.bash source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
# shellcheck source=fault.bash source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/fault.bash"

rounds=$(fb_size 2 3)
db=$bb_tmp/lbipam.db
fb_start "$db"
fb_setup "$db" "$bb_port"
pid=$bb_pid port=$bb_port
fb_pids+=("$pid")
fb_load_start "$db" "$port" "b" 64 600
load=$fb_load_pid

for ((r = 1; r <= rounds; r++)); do
    fb_wait_acked $((r * 300))
    # Acknowledged before the backup starts: must all be in the copy.
    { cat "$fb_acked"/acked.* || true; } | sort -u >"$bb_tmp/before.$r"
    mkdir -p "$bb_tmp/copy$r"
    copy=$bb_tmp/copy$r/lbipam.db
    "$LBIPAMD" backup --db "$db" --to "$copy" 2>"$bb_tmp/backup.$r.err" ||
        bb_fail "lbipamd backup failed: $(cat "$bb_tmp/backup.$r.err")"
    after=$(fb_acked_count)
    kill -0 "$load" 2>/dev/null || bb_fail "the load stopped before the backup ended"
    check=$(sqlite3 "$copy" 'PRAGMA integrity_check;')
    [[ $check == ok ]] || bb_fail "PRAGMA integrity_check of the backup: $check"
    cp "$(dirname "$db")/admin.token" "$(dirname "$copy")/" 2>/dev/null || true
    fb_start "$copy"
    checked=$(fb_verify "$copy" "$bb_port" "$bb_tmp/before.$r")
    out=$(fb_curl "$copy" "$bb_port" GET /readyz)
    [[ ${out##*$'\n'} == 200 ]] || bb_fail "/readyz of lbipamd on the backup: $out"
    out=$(fb_curl "$copy" "$bb_port" PUT /v1/allocations/c1/load/on-the-copy '{}')
    [[ ${out##*$'\n'} == 201 ]] || bb_fail "PUT on the backup: $out"
    bb_stop
    [[ $bb_exit == 0 ]] || bb_fail "lbipamd on the backup exited with status $bb_exit"
    bb_ok "backup $r under load: integrity_check ok; a new lbipamd on it serves all $checked" \
        "allocations acknowledged before it started ($((after - $(wc -l <"$bb_tmp/before.$r"))) more were acknowledged during it) and accepts writes"
done

if "$LBIPAMD" backup --db "$db" --to "$bb_tmp/copy1/lbipam.db" 2>"$bb_tmp/backup.err"; then
    bb_fail "lbipamd backup overwrote an existing file"
fi
grep -q 'exists' "$bb_tmp/backup.err" || bb_fail "backup onto an existing file: $(cat "$bb_tmp/backup.err")"
bb_ok "backup onto an existing file is refused: $(cat "$bb_tmp/backup.err")"

kill -TERM "$load" 2>/dev/null || true
wait "$load" 2>/dev/null || true
bb_pid=$pid bb_port=$port
checked=$(fb_verify "$db" "$bb_port")
bb_stop
[[ $bb_exit == 0 ]] || bb_fail "lbipamd exited with status $bb_exit after SIGTERM"
bb_ok "the source database: all $checked acknowledged allocations present"
bb_pass
