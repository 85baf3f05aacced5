#!/usr/bin/env bash
# metrics.sh - GET /metrics after real traffic: `promtool check metrics` (Debian's prometheus
# package, installed by scripts/deps.sh test; this test fails without it, it never skips)
# accepts the exposition, and the numbers are those of the traffic: pool addresses per family
# (IPv6 as a float), utilization, allocation outcomes, requests by route template and code,
# duration histograms, reachability checks, the store writer. Also the access log's fields
# and X-Request-Id on every kind of response.
set -euo pipefail
# shellcheck source=common.bash source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"

promtool=$(command -v promtool || true)
[[ -n $promtool ]] || bb_fail "promtool is missing: run scripts/deps.sh test (Debian package prometheus)"

bb_start "$bb_tmp/lbipam.db"
auth=()
if [[ -f $bb_tmp/admin.token ]]; then
    auth=(-H "Authorization: Bearer $(cat "$bb_tmp/admin.token")")
fi

# req METHOD PATH [JSON]: one request with the admin token; prints the status code. Headers
# go to $bb_tmp/h, the body to $bb_tmp/b.
req() {
    local args=(-sS --max-time 30 -o "$bb_tmp/b" -D "$bb_tmp/h" -w '%{http_code}' -X "$1")
    [[ $1 == HEAD ]] && args=(-sS --max-time 30 -o "$bb_tmp/b" -D "$bb_tmp/h" -w '%{http_code}' -I)
    [[ -n ${3:-} ]] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
    curl "${args[@]}" "${auth[@]}" "$(bb_url "$2")"
}

expect() { # expect WANT METHOD PATH [JSON]
    local want=$1 got
    shift
    got=$(req "$@")
    [[ $got == "$want" ]] || bb_fail "$1 $2: status $got, want $want: $(cat "$bb_tmp/b")"
    grep -qi '^X-Request-Id: [0-9a-zA-Z]' "$bb_tmp/h" || bb_fail "$1 $2 ($got) has no X-Request-Id"
}

# Traffic: a dual-stack pool of 16 + 2^64 addresses, a cluster, two allocations, refusals.
expect 201 POST /v1/pools '{"name":"blue","blocks":[{"cidr":"10.9.0.0/28"},{"cidr":"2001:db8:9::/64"}]}'
expect 201 POST /v1/clusters '{"name":"prod"}'
expect 201 PUT /v1/allocations/prod/shop/web '{}'
expect 201 PUT /v1/allocations/prod/shop/api '{"ipFamilies":["IPv6"]}'
expect 409 PUT /v1/allocations/prod/shop/db '{"requestedIPs":["10.99.0.1"]}'
expect 422 PUT /v1/allocations/prod/shop/db '{"pool":"nope"}'
expect 200 GET /v1/pools
expect 200 GET /v1/pools
expect 404 GET /v1/pools/missing
expect 404 GET /no/such/route
expect 405 PATCH /v1/pools
expect 200 HEAD /healthz
expect 200 GET /
bb_ok "traffic sent; every response carried X-Request-Id"

expect 200 GET /metrics
grep -qi '^Content-Type: text/plain; version=0.0.4' "$bb_tmp/h" || bb_fail "content type: $(cat "$bb_tmp/h")"
cp "$bb_tmp/b" "$bb_tmp/metrics.txt"
m=$bb_tmp/metrics.txt
if ! "$promtool" check metrics <"$m" >"$bb_tmp/promtool.out" 2>&1; then
    cat "$bb_tmp/promtool.out" "$m" >&2
    bb_fail "promtool check metrics refused GET /metrics"
fi
bb_ok "promtool check metrics: clean"

has() { # has EXACT-LINE
    grep -qxF -- "$1" "$m" || bb_fail "GET /metrics lacks the line: $1"
}
has 'lbipam_pool_addresses{pool="blue",family="ipv4",state="total"} 16'
has 'lbipam_pool_addresses{pool="blue",family="ipv4",state="used"} 1'
has 'lbipam_pool_addresses{pool="blue",family="ipv4",state="available"} 15'
has 'lbipam_pool_utilization{pool="blue",family="ipv4"} 0.0625'
has 'lbipam_pool_addresses{pool="blue",family="ipv6",state="total"} 1.8446744073709552e+19'
has 'lbipam_pool_addresses{pool="blue",family="ipv6",state="used"} 1'
has 'lbipam_pool_utilization{pool="blue",family="ipv6"} 5.421010862427522e-20'
has 'lbipam_allocations_total{outcome="satisfied"} 2'
has 'lbipam_allocations_total{outcome="no_pool"} 1'
has 'lbipam_allocations_total{outcome="unknown_pool"} 1'
has 'lbipam_allocations_total{outcome="out_of_ips"} 0'
has 'lbipam_http_requests_total{route="/v1/pools",method="GET",code="200"} 2'
has 'lbipam_http_requests_total{route="/v1/pools/{name}",method="GET",code="404"} 1'
has 'lbipam_http_requests_total{route="/v1/allocations/{cluster}/{namespace}/{service}",method="PUT",code="201"} 2'
has 'lbipam_http_requests_total{route="unmatched",method="GET",code="404"} 1'
has 'lbipam_http_requests_total{route="unmatched",method="other",code="405"} 1'
has 'lbipam_http_requests_total{route="/healthz",method="GET",code="200"} 1'
has 'lbipam_http_request_duration_seconds_count{route="/v1/pools",method="GET"} 2'
has 'lbipam_http_request_duration_seconds_bucket{route="/v1/pools",method="GET",le="+Inf"} 2'
has 'lbipam_reachability_checks_total{result="passed"} 0'
has 'lbipam_reachability_checks_total{result="failed"} 0'
grep -qx 'lbipam_store_commits_total [1-9][0-9]*' "$m" || bb_fail "no store commits counted"
grep -qx 'lbipam_store_writer_queue_depth [0-9]*' "$m" || bb_fail "no writer queue depth"
grep -qE '^lbipam_store_commit_batch_size_bucket\{le="\+Inf"\} [1-9]' "$m" || bb_fail "no batch sizes"
# A request id never becomes a label value (cardinality): labels come from bounded sets.
grep -q 'request_id\|/v1/pools/missing\|/no/such/route' "$m" && bb_fail "a request-specific value leaked into a label"
bb_ok "pool, allocation, HTTP, reachability and store metrics match the traffic"

# The access log: one JSON object a line with time, level, msg, request_id, route (the
# template), status, duration; the route template rather than the path groups requests.
line=$(grep '"path":"/v1/pools/missing"' "$bb_log" | head -n1)
[[ -n $line ]] || bb_fail "no access log line for GET /v1/pools/missing"
jq -e '.time and .level == "info" and .msg == "request" and (.request_id | length > 0) and
       .route == "/v1/pools/{name}" and .status == "404" and (.duration_ms | tonumber >= 0)' \
    <<<"$line" >/dev/null || bb_fail "access log line lacks fields: $line"
if ((${#auth[@]})); then
    jq -e '.actor == "admin"' <<<"$line" >/dev/null || bb_fail "access log line names no actor: $line"
fi
while IFS= read -r l; do
    jq -e . <<<"$l" >/dev/null 2>&1 || bb_fail "log line is not one JSON object: $l"
done <"$bb_log"
bb_ok "access log lines carry time, level, msg, request_id, route, status, duration_ms"

bb_stop
[[ $bb_exit == 0 ]] || bb_fail "lbipamd exited with status $bb_exit after SIGTERM"
bb_pass
