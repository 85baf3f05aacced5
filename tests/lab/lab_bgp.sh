#!/usr/bin/env bash
# lab_bgp.sh - reachability end to end over real BGP (issue 5, api.md §6).
#
# Two network namespaces joined by a veth pair, made here and removed on any exit:
#   node   (203.0.113.1) - the cluster: BIRD 2 as its BGP speaker (AS 64512), whose config
#                          `include`s the fragment lbipamd renders (?format=bird), and a tiny
#                          HTTP responder on the allocated IP (held on the namespace's lo);
#   router (203.0.113.2) - the upstream: BIRD 2 (AS 64500) exporting what it learns to its
#                          kernel table, and lbipamd itself, probing from outside the cluster.
# Flow: allocate -> render -> the router learns the route -> a tcp+http+icmp check passes ->
# withdraw the pool from the cluster (re-render, `birdc configure`) and take its prefix out of
# the cluster's routablePrefixes -> the same check fails naming the cause, and the route verdict
# says what is missing. Documentation prefixes only. Needs root, `ip netns`, bird2, python3,
# curl and jq (scripts/deps.sh test installs them); it fails, never skips, without them.
set -euo pipefail

name=lab_bgp
fail() {
    printf 'FAIL [%s]: %s\n' "$name" "$*" >&2
    exit 1
}
ok() { printf 'ok [%s]: %s (%ss)\n' "$name" "$*" "$SECONDS"; }

((EUID == 0)) || fail "needs root (network namespaces, veth pairs, BIRD); run the suite as root"
for cmd in ip bird birdc python3 curl jq; do
    command -v "$cmd" >/dev/null || fail "$cmd is missing (scripts/deps.sh test installs it)"
done
[[ -n ${LBIPAMD:-} && -x $LBIPAMD ]] || fail "LBIPAMD is not set to the lbipamd binary"

suffix=$$
node=lbnode$suffix
router=lbrtr$suffix
veth_n=lbn$suffix
veth_r=lbr$suffix
tmp=$(mktemp -d "${LBIPAM_TEST_TMP:-/tmp}/lab_bgp.XXXXXX")
chmod 755 "$tmp"
pids=() # background processes, started without a subshell so that $! is the process itself

cleanup() {
    local rc=$?
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for sock in "$tmp/node.ctl" "$tmp/router.ctl"; do
        [[ -S $sock ]] && birdc -s "$sock" down >/dev/null 2>&1 || true
    done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    ip netns del "$node" 2>/dev/null || true
    ip netns del "$router" 2>/dev/null || true
    ip link del "$veth_r" 2>/dev/null || true
    if ((rc != 0)); then
        for f in lbipamd.log node-bird.log router-bird.log http.log; do
            [[ -s $tmp/$f ]] && { echo "--- $f ---" >&2; tail -n 40 "$tmp/$f" >&2; }
        done
    fi
    rm -rf -- "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- namespaces -------------------------------------------------------------------------
ip netns add "$node" 2>/dev/null || fail "cannot create a network namespace (ip netns add)"
ip netns add "$router" || fail "cannot create a second network namespace"
ip link add "$veth_n" type veth peer name "$veth_r" || fail "cannot create a veth pair"
ip link set "$veth_n" netns "$node"
ip link set "$veth_r" netns "$router"
inn() { ip netns exec "$node" "$@"; }
inr() { ip netns exec "$router" "$@"; }
inn ip link set lo up
inr ip link set lo up
inn ip addr add 203.0.113.1/30 dev "$veth_n"
inr ip addr add 203.0.113.2/30 dev "$veth_r"
inn ip link set "$veth_n" up
inr ip link set "$veth_r" up
# The router has no route to the pool until BGP gives it one.
inr ip route get 192.0.2.1 >/dev/null 2>&1 && fail "the router already reaches 192.0.2.1"
ok "namespaces $node and $router joined by $veth_n/$veth_r"

# ---- lbipamd in the router namespace ----------------------------------------------------
port=18080
ip netns exec "$router" "$LBIPAMD" --listen "127.0.0.1:$port" --db "$tmp/lbipam.db" --log-level warn \
    >"$tmp/lbipamd.log" 2>&1 &
pids+=($!)
auth=()
api() { # api METHOD PATH [BODY] [extra curl args...]
    local method=$1 path=$2 body=${3:-}
    shift 3 2>/dev/null || shift $#
    inr curl -sS --max-time 40 -X "$method" -H 'Content-Type: application/json' "${auth[@]}" \
        ${body:+--data "$body"} "$@" "http://127.0.0.1:$port$path"
}
for _ in $(seq 50); do
    inr curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
inr curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || fail "lbipamd did not start"
# Auth (api.md §9): the first start writes admin.token beside the database.
[[ -s $tmp/admin.token ]] && auth=(-H "Authorization: Bearer $(tr -d '\n' <"$tmp/admin.token")")

api POST /v1/clusters '{"name":"lab","announcement":"bgp","labels":{"site":"lab"},
    "routablePrefixes":["192.0.2.0/24"]}' | jq -e '.name == "lab"' >/dev/null ||
    fail "cannot create the cluster"
