#!/usr/bin/env bash
# prometheus_rules.sh - the alert rules in ops/prometheus/ pass `promtool check rules` and
# their unit tests (`promtool test rules`, including the hysteresis cases), and the Grafana
# dashboard in ops/grafana/ is valid JSON whose queries use only metrics lbipamd exposes.
# promtool comes from Debian's prometheus package (scripts/deps.sh test); no skip without it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

fail() {
    printf 'FAIL [prometheus_rules]: %s\n' "$*" >&2
    exit 1
}
promtool=$(command -v promtool || true)
[[ -n $promtool ]] || fail "promtool is missing: run scripts/deps.sh test (Debian package prometheus)"
command -v jq >/dev/null || fail "jq is missing (scripts/deps.sh installs it)"

cd "$root/ops/prometheus"
"$promtool" check rules lbipam-rules.yml || fail "promtool check rules lbipam-rules.yml"
"$promtool" test rules lbipam-rules.test.yml || fail "promtool test rules lbipam-rules.test.yml"

dash=$root/ops/grafana/lbipam-dashboard.json
jq -e '.title and (.panels | length > 0)' "$dash" >/dev/null || fail "$dash is not a dashboard"
# Every lbipam_* name a panel queries is one that server/metrics.c writes.
known=$(grep -o '"lbipam_[a-z_]*"' "$root/server/metrics.c" | tr -d '"' | sort -u)
for name in $(jq -r '.. | .expr? // empty' "$dash" | grep -o 'lbipam_[a-z_]*' | sort -u); do
    base=${name%_bucket}
    grep -qx "$base" <<<"$known" || fail "the dashboard queries $name, which /metrics does not expose"
done
for want in lbipam_pool_utilization lbipam_allocations_total lbipam_http_requests_total \
    lbipam_http_request_duration_seconds_bucket lbipam_store_writer_queue_depth \
    lbipam_store_commit_batch_size_bucket; do
    jq -r '.. | .expr? // empty' "$dash" | grep -q "$want" || fail "the dashboard has no panel on $want"
done
echo "PASS [prometheus_rules]"
