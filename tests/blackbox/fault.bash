# fault.bash - helpers of the durability and fault tests (issue 6), sourced after common.bash
# (never run: CTest registers only *.sh). scripts/faults-full.sh runs the same tests at full
# size through FAULT_SIZE=full.
#
# Load is wrk with tests/bench/alloc.lua at 64 connections: every PUT a new service, and every
# 2xx reply appended as "service ip" to $fb_acked/acked.<thread> (flushed per line), so what
# the server acknowledged is known even when it is killed mid-reply. fb_verify then checks
# that each acknowledged allocation is still there with the same address, through the API and
# through sqlite3 on the tables, and that no address is held twice.

command -v wrk >/dev/null || bb_fail "wrk is missing (scripts/deps.sh test installs it)"
command -v sqlite3 >/dev/null || bb_fail "sqlite3 is missing (scripts/deps.sh test installs it)"

FAULT_SIZE=${FAULT_SIZE:-small}
fb_lua=$LBIPAM_SOURCE/tests/bench/alloc.lua
fb_acked=$bb_tmp/acked
mkdir -p "$fb_acked"
fb_pids=()   # other processes to kill at exit (a second lbipamd, wrk)
fb_mounts=() # mount points to unmount at exit
fb_immutable=() # files made immutable (chattr +i) to release at exit

fb_cleanup() {
    local rc=$? p m
    for p in "${fb_pids[@]}"; do
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    if [[ -n $bb_pid ]] && kill -0 "$bb_pid" 2>/dev/null; then
        kill -KILL "$bb_pid" 2>/dev/null || true
        wait "$bb_pid" 2>/dev/null || true
    fi
    for m in "${fb_immutable[@]}"; do
        chattr -i "$m" 2>/dev/null || true
    done
    for m in "${fb_mounts[@]}"; do
        umount -l "$m" 2>/dev/null || true
    done
    (exit "$rc")
    bb_cleanup
}
trap fb_cleanup EXIT

# fb_size SMALL FULL: prints SMALL in the suite, FULL under scripts/faults-full.sh.
fb_size() {
    if [[ $FAULT_SIZE == full ]]; then printf '%s\n' "$2"; else printf '%s\n' "$1"; fi
}

fb_need_root() {
    [[ $(id -u) == 0 ]] || bb_fail "this test needs root (it mounts a filesystem); run the suite as root"
}

# fb_token DB: the admin token lbipamd wrote beside DB (authentication), or "-" without one.
fb_token() {
    local f
    f=$(dirname "$1")/admin.token
    if [[ -s $f ]]; then head -n1 "$f"; else printf -- '-\n'; fi
}

# fb_curl DB PORT METHOD PATH [JSON]: one request with the token of DB; prints the body, then
# a last line with the HTTP status. Never fails the test by itself.
fb_curl() {
    local db=$1 port=$2 method=$3 path=$4 body=${5:-} token
    local args=(-sS --max-time 30 -X "$method" -w '\n%{http_code}\n')
    token=$(fb_token "$db")
    [[ $token == - ]] || args+=(-H "Authorization: Bearer $token")
    [[ -z $body ]] || args+=(-H 'Content-Type: application/json' --data-binary "$body")
    curl "${args[@]}" "http://127.0.0.1:$port$path" || printf '\n000\n'
}