api POST /v1/pools '{"name":"doc","blocks":[{"cidr":"192.0.2.0/24"}],
    "clusterSelector":{"matchLabels":{"site":"lab"}}}' | jq -e '.name == "doc"' >/dev/null ||
    fail "cannot create the pool"
ip_=$(api PUT /v1/allocations/lab/web/http '{"requestedIPs":["192.0.2.1"],
    "ports":[{"port":8080,"protocol":"TCP"}]}' | jq -r '.addresses[0].ip')
[[ $ip_ == 192.0.2.1 ]] || fail "allocation got '$ip_', not 192.0.2.1"
ok "allocated $ip_ to lab/web/http"

# ---- the service: the allocated IP on the node, a tiny HTTP responder on it ------------
inn ip addr add 192.0.2.1/32 dev lo # as kube-proxy/IPVS would hold a LoadBalancer IP
mkdir -p "$tmp/www"
echo ok >"$tmp/www/healthz"
ip netns exec "$node" python3 -m http.server 8080 --bind 192.0.2.1 --directory "$tmp/www" >"$tmp/http.log" 2>&1 &
pids+=($!)

# ---- BIRD: the node announces what lbipamd renders; the router installs what it learns --
render() { api GET "/v1/clusters/lab/advertisements?format=bird" >"$tmp/lbipam.conf"; }
render
grep -q 'route 192.0.2.0/24 blackhole;' "$tmp/lbipam.conf" ||
    fail "the fragment does not originate 192.0.2.0/24: $(cat "$tmp/lbipam.conf")"
cat >"$tmp/node.conf" <<CONF
log "$tmp/node-bird.log" all;
router id 203.0.113.1;
protocol device {}
include "$tmp/lbipam.conf";
protocol bgp upstream {
    local 203.0.113.1 as 64512;
    neighbor 203.0.113.2 as 64500;
    connect delay time 1;
    connect retry time 2;
    error wait time 1, 4;
    ipv4 { import none; export where proto = "lbipam4"; };
}
CONF
cat >"$tmp/router.conf" <<CONF
log "$tmp/router-bird.log" all;
router id 203.0.113.2;
protocol device {}
protocol kernel { ipv4 { import none; export all; }; }
protocol bgp k8s {
    local 203.0.113.2 as 64500;
    neighbor 203.0.113.1 as 64512;
    connect delay time 1;
    connect retry time 2;
    error wait time 1, 4;
    ipv4 { import all; export none; };
}
CONF
bird -p -c "$tmp/node.conf" || fail "BIRD rejects the node config with lbipamd's fragment"
bird -p -c "$tmp/router.conf" || fail "BIRD rejects the router config"
ip netns exec "$node" bird -f -c "$tmp/node.conf" -s "$tmp/node.ctl" -P "$tmp/node.pid" &
pids+=($!)
ip netns exec "$router" bird -f -c "$tmp/router.conf" -s "$tmp/router.ctl" -P "$tmp/router.pid" &
pids+=($!)

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
    local limit=$1 what=$2 i
    shift 2
    for ((i = 0; i < limit * 5; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    fail "$what (after ${limit}s)"
}
learned() { inr ip route show 192.0.2.0/24 | grep -q 'via 203.0.113.1'; }
wait_for 40 "the router never learned 192.0.2.0/24 over BGP" learned
inr birdc -s "$tmp/router.ctl" show route 192.0.2.0/24 all | grep -q 'BGP.as_path: 64512' ||
    fail "the router's route to 192.0.2.0/24 is not the BGP one"
ok "router learned 192.0.2.0/24 from AS 64512: $(inr ip route show 192.0.2.0/24)"
wait_for 10 "the HTTP responder did not start" inn curl -sf http://192.0.2.1:8080/healthz

# ---- a check from the outside vantage point passes --------------------------------------
check='{"target":{"ip":"192.0.2.1"},"timeoutMs":2000,"probes":[{"type":"tcp","port":8080},
    {"type":"http","port":8080,"path":"/healthz","expectStatus":200},{"type":"icmp"}]}'
