#!/usr/bin/env bash
# flags.sh - the command line: an unknown flag, a flag without its value and a bad
# --log-level exit with status 2 and the usage, without creating the database; --listen takes
# an IPv6 literal in brackets ([::1]:PORT) and serves on it.
set -euo pipefail
# shellcheck source=common.bash source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"

# usage_error ARGS...: lbipamd ARGS must exit 2, print a usage, and create no database.
usage_error() {
    local rc=0 out=$bb_tmp/usage.out
    (cd "$bb_tmp" && timeout 10 "$LBIPAMD" "$@" >"$out" 2>&1) || rc=$?
    bb_scan_log "$out"
    ((rc == 2)) || { cat "$out" >&2; bb_fail "lbipamd $* exited with $rc, expected 2"; }
    grep -qi 'usage' "$out" || { cat "$out" >&2; bb_fail "lbipamd $* printed no usage"; }
    [[ ! -e $bb_tmp/lbipam.db ]] || bb_fail "lbipamd $* created ./lbipam.db"
    bb_ok "lbipamd $*: exit 2 with usage"
}

usage_error --no-such-flag
usage_error --listen
usage_error --log-level loud --db "$bb_tmp/lbipam.db"
usage_error --db "$bb_tmp/lbipam.db" extra-argument

# IPv6 loopback: the machine must have ::1 (the test fails rather than skips without it).
command -v ip >/dev/null || bb_fail "ip is missing (scripts/deps.sh test installs iproute2)"
if ! ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/128'; then
    bb_fail "this machine has no ::1 on lo (IPv6 disabled?); --listen '[::1]:PORT' cannot be tested"
fi
bb_start "$bb_tmp/v6.db" ::1
body=$(curl -sS -g --fail-with-body --max-time 10 "$(bb_url /healthz)") ||
    bb_fail "GET http://[::1]:$bb_port/healthz failed"
bb_ok "--listen '[::1]:$bb_port' serves: /healthz says $body"
bb_api POST /v1/clusters '{"name": "c1"}' >/dev/null
bb_ok "POST /v1/clusters over IPv6 works"
bb_stop
[[ $bb_exit == 0 ]] || bb_fail "lbipamd exited with status $bb_exit after SIGTERM"
bb_pass
