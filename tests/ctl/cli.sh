#!/usr/bin/env bash
# cli.sh - lbipamctl against the real lbipamd (fresh database, free loopback port): apply of our
# own YAML and of the Cilium and MetalLB fixtures (tests/ctl/fixtures/, from their docs),
# get/describe/delete, allocate/release, who-has, -o json read with jq, usage and server
# errors with their exit statuses. Every sub-check is counted; the last line is
# "N passed, N failed" and any failure makes the exit status non-zero.
#
# Environment: LBIPAMD (the daemon), LBIPAMCTL (default: the lbipamctl of LBIPAMD's build
# tree), LBIPAM_SOURCE (default: this checkout), LBIPAM_TEST_TMP.
# Routes that lbipamd does not serve yet (checks, advertisements, events) are exercised by
# cli_reachability_events.sh.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export LBIPAM_SOURCE=${LBIPAM_SOURCE:-$(cd "$here/../.." && pwd)}
source "$LBIPAM_SOURCE/tests/blackbox/common.bash"

# shellcheck source=tests/ctl/common.bash
source "$here/common.bash"
fixtures=$here/fixtures

ctl_start_server

# ---- usage ----------------------------------------------------------------------------
ctl
expect "no command: exit 2 with usage" 2 '^usage: lbipamctl' stderr
ctl --help
expect "--help: exit 0 with usage" 0 'get pools\|pool NAME'
ctl frobnicate
expect "unknown command: exit 2" 2 'unknown command "frobnicate"' stderr
ctl get
expect "get without a resource: exit 2" 2 '^usage: lbipamctl get' stderr
ctl get pools --bogus
expect "unknown flag: exit 2" 2 'error: usage: unknown flag --bogus' stderr
ctl get pools -o yaml
expect "-o yaml: exit 2" 2 'the output is table or json' stderr
ctl allocate just-a-name
expect "allocate without CLUSTER/NS/SVC: exit 2" 2 'is not CLUSTER/NAMESPACE/SERVICE' stderr
ctl allocate c/ns/svc --port 70000
expect "allocate --port 70000: exit 2" 2 'PORT\[/TCP\|UDP\|SCTP\]' stderr
ctl apply --help
expect "apply --help names the converted kinds" 0 'CiliumLoadBalancerIPPool'
ctl apply
expect "apply without -f: exit 2" 2 'apply needs -f FILE' stderr

rc=0
"$LBIPAMCTL" --server http://127.0.0.1:1 get pools >"$out" 2>"$err" || rc=$?
expect "unreachable server: exit 1" 1 '^error: unreachable: GET http://127.0.0.1:1/v1/pools' stderr
rc=0
"$LBIPAMCTL" --server "$(bb_url '')" --token-file "$bb_tmp/no-such-token" get pools >"$out" \
    2>"$err" || rc=$?
expect "missing --token-file: exit 1" 1 'cannot read --token-file' stderr
rc=0
LBIPAM_SERVER=$(bb_url '') LBIPAM_TOKEN=$token "$LBIPAMCTL" get pools >"$out" \
    2>"$err" || rc=$?
expect "LBIPAM_SERVER and LBIPAM_TOKEN from the environment" 0 '^NAME +FAMILY +TOTAL'

# ---- apply: Cilium ----------------------------------------------------------------------
ctl apply -f "$fixtures/cilium_blue_pool_v2.yaml"
expect "apply Cilium v2 blue-pool (docs): created" 0 '^pool/blue-pool created$'
ctl get pool blue-pool -o json
expect_jq "blue-pool blocks as documented, canonical" \
    '[.blocks[] | .cidr // (.start + "-" + (.stop // ""))] ==
     ["10.0.10.0/24", "2004::/64", "20.0.20.100-20.0.20.200", "1.2.3.4-"]'
expect_jq "blue-pool counts: 358 IPv4, 2^64 IPv6" \
    '.status.ipv4.total == "358" and .status.ipv6.total == "18446744073709551616"'