# fb_call DB PORT METHOD PATH [JSON]: like fb_curl, but fails the test unless 2xx; prints
# the body.
fb_call() {
    local out status
    out=$(fb_curl "$@")
    status=${out##*$'\n'}
    [[ $status == 2* ]] || bb_fail "$3 $4 -> $status: ${out%$'\n'*}"
    printf '%s\n' "${out%$'\n'*}"
}

# fb_start DB: like bb_start, but ready means /healthz (a read-only database is never ready).
fb_start() {
    local db=$1 attempt n=0 i
    bb_host=127.0.0.1
    for ((attempt = 0; attempt < 5; attempt++)); do
        bb_port=$(bb_free_port)
        while [[ -e $bb_tmp/lbipamd.$n.log ]]; do n=$((n + 1)); done
        bb_log=$bb_tmp/lbipamd.$n.log
        "$LBIPAMD" --listen "127.0.0.1:$bb_port" --db "$db" --log-level warn >"$bb_log" 2>&1 &
        bb_pid=$!
        for ((i = 0; i < 100; i++)); do
            kill -0 "$bb_pid" 2>/dev/null || break
            curl -sf --max-time 1 -o /dev/null "http://127.0.0.1:$bb_port/healthz" && return 0
            sleep 0.1
        done
        kill -0 "$bb_pid" 2>/dev/null && bb_fail "lbipamd did not answer /healthz within 10 s"
        wait "$bb_pid" 2>/dev/null || true
        bb_pid=""
        grep -qiE 'address already in use|bind' "$bb_log" && continue
        cat "$bb_log" >&2
        bb_fail "lbipamd exited before it served (log above)"
    done
    bb_fail "lbipamd could not bind a port after 5 attempts"
}

# fb_setup DB PORT: cluster c1 and a catch-all pool of a million addresses.
fb_setup() {
    fb_call "$1" "$2" POST /v1/clusters '{"name": "c1"}' >/dev/null
    fb_call "$1" "$2" POST /v1/pools '{"name": "big", "blocks": [{"cidr": "10.0.0.0/12"}]}' \
        >/dev/null
}

# fb_load_start DB PORT PREFIX CONNS SECONDS: wrk in the background (pid in fb_load_pid),
# PUTs of c1/load/PREFIX<thread>-<n>. Its output goes to $bb_tmp/wrk.PREFIX.out.
fb_load_pid=""
fb_load_start() {
    local db=$1 port=$2 prefix=$3 conns=$4 secs=$5
    wrk -t2 -c"$conns" -d"${secs}s" --timeout 30s -s "$fb_lua" "http://127.0.0.1:$port/" -- \
        c1 load "$prefix" "$(fb_token "$db")" "$fb_acked" >"$bb_tmp/wrk.$prefix.out" 2>&1 &
    fb_load_pid=$!
    fb_pids+=("$fb_load_pid")
}

# fb_acked_count: acknowledged allocations so far (all rounds).
fb_acked_count() {
    { cat "$fb_acked"/acked.* 2>/dev/null || true; } | wc -l
}

# fb_wait_acked N: waits (at most 60 s) until N allocations were acknowledged in total.
fb_wait_acked() {
    local i
    for ((i = 0; i < 600; i++)); do
        (($(fb_acked_count) >= $1)) && return 0
        sleep 0.1
    done
    bb_fail "fewer than $1 allocations were acknowledged within 60 s"
}

# fb_db_pairs DB: "service ip" of every allocation of c1/load, read with sqlite3 from the
# tables (addresses are 4-byte big-endian blobs), sorted.
fb_db_pairs() {
    sqlite3 "$1" "SELECT a.service, hex(aa.ip) FROM allocations a
        JOIN allocation_addresses aa ON aa.allocation_id = a.id
        WHERE a.cluster = 'c1' AND a.namespace = 'load';" |
        awk -F'|' 'function byte(h, i) {
                hi = index("0123456789ABCDEF", substr(h, i, 1)) - 1
                return hi * 16 + index("0123456789ABCDEF", substr(h, i + 1, 1)) - 1
            }
            {printf "%s %d.%d.%d.%d\n", $1, byte($2, 1), byte($2, 3), byte($2, 5), byte($2, 7)}' |
        sort
}

# fb_api_pairs DB PORT: the same through GET /v1/allocations (every page), sorted.
fb_api_pairs() {
    local db=$1 port=$2 cursor="" page path
    while :; do
        path="/v1/allocations?cluster=c1&namespace=load&limit=1000"
        [[ -z $cursor ]] || path+="&cursor=$(jq -rn --arg c "$cursor" '$c|@uri')"
        page=$(fb_call "$db" "$port" GET "$path")
        jq -r '.items[] | "\(.service) \(.addresses[].ip)"' <<<"$page"
        cursor=$(jq -r '.nextCursor // empty' <<<"$page")
        [[ -n $cursor ]] || break
    done | sort
}

# fb_verify DB PORT [ACKED_FILE]: integrity_check ok, every acknowledged allocation (default:
# all acked so far) present with the same address in the tables and through the API, no
# address held twice, the allocator's free space disjoint from the held addresses. Prints the
# number of acknowledged allocations checked.
fb_verify() {
    local db=$1 port=$2 acked=${3:-} check n missing dups
    if [[ -z $acked ]]; then
        acked=$bb_tmp/acked.all
        { cat "$fb_acked"/acked.* 2>/dev/null || true; } | sort -u >"$acked"
    fi
    n=$(wc -l <"$acked")
    check=$(sqlite3 "$db" 'PRAGMA integrity_check;')
    [[ $check == ok ]] || bb_fail "PRAGMA integrity_check: $check"
    fb_db_pairs "$db" >"$bb_tmp/db.pairs"
    fb_api_pairs "$db" "$port" >"$bb_tmp/api.pairs"
    missing=$(comm -23 "$acked" "$bb_tmp/db.pairs" | head -n 5)
    [[ -z $missing ]] || bb_fail "acknowledged but missing or moved in the tables: $missing"
    missing=$(comm -23 "$acked" "$bb_tmp/api.pairs" | head -n 5)
    [[ -z $missing ]] || bb_fail "acknowledged but missing or moved in the API: $missing"
    cmp -s "$bb_tmp/db.pairs" "$bb_tmp/api.pairs" ||
        bb_fail "the API and the tables disagree: $(diff "$bb_tmp/db.pairs" "$bb_tmp/api.pairs" | head -n 5)"
    dups=$(awk '{print $2}' "$bb_tmp/api.pairs" | sort | uniq -d | head -n 5)
    [[ -z $dups ]] || bb_fail "addresses held by two allocations (API): $dups"
    dups=$(sqlite3 "$db" "SELECT hex(ip) FROM allocation_addresses GROUP BY ip HAVING count(*) > 1
        UNION ALL SELECT hex(h.ip) FROM held h WHERE h.holders !=
            (SELECT count(*) FROM allocation_addresses aa WHERE aa.ip = h.ip)
        UNION ALL SELECT hex(h.ip) FROM held h JOIN free_ranges f ON f.pool_id = h.pool_id
            AND f.family = h.family AND h.ip BETWEEN f.start AND f.stop LIMIT 5;")
    [[ -z $dups ]] || bb_fail "addresses held twice, miscounted or also free (sqlite3): $dups"
    printf '%s\n' "$n"
}
