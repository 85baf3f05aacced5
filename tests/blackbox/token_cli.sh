#!/usr/bin/env bash
# token_cli.sh - secure by default and `lbipamd token create|list|revoke` (issue 3): the first
# start writes admin.token (mode 0600) and logs its path, never the token; the CLI works on the
# database file while lbipamd runs; a revoked token fails on its next request; no token is
# ever in the database file or its WAL (Done-when 3).
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"

db=$bb_tmp/lbipam.db
bb_start "$db"
tf=$bb_tmp/admin.token
[[ -s $tf ]] || bb_fail "no admin.token beside the database"
[[ $(stat -c %a "$tf") == 600 ]] || bb_fail "admin.token has mode $(stat -c %a "$tf"), not 600"
admin=$(<"$tf")
[[ $admin == lbipam_* ]] || bb_fail "admin.token does not hold a token"
grep -q '"file":"'"$tf"'"' "$bb_log" || bb_fail "the log does not name $tf"
grep -qF "$admin" "$bb_log" && bb_fail "the admin token is in the log"
bb_ok "first start: admin.token (0600), its path logged, the token not"

code=$(curl -s -o /dev/null -w '%{http_code}' "$(bb_url /v1/pools)")
[[ $code == 401 ]] || bb_fail "no token: expected 401, got $code"

ci=$("$LBIPAMD" token create --name ci --role operator --cluster c1 --db "$db") ||
    bb_fail "token create failed"
[[ $ci == lbipam_* && $(wc -l <<<"$ci") == 1 ]] || bb_fail "token create printed: $ci"
"$LBIPAMD" token create --name ci --role reader --db "$db" 2>/dev/null &&
    bb_fail "a second token named ci was created"
"$LBIPAMD" token create --name bad --role root --db "$db" 2>/dev/null && bb_fail "role root accepted"
list=$("$LBIPAMD" token list --db "$db")
grep -qE '^ci +operator +c1 ' <<<"$list" || bb_fail "token list: $list"
grep -qE '^admin +admin ' <<<"$list" || bb_fail "token list: $list"
grep -q lbipam_ <<<"$list" && bb_fail "token list shows a secret"
bb_ok "token create/list on the database file while lbipamd runs"

bb_api POST /v1/clusters '{"name": "c1"}' >/dev/null
bb_api POST /v1/pools '{"name": "p", "blocks": [{"cidr": "10.9.0.0/28"}]}' >/dev/null
code=$(curl -s -o "$bb_tmp/out" -w '%{http_code}' -X PUT -H "Authorization: Bearer $ci" \
    "$(bb_url /v1/allocations/c1/ns/svc)")
[[ $code == 201 ]] || bb_fail "the new token cannot allocate in its cluster: $code $(cat "$bb_tmp/out")"

"$LBIPAMD" token revoke ci --db "$db" || bb_fail "token revoke failed"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ci" "$(bb_url /v1/pools)")
[[ $code == 401 ]] || bb_fail "revoked (by the CLI, on the file): expected 401, got $code"
bb_ok "revoked on the database file: the very next request is 401"

events=$(bb_api GET '/v1/events?limit=1000')
jq -e '[.items[] | select(.action == "token.revoked" and .actor == "lbipamd-cli")] | length == 1' \
    <<<"$events" >/dev/null || bb_fail "no token.revoked event by lbipamd-cli: $events"

bb_stop
for f in "$db" "$db-wal"; do
    [[ -e $f ]] || continue
    if grep -qaF -e "$admin" -e "${admin#lbipam_}" -e "$ci" -e "${ci#lbipam_}" "$f"; then
        bb_fail "a token is in $f in clear"
    fi
done
bb_ok "grep finds no token in $(basename "$db") or its WAL"

# A restart with tokens in the store creates no new admin token.
before=$(<"$tf")
bb_start "$db"
[[ $(<"$tf") == "$before" ]] || bb_fail "a restart replaced admin.token"
code=$(curl -s -o /dev/null -w '%{http_code}' "$(bb_url /metrics)")
[[ $code == 200 ]] || bb_fail "/metrics is open by default, got $code"
bb_stop

# --metrics-auth closes /metrics to callers without a reader token.
bb_port=$(bb_free_port)
bb_log=$bb_tmp/lbipamd.metrics-auth.log
"$LBIPAMD" --listen "127.0.0.1:$bb_port" --db "$db" --metrics-auth >"$bb_log" 2>&1 &
bb_pid=$!
bb_wait_ready || bb_fail "lbipamd --metrics-auth exited before it was ready"
code=$(curl -s -o /dev/null -w '%{http_code}' "$(bb_url /metrics)")
[[ $code == 401 ]] || bb_fail "--metrics-auth: /metrics without a token: expected 401, got $code"
reader=$("$LBIPAMD" token create --name scraper --role reader --db "$db")
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $reader" "$(bb_url /metrics)")
[[ $code == 200 ]] || bb_fail "--metrics-auth: /metrics with a reader token: expected 200, got $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$(bb_url /healthz)")
[[ $code == 200 ]] || bb_fail "--metrics-auth must leave /healthz open, got $code"
bb_ok "--metrics-auth: /metrics is 401 without a token, 200 with a reader token"
bb_stop
bb_pass