ctl apply -f "$fixtures/cilium_blue_pool_v2alpha1.yaml"
expect "apply the same pool as v2alpha1: unchanged" 0 '^pool/blue-pool unchanged$'
ctl apply -f "$fixtures/cilium_allow_first_last_no.yaml"
expect "apply Cilium allowFirstLastIPs \"No\": created" 0 '^pool/green-pool created$'
ctl get pool green-pool -o json
expect_jq "green-pool: allowFirstLastIPs false, first and last reserved, labels kept" \
    '.allowFirstLastIPs == false and .status.ipv4.used == "2" and .labels.legacy == "no"
     and .serviceSelector.matchExpressions[1].operator == "Exists"'

# ---- apply: MetalLB ---------------------------------------------------------------------
ctl apply -f "$fixtures/metallb_first_pool.yaml"
expect "apply MetalLB first-pool (docs): created" 0 '^pool/first-pool created$'
ctl get pool first-pool -o json
expect_jq "first-pool: CIDR, range and IPv6 CIDR" \
    '(.blocks | map(.cidr // (.start + "-" + .stop))) ==
     ["192.168.9.1-192.168.9.5", "192.168.10.0/24", "fc00:f853:ccd:e799::/124"] or
     (.blocks | map(.cidr // (.start + "-" + .stop))) ==
     ["192.168.10.0/24", "192.168.9.1-192.168.9.5", "fc00:f853:ccd:e799::/124"]'
expect_jq "first-pool: 261 IPv4, 16 IPv6, all usable (MetalLB hands out .0 and .255)" \
    '.status.ipv4.total == "261" and .status.ipv6.total == "16" and .status.ipv4.used == "0"'
ctl apply -f "$fixtures/metallb_cheap_expensive.yaml"
expect "MetalLB cheap overlaps first-pool: the server's pool_conflict, exit 1" 1 \
    '^error: pool_conflict: ' stderr
expect "the failed object and what was not applied are named" 1 \
    'pool/cheap not applied \(nor anything after it\)' stderr
ctl get pool expensive
expect "nothing after the failure was applied" 1 '^error: not_found: ' stderr
ctl apply -f "$fixtures/metallb_ns_service_alloc.yaml"
expect "MetalLB namespaceSelectors (docs): refused, exit 1" 1 \
    '^error: not_convertible: spec.serviceAllocation.namespaceSelectors cannot be converted: lbipam has no namespace labels.*\(field spec.serviceAllocation.namespaceSelectors\)$' \
    stderr
expect "the refusal names the document" 1 \
    'metallb_ns_service_alloc.yaml: document 1 \(IPAddressPool ippool-ns-service-alloc-sample\): nothing applied' \
    stderr
ctl get pool ippool-ns-service-alloc-sample
expect "a refused manifest creates nothing" 1 '^error: not_found: ' stderr
ctl apply -f "$fixtures/metallb_service_alloc_no_namespace_selectors.yaml"
expect "MetalLB serviceAllocation without namespaceSelectors: created" 0 \
    '^pool/ippool-ns-service-alloc-sample created$'
ctl get pool ippool-ns-service-alloc-sample -o json
expect_jq "priority 50 -> 950, namespaces -> selector, avoidBuggyIPs reserves .0/.255" \
    '.priority == 950 and .avoidBuggyIPs == true and .status.ipv4.used == "2" and
     .serviceSelector.matchExpressions[1] ==
       {"key": "io.kubernetes.service.namespace", "operator": "In",
        "values": ["namespace-a", "namespace-b"]}'
ctl apply -f "$fixtures/metallb_two_service_selectors.yaml"
expect "two serviceSelectors: refused" 1 \
    'spec.serviceAllocation.serviceSelectors has 2 selectors: MetalLB ORs them' stderr

# ---- apply: our own YAML, stdin, and a list from -o json ---------------------------------
ctl apply -f "$fixtures/lbipam_pools.yaml"
expect "our YAML replaces blue-pool: configured" 0 '^pool/blue-pool configured$'
expect "our YAML registers prod-eu-1: created" 0 '^cluster/prod-eu-1 created$'
rc=0
"$LBIPAMCTL" --server "$(bb_url '')" "${token_args[@]}" apply -f - <"$fixtures/lbipam_pools.yaml" >"$out" \
    2>"$err" || rc=$?
expect "apply -f - (stdin), same again: unchanged" 0 '^cluster/prod-eu-1 unchanged$'
expect "pool unchanged too" 0 '^pool/blue-pool unchanged$'
ctl get pool blue-pool -o json
expect_jq "autoAssign: yes (YAML 1.1) arrived as true, description and selectors kept" \
    '.autoAssign == true and .description == "payments VIPs" and .priority == 10 and
     .clusterSelector.matchLabels.region == "eu"'
ctl get pools -o json
cp "$out" "$bb_tmp/pools.json"
expect_jq "get pools -o json: the four pools, by name" \
    '[.items[].name] == ["blue-pool", "first-pool", "green-pool", "ippool-ns-service-alloc-sample"]
     and .nextCursor == null'
ctl apply -f "$bb_tmp/pools.json"
expect "applying get -o json back: every pool unchanged" 0 '^pool/ippool-ns-service-alloc-sample unchanged$'
if (($(grep -c ' unchanged$' "$out") == 4)); then pass "all four unchanged"; else fail "all four unchanged"; fi

# ---- get / describe ---------------------------------------------------------------------
# WARNINGS is 1: prod-eu-1 (bgp, routablePrefixes 10.0.0.0/16 and 2001:db8:100::/48) is
# selected by every pool here and does not route their blocks (api.md §3 unroutable_block).
ctl get pools
expect "get pools: table header" 0 '^NAME +FAMILY +TOTAL +USED +AVAILABLE +UTIL +PRIORITY +FLAGS +WARNINGS$'
expect "get pools: a row per family" 0 '^blue-pool +IPv6 +18446744073709551616 +0 +18446744073709551616 +0\.0% +10 '
expect "get pools: flags column" 0 '^green-pool +IPv4 +256 +2 +254 +0\.8% +0 +reserve-first-last +1$'
ctl get pool blue-pool
expect "get pool NAME" 0 '^blue-pool +IPv4 +357 +0 +357 +0\.0% +10 +- +1$'
ctl get clusters
expect "get clusters" 0 '^prod-eu-1 +bgp +0 +10\.0\.0\.0/16,2001:db8:100::/48 +- +-$'
ctl get cluster prod-eu-1 -o json
expect_jq "get cluster -o json" '.announcement == "bgp" and .labels.env == "prod"'
ctl get pool no-such-pool
expect "get of a missing pool: the problem, exit 1" 1 '^error: not_found: ' stderr
ctl describe pool blue-pool
expect "describe pool: name" 0 '^Name: +blue-pool$'
expect "describe pool: selectors" 0 '^Service selector: +color=red$'
expect "describe pool: blocks with sizes" 0 '^  198\.51\.100\.100-198\.51\.100\.200 +IPv4 +101$'
expect "describe pool: utilization per family" 0 '^  IPv4 +357 +0 +357 +0\.0%$'
ctl describe cluster prod-eu-1
expect "describe cluster" 0 '^Routable prefixes: +10\.0\.0\.0/16, 2001:db8:100::/48$'

# ---- allocate / who-has / release -------------------------------------------------------
ctl allocate prod-eu-1/default/web --label color=red --port 80 --port 443/TCP
expect "allocate: created" 0 '^allocation/prod-eu-1/default/web created$'
expect "allocate: the table" 0 '^prod-eu-1 +default +web +10\.0\.10\.0 +blue-pool +satisfied$'
ctl allocate prod-eu-1/default/web --label color=red --port 80 --port 443/TCP -o json
expect_jq "allocate again: the same address (-o json)" \
    '.addresses == [{"ip": "10.0.10.0", "family": "IPv4", "pool": "blue-pool"}] and
     .ports == [{"port": 80, "protocol": "TCP"}, {"port": 443, "protocol": "TCP"}]'
ctl allocate prod-eu-1/kube-system/dns --ip 192.168.9.3 --port 53/UDP --sharing-key dns \
    --external-ref CHG-1
expect "allocate --ip from the MetalLB pool" 0 '^prod-eu-1 +kube-system +dns +192\.168\.9\.3 +first-pool +satisfied$'
ctl allocate prod-eu-1/default/dual --label color=red --dual-stack require
expect "allocate --dual-stack require" 0 '^prod-eu-1 +default +dual +10\.0\.10\.1,2001:db8:100:10:: +blue-pool +satisfied$'
ctl allocate prod-eu-1/default/six --label color=red --family IPv6 -o json
expect_jq "allocate --family IPv6" '.addresses[0].family == "IPv6" and .ipFamilies == ["IPv6"]'
ctl allocate prod-eu-1/default/nowhere --ip 8.8.8.8
expect "allocate outside every pool: no_pool, exit 1" 1 '^error: no_pool: ' stderr
ctl allocate nosuch/default/web
expect "allocate for an unknown cluster: exit 1" 1 '^error: unknown_cluster: ' stderr
ctl who-has 10.0.10.0
expect "who-has: holder" 0 '^10\.0\.10\.0 +IPv4 +allocated +blue-pool +prod-eu-1/default/web +-$'
ctl who-has 2001:db8:100:10:0:0:0:0 -o json
expect_jq "who-has IPv6 in any form, -o json" '.ip == "2001:db8:100:10::" and .state == "allocated"'
ctl who-has 192.168.20.255
expect "who-has a reserved address" 0 '^192\.168\.20\.255 +IPv4 +reserved +ippool-ns-service-alloc-sample '
ctl who-has 203.0.113.1
expect "who-has outside every pool" 0 '^203\.0\.113\.1 +IPv4 +outside +- +- +-$'
ctl who-has not-an-ip
expect "who-has not-an-ip: invalid_ip, exit 1" 1 '^error: invalid_ip: ' stderr
ctl get allocations
expect "get allocations" 0 '^prod-eu-1 +kube-system +dns +192\.168\.9\.3 +first-pool +satisfied$'
ctl get allocations --pool first-pool -o json
expect_jq "get allocations --pool" '[.items[].service] == ["dns"]'
ctl get allocation prod-eu-1/default/web -o json
expect_jq "get allocation C/NS/SVC" '.labels.color == "red"'
ctl describe pool blue-pool
expect "describe pool lists its allocations" 0 '^  prod-eu-1 +default +web +10\.0\.10\.0 +blue-pool +satisfied$'
expect "describe pool counts them" 0 '^  IPv4 +357 +2 +355 +0\.6%$'
ctl release prod-eu-1/default/web
expect "release" 0 '^allocation/prod-eu-1/default/web released$'
ctl who-has 10.0.10.0
expect "released address is free" 0 '^10\.0\.10\.0 +IPv4 +free +blue-pool '
ctl release prod-eu-1/default/web
expect "release again: not_found, exit 1" 1 '^error: not_found: ' stderr

# ---- delete -----------------------------------------------------------------------------
ctl delete pool first-pool
expect "delete a pool in use: pool_in_use, exit 1" 1 '^error: pool_in_use: ' stderr
ctl delete cluster prod-eu-1 --force
expect "delete cluster --force: usage" 2 '--force applies to pools only' stderr
ctl delete pool first-pool --force
expect "delete pool --force" 0 '^pool/first-pool deleted$'
ctl get allocation prod-eu-1/kube-system/dns
expect "its allocation, left without an address, is gone" 1 '^error: not_found: ' stderr
ctl delete cluster prod-eu-1
expect "delete a cluster holding allocations: cluster_in_use" 1 '^error: cluster_in_use: ' stderr
ctl release prod-eu-1/default/dual
ctl release prod-eu-1/default/six
ctl delete cluster prod-eu-1
expect "delete cluster" 0 '^cluster/prod-eu-1 deleted$'
ctl get clusters -o json
expect_jq "no cluster left" '.items == []'

bb_stop
if [[ $bb_exit == 0 ]]; then pass "lbipamd exited 0 after SIGTERM"; else fail "lbipamd exit $bb_exit"; fi

printf '%d passed, %d failed\n' "$passed" "$failed"
((failed == 0)) || exit 1
bb_pass
