#!/usr/bin/env bash
# cli_reachability_events.sh - lbipamctl check, advertisements and events against the real
# lbipamd (api.md §6 and §7). Kept apart from cli.sh because those routes land after the CLI;
# register it once lbipamd serves /v1/reachability-checks, /v1/clusters/{name}/advertisements
# and /v1/events. Same conventions as cli.sh: every sub-check counted, "N passed, N failed".
#
# The probes only ever target loopback (api.md §6): the test pool is 127.0.0.0/24, and the
# listening service it probes is lbipamd itself on 127.0.0.1.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export LBIPAM_SOURCE=${LBIPAM_SOURCE:-$(cd "$here/../.." && pwd)}
source "$LBIPAM_SOURCE/tests/blackbox/common.bash"

# shellcheck source=tests/ctl/common.bash
source "$here/common.bash"
follow_pid=""

stop_follow() {
    if [[ -n $follow_pid ]] && kill -0 "$follow_pid" 2>/dev/null; then
        kill "$follow_pid" 2>/dev/null || true
        wait "$follow_pid" 2>/dev/null || true
    fi
    follow_pid=""
}
# bb_cleanup reads the exit status from $?: keep it across stop_follow.
# shellcheck disable=SC2154
trap 'rc_=$?; stop_follow; (exit "$rc_"); bb_cleanup' EXIT

ctl_start_server

cat >"$bb_tmp/setup.yaml" <<'EOF'
kind: Cluster
name: lab
announcement: bgp
routablePrefixes: [127.0.0.0/25]
---
kind: Pool
name: loopback
blocks:
  - cidr: 127.0.0.0/24
  - {start: 127.0.1.10, stop: 127.0.1.12}
EOF
ctl apply -f "$bb_tmp/setup.yaml"
expect "setup: cluster and loopback pool" 0 '^pool/loopback created$'
ctl allocate lab/default/api --ip 127.0.0.1 --port "$bb_port"
expect "setup: 127.0.0.1 allocated to lab/default/api" 0 '^lab +default +api +127\.0\.0\.1 '

# ---- events (before anything else, so that the feed holds the setup) ---------------------
ctl events
expect "events: one line per change" 0 'pool'
first_lines=$(wc -l <"$out")
if ((first_lines >= 3)); then pass "events: at least cluster, pool and allocation"; else
    fail "events: only $first_lines lines"; fi
ctl events -o json
# shellcheck disable=SC2016
expect_jq "events -o json: increasing seq" \
    '[.items[].seq] as $s | ($s | length) >= 3 and $s == ($s | sort) and ($s | unique | length) == ($s | length)'
last_seq=$(jq '.items[-1].seq' "$out")
ctl events --after "$last_seq"
if ((rc == 0)) && [[ ! -s $out ]]; then pass "events --after the last: nothing"; else
    fail "events --after the last: printed something"; fi
ctl events --after nonsense
expect "events --after nonsense: usage" 2 'a sequence number' stderr

follow_out=$bb_tmp/follow.out
"$LBIPAMCTL" --server "$(bb_url '')" "${token_args[@]}" events --follow --after "$last_seq" \
    >"$follow_out" 2>"$bb_tmp/follow.err" &
follow_pid=$!
sleep 0.5
ctl allocate lab/default/web --port 80
for ((i = 0; i < 50; i++)); do
    [[ -s $follow_out ]] && break
    sleep 0.1
done
if grep -q 'web' "$follow_out"; then pass "events --follow prints a new event as it happens"; else
    fail "events --follow printed nothing within 5 s"; cat "$bb_tmp/follow.err" >&2; fi
stop_follow

# ---- advertisements --------------------------------------------------------------------
ctl advertisements lab
expect "advertisements: the pool's prefixes" 0 '^prefix +127\.0\.0\.0/24$'
expect "advertisements: a range as its CIDR cover" 0 '^prefix +127\.0\.1\.10/31$'
expect "advertisements: allocated addresses" 0 '^address +127\.0\.0\.1$'
ctl advertisements lab -o json
expect_jq "advertisements -o json" '.cluster == "lab" and .announcement == "bgp" and
    .prefixes == ["127.0.0.0/24", "127.0.1.10/31", "127.0.1.12/32"]'
ctl advertisements lab --format bird
expect "advertisements --format bird: static protocol" 0 'protocol static lbipam4'
expect "advertisements --format bird: routes" 0 'route 127\.0\.0\.0/24 blackhole'
ctl advertisements lab --format bird --scope allocated
expect "advertisements --scope allocated: the /32" 0 'route 127\.0\.0\.1/32 blackhole'
ctl advertisements nosuch
expect "advertisements of an unknown cluster: exit 1" 1 '^error: ' stderr
ctl advertisements lab --format yaml
expect "advertisements --format yaml: usage" 2 'the only format is bird' stderr

# ---- check -----------------------------------------------------------------------------
ctl check 127.0.0.1 --tcp "$bb_port" --http "$bb_port/healthz" --wait 10
expect "check a listening port: passed" 0 '^check .*: passed \(target 127\.0\.0\.1\)$'
expect "check: route analysis" 0 '^127\.0\.0\.1 +routable +bgp +127\.0\.0\.0/25'
expect "check: tcp result" 0 "^127\\.0\\.0\\.1 +tcp +$bb_port +yes +"
expect "check: http result" 0 "^127\\.0\\.0\\.1 +http +$bb_port/healthz +yes +"
closed=$(bb_free_port)
ctl check 127.0.0.1 --tcp "$closed" --wait
expect "check a closed port: failed, exit 1" 1 'check .* failed: 1 of 1 probes failed' stderr
ctl check 127.0.0.1 --tcp "$closed" --wait 5 -o json
if ((rc == 1)) && [[ $(jq -r '.state + " " + (.results[0].ok | tostring)' "$out") == "failed false" ]]; then
    pass "check -o json: the server's check"; else fail "check -o json"; fi
ctl check 127.0.0.1 --icmp --wait 10
if ((rc == 0 || rc == 1)) && grep -qE '^127\.0\.0\.1 +icmp ' "$out"; then
    pass "check --icmp: a result row (ok, or a probe error without CAP_NET_RAW)"
else fail "check --icmp"; fi
ctl check lab/default/api --wait 10
expect "check an allocation: its TCP ports by default" 0 "^127\\.0\\.0\\.1 +tcp +$bb_port +yes +"
ctl check 192.0.2.1 --tcp 80 --wait 5
expect "check outside every pool: target_outside_pools" 1 '^error: target_outside_pools: ' stderr
ctl check 127.0.0.1 --tcp 80 --wait 31
expect "check --wait 31: usage" 2 'between 1 and 30 seconds' stderr
ctl check 127.0.0.1 --tcp "$bb_port"
expect "check without --wait: created, state printed, exit 0" 0 '^check .*: (pending|running|passed) '

ctl events
expect "a finished check appears in the events" 0 'check'

bb_stop
if [[ $bb_exit == 0 ]]; then pass "lbipamd exited 0 after SIGTERM"; else fail "lbipamd exit $bb_exit"; fi

printf '%d passed, %d failed\n' "$passed" "$failed"
((failed == 0)) || exit 1
bb_pass