api POST /v1/reachability-checks "$check" -H 'Prefer: wait=15' >"$tmp/pass.json"
jq -e '.state == "passed"' "$tmp/pass.json" >/dev/null ||
    fail "the check did not pass: $(jq -c . "$tmp/pass.json")"
jq -e '[.results[].type] == ["tcp","http","icmp"] and all(.results[]; .ok == true)' \
    "$tmp/pass.json" >/dev/null || fail "probes: $(jq -c .results "$tmp/pass.json")"
jq -e '.routes[0].verdict == "routable" and .routes[0].matchedPrefix == "192.0.2.0/24"' \
    "$tmp/pass.json" >/dev/null || fail "route: $(jq -c .routes "$tmp/pass.json")"
ok "check passed: $(jq -c '[.results[] | "\(.type) \(.latencyMs)ms"]' "$tmp/pass.json")"

# ---- withdraw: the pool no longer selects the cluster, and the fabric stops routing it ----
api PUT /v1/pools/doc '{"blocks":[{"cidr":"192.0.2.0/24"}],
    "clusterSelector":{"matchLabels":{"site":"elsewhere"}}}' | jq -e '.name == "doc"' \
    >/dev/null || fail "cannot deselect the cluster from the pool"
render
grep -q '192.0.2.0/24' "$tmp/lbipam.conf" && fail "the re-rendered fragment still has the prefix"
inn birdc -s "$tmp/node.ctl" configure | grep -qi 'reconfigur' || fail "birdc configure failed"
withdrawn() { ! inr ip route show 192.0.2.0/24 | grep -q .; }
wait_for 20 "the router kept 192.0.2.0/24 after the withdrawal" withdrawn
ok "router withdrew 192.0.2.0/24"
api PUT /v1/clusters/lab '{"announcement":"bgp","labels":{"site":"lab"},
    "routablePrefixes":["198.51.100.0/24"]}' | jq -e '.name == "lab"' >/dev/null ||
    fail "cannot update the cluster's routablePrefixes"

api POST /v1/reachability-checks "$check" -H 'Prefer: wait=15' >"$tmp/fail.json"
jq -e '.state == "failed"' "$tmp/fail.json" >/dev/null ||
    fail "the check did not fail: $(jq -c . "$tmp/fail.json")"
jq -e 'all(.results[]; .ok == false and (.error | test("unreachable|no route to host|timeout")))' \
    "$tmp/fail.json" >/dev/null || fail "errors do not name the cause: $(jq -c .results "$tmp/fail.json")"
jq -e '.routes[0].verdict == "unroutable" and (.routes[0].detail | test("routablePrefixes"))' \
    "$tmp/fail.json" >/dev/null || fail "route verdict: $(jq -c .routes "$tmp/fail.json")"
ok "check failed: $(jq -c '[.results[] | "\(.type): \(.error)"]' "$tmp/fail.json")"
ok "route verdict: $(jq -r '.routes[0].detail' "$tmp/fail.json")"

# the address view shows the latest check and the verdict
api GET /v1/addresses/192.0.2.1 | jq -e '.lastCheck.state == "failed" and
    .route.verdict == "unroutable"' >/dev/null || fail "the address view lacks the latest check"

# ---- stop lbipamd cleanly and look for sanitizer reports --------------------------------
kill -TERM "${pids[0]}"
wait "${pids[0]}" || fail "lbipamd exited with status $? after SIGTERM"
if grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$tmp/lbipamd.log"; then
    fail "lbipamd reported a sanitizer error"
fi
printf 'PASS [%s] in %ss\n' "$name" "$SECONDS"
