#!/usr/bin/env bash
# sigterm_inflight.sh - SIGTERM while allocations are in flight: lbipamd must exit 0, and every
# allocation whose PUT got a 2xx reply must be there, with the same addresses, after a
# restart on the same file (an acknowledged write is durable). Requests that were refused or
# cut off by the shutdown may or may not have happened; nothing is asserted about them.
set -euo pipefail
# shellcheck source=common.bash source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
command -v sqlite3 >/dev/null || bb_fail "sqlite3 is missing (scripts/deps.sh test installs it)"

db=$bb_tmp/lbipam.db
bb_start "$db"
bb_api POST /v1/clusters '{"name": "c1"}' >/dev/null
bb_api POST /v1/pools '{"name": "p1", "blocks": [{"cidr": "10.2.0.0/16"}]}' >/dev/null
bb_ok "created cluster c1 and pool p1"

streams=4
per_stream=25
replies=$bb_tmp/replies
mkdir -p "$replies"

# One stream: sequential PUTs, each reply's HTTP status in $replies/N.code (000: no reply; then
# curl's exit status in N.curl: 7 refused, 52 empty reply, 56 reset) and its body in N.body.
stream() {
    local s=$1 i k rc
    for ((i = 0; i < per_stream; i++)); do
        k=$((s * per_stream + i))
        rc=0
        curl -s --max-time 30 -o "$replies/$k.body" -w '%{http_code}\n' -X PUT \
            -H "Authorization: Bearer $(<"$bb_token_file")" -H 'Content-Type: application/json' --data-binary "{\"labels\": {\"k\": \"$k\"}}" \
            "$(bb_url "/v1/allocations/c1/ns-$s/svc-$i")" >"$replies/$k.code.tmp" 2>/dev/null || rc=$?
        echo "$rc" >"$replies/$k.curl"
        mv "$replies/$k.code.tmp" "$replies/$k.code"
    done
}
pids=()
for ((s = 0; s < streams; s++)); do
    stream "$s" &
    pids+=($!)
done

# SIGTERM once a few replies are back, i.e. while the rest are in flight or queued.
for ((i = 0; i < 300; i++)); do
    done_count=$(find "$replies" -name '*.code' | wc -l)
    ((done_count >= 12)) && break
    sleep 0.02
done
bb_ok "sending SIGTERM after $done_count of $((streams * per_stream)) replies"
bb_stop
for pid in "${pids[@]}"; do
    wait "$pid" || true
done
[[ $bb_exit == 0 ]] || bb_fail "lbipamd exited with status $bb_exit after SIGTERM, expected 0"
bb_ok "SIGTERM during requests: exit 0"

acked=()
for ((k = 0; k < streams * per_stream; k++)); do
    code=$(cat "$replies/$k.code")
    if [[ $code == 2?? ]]; then
        acked+=("$k")
    fi
done
bb_ok "${#acked[@]} PUTs were acknowledged with 2xx before the shutdown; replies by status:" \
    "$(cat "$replies"/*.code | sort | uniq -c | awk '{printf "%s%s x%s", sep, $2, $1; sep = ", "}')" \
    "(000 = no HTTP reply); curl exit statuses:" \
    "$(cat "$replies"/*.curl | sort -n | uniq -c | awk '{printf "%s%s x%s", sep, $2, $1; sep = ", "}')"
((${#acked[@]} > 0)) || bb_fail "no request succeeded before SIGTERM; the test proves nothing"

check=$(sqlite3 "$db" 'PRAGMA integrity_check;')
[[ $check == ok ]] || bb_fail "PRAGMA integrity_check: $check"

bb_start "$db"
for k in "${acked[@]}"; do
    s=$((k / per_stream))
    i=$((k % per_stream))
    want=$(jq -c '[.addresses[].ip]' "$replies/$k.body")
    got=$(bb_api GET "/v1/allocations/c1/ns-$s/svc-$i" | jq -c '[.addresses[].ip]')
    [[ $got == "$want" ]] ||
        bb_fail "ns-$s/svc-$i was acknowledged with $want but after the restart holds $got"
done
bb_ok "every acknowledged allocation is present after the restart with the same addresses"
dups=$(bb_api GET '/v1/allocations?limit=1000' | jq -r '.items[].addresses[].ip' | sort | uniq -d)
[[ -z $dups ]] || bb_fail "addresses held twice: $dups"
bb_ok "no address is held twice"

bb_stop
[[ $bb_exit == 0 ]] || bb_fail "lbipamd exited with status $bb_exit after the second SIGTERM"
bb_pass
