#!/usr/bin/env bash
# schema_too_new.sh - a database written by a newer lbipamd (PRAGMA user_version above what
# this binary knows) is refused: lbipamd exits non-zero with a message naming the version, and
# the file's bytes are unchanged. Two files: one made by sqlite3 alone (rollback journal, so
# switching it to WAL would rewrite its header) and one that lbipamd migrated itself.
set -euo pipefail
# shellcheck source=common.bash source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
command -v sqlite3 >/dev/null || bb_fail "sqlite3 is missing (scripts/deps.sh test installs it)"

# refused DB: runs lbipamd on DB and checks the refusal.
refused() {
    local db=$1 before after rc=0 log=$bb_tmp/refused.log
    before=$(sha256sum <"$db")
    # Port 0: the kernel picks a free port, so no other test can make the start fail first.
    timeout 20 "$LBIPAMD" --listen 127.0.0.1:0 --db "$db" >"$log" 2>&1 || rc=$?
    cat "$log"
    bb_scan_log "$log"
    ((rc != 0)) || bb_fail "lbipamd started on a database with user_version 9999"
    ((rc != 124)) || bb_fail "lbipamd kept running on a database with user_version 9999"
    grep -q 9999 "$log" || bb_fail "the refusal does not name the version 9999"
    bb_ok "refused with exit status $rc and a message naming version 9999"
    after=$(sha256sum <"$db")
    [[ $before == "$after" ]] || bb_fail "the refused database file was modified"
    bb_ok "the file's sha256 is unchanged"
}

db1=$bb_tmp/foreign.db
sqlite3 "$db1" 'CREATE TABLE future (x); INSERT INTO future VALUES (1); PRAGMA user_version = 9999;'
[[ $(sqlite3 "$db1" 'PRAGMA user_version;') == 9999 ]] || bb_fail "could not set user_version"
refused "$db1"

db2=$bb_tmp/lbipam.db
bb_start "$db2"
bb_api POST /v1/clusters '{"name": "c1"}' >/dev/null
bb_stop
[[ $bb_exit == 0 ]] || bb_fail "lbipamd exited with status $bb_exit after SIGTERM"
have=$(sqlite3 "$db2" 'PRAGMA user_version;')
((have >= 1 && have < 9999)) || bb_fail "a migrated database has user_version $have"
bb_ok "lbipamd migrated a fresh database to schema version $have"
sqlite3 "$db2" 'PRAGMA user_version = 9999;'
refused "$db2"
bb_pass
