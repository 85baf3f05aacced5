# common.bash - helpers of the black-box tests (sourced, never run: CTest registers only
# tests/blackbox/*.sh). Each test drives the built lbipamd like an operator would: a fresh
# database in its own temporary directory, a free loopback port, curl, signals.
#
# Environment (set by tests/CMakeLists.txt): LBIPAMD = the binary, LBIPAM_SOURCE = the source
# tree, LBIPAM_TEST_TMP = where temporary directories go.
#
# Every helper fails the test (exit 1, message on stderr) instead of returning an error, and
# the EXIT trap kills a server still running and removes the temporary directory. The server's
# log is printed when a test fails, and scanned for sanitizer reports when it stops.

set -euo pipefail

bb_name=$(basename "${BASH_SOURCE[1]:-$0}" .sh)
bb_tmp=""
bb_pid=""
bb_port=""
bb_log=""
bb_status=1 # until bb_pass

bb_fail() {
    printf 'FAIL [%s]: %s\n' "$bb_name" "$*" >&2
    exit 1
}

bb_ok() {
    printf 'ok [%s]: %s\n' "$bb_name" "$*"
}

bb_pass() {
    bb_status=0
    printf 'PASS [%s]\n' "$bb_name"
    exit 0
}

bb_cleanup() {
    local rc=$?
    if [[ -n $bb_pid ]] && kill -0 "$bb_pid" 2>/dev/null; then
        kill -KILL "$bb_pid" 2>/dev/null || true
        wait "$bb_pid" 2>/dev/null || true
    fi
    if ((rc != 0 || bb_status != 0)) && [[ -n $bb_log && -s $bb_log ]]; then
        printf -- '--- last lines of the lbipamd log (%s) ---\n' "$bb_log" >&2
        tail -n 60 "$bb_log" >&2 || true
    fi
    if [[ -n $bb_tmp && -d $bb_tmp ]]; then
        rm -rf -- "$bb_tmp"
    fi
    exit "$rc"
}
trap bb_cleanup EXIT
trap 'exit 130' INT TERM

[[ -n ${LBIPAMD:-} ]] || bb_fail "LBIPAMD is not set (run through ctest)"
[[ -x $LBIPAMD ]] || bb_fail "LBIPAMD=$LBIPAMD is not an executable"
[[ -n ${LBIPAM_SOURCE:-} && -d $LBIPAM_SOURCE ]] || bb_fail "LBIPAM_SOURCE is not a directory"
command -v curl >/dev/null || bb_fail "curl is missing (scripts/deps.sh test installs it)"
command -v jq >/dev/null || bb_fail "jq is missing (scripts/deps.sh test installs it)"

mkdir -p "${LBIPAM_TEST_TMP:-/tmp}"
bb_tmp=$(mktemp -d "${LBIPAM_TEST_TMP:-/tmp}/blackbox-$bb_name.XXXXXX")

# A port nobody listens on. Tests run in parallel, so the choice is spread over a wide range
# and bb_start retries with another port when the bind fails anyway. The range stays below
# the kernel's ephemeral ports (ip_local_port_range, 32768-60999 by default): a port that a
# client connection holds as its local port cannot be bound, and no probe sees it.
bb_free_port() {
    local host=${1:-127.0.0.1} p i lo=10000 hi=32767 eph_lo
    if read -r eph_lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null &&
        ((eph_lo > lo + 1000 && eph_lo <= hi)); then
        hi=$((eph_lo - 1))
    fi
    for ((i = 0; i < 100; i++)); do
        p=$((lo + (RANDOM * 32768 + RANDOM + $$ * 7919) % (hi - lo + 1)))
        # Connecting succeeds only if something listens there.
        if ! (exec 3<>"/dev/tcp/$host/$p") 2>/dev/null; then
            printf '%s\n' "$p"
            return 0
        fi
    done
    bb_fail "no free port found on $host"
}

# bb_url PATH -> http://127.0.0.1:PORT/PATH of the running server.
bb_url() {
    printf 'http://%s:%s%s\n' "${bb_host:-127.0.0.1}" "$bb_port" "$1"
}

# bb_wait_ready: polls GET /readyz for up to 10 s; fails if the server exits meanwhile.
# Returns 1 (without failing) only when the server died, so bb_start can retry.
bb_wait_ready() {
    local i
    for ((i = 0; i < 100; i++)); do
        if ! kill -0 "$bb_pid" 2>/dev/null; then
            return 1
        fi
        if curl -sf --max-time 1 -o /dev/null "$(bb_url /readyz)" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    bb_fail "lbipamd did not become ready on port $bb_port within 10 s"
}

# bb_start DB [HOST]: starts lbipamd on a free port of HOST (default 127.0.0.1) with database
# DB, logging to $bb_tmp/lbipamd.N.log, and waits until it is ready.
bb_start() {
    local db=$1 host=${2:-127.0.0.1} attempt listen n=0
    bb_host=$host
    # the admin token lbipamd writes beside a new database (api.md §9); bb_api sends it
    bb_token_file=$(dirname -- "$db")/admin.token
    for ((attempt = 0; attempt < 5; attempt++)); do
        bb_port=$(bb_free_port "$host")
        if [[ $host == *:* ]]; then
            listen="[$host]:$bb_port"
            bb_host="[$host]"
        else
            listen="$host:$bb_port"
        fi
        while [[ -e $bb_tmp/lbipamd.$n.log ]]; do n=$((n + 1)); done
        bb_log=$bb_tmp/lbipamd.$n.log
        "$LBIPAMD" --listen "$listen" --db "$db" --log-level info >"$bb_log" 2>&1 &
        bb_pid=$!
        if bb_wait_ready; then
            return 0
        fi
        wait "$bb_pid" 2>/dev/null || true
        bb_pid=""
        # Another test took the port between the probe and the bind: try another one.
        if grep -qiE 'address already in use|EADDRINUSE|bind' "$bb_log"; then
            continue
        fi
        bb_fail "lbipamd exited before it was ready (see its log below)"
    done
    bb_fail "lbipamd could not bind a port after 5 attempts"
}

# bb_scan_log FILE: fails when a sanitizer reported anything in the server's log (CTest only
# sees the test's own output, not the server's).
bb_scan_log() {
    if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer' "$1"; then
        cat "$1" >&2
        bb_fail "sanitizer report in the lbipamd log"
    fi
}

# bb_stop: SIGTERM, then waits up to 20 s for the exit and sets bb_exit to the exit status.
# Fails when the server does not exit in time (then kills it). Not for $(...): it must run in
# the shell that started the server.
bb_exit="" # read by the tests after bb_stop
# shellcheck disable=SC2034
bb_stop() {
    local i
    [[ -n $bb_pid ]] || bb_fail "bb_stop: no server running"
    kill -TERM "$bb_pid"
    for ((i = 0; i < 200; i++)); do
        if ! kill -0 "$bb_pid" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    if kill -0 "$bb_pid" 2>/dev/null; then
        kill -KILL "$bb_pid" 2>/dev/null || true
        wait "$bb_pid" 2>/dev/null || true
        bb_pid=""
        bb_fail "lbipamd did not exit within 20 s of SIGTERM"
    fi
    bb_exit=0
    wait "$bb_pid" || bb_exit=$?
    bb_pid=""
    bb_scan_log "$bb_log"
}

# bb_api METHOD PATH [JSON]: one request; prints the body. Any HTTP error fails the test with
# the problem body.
bb_api() {
    local method=$1 path=$2 body=${3:-} out
    local args=(-sS --max-time 30 --fail-with-body -X "$method")
    if [[ -n ${bb_token_file:-} && -s $bb_token_file ]]; then
        args+=(-H "Authorization: Bearer $(<"$bb_token_file")")
    fi
    if [[ -n $body ]]; then
        args+=(-H 'Content-Type: application/json' --data-binary "$body")
    fi
    if ! out=$(curl "${args[@]}" "$(bb_url "$path")" 2>&1); then
        bb_fail "$method $path failed: $out"
    fi
    printf '%s' "$out"
}

# bb_all_allocations FILE: GET /v1/allocations over every page (following nextCursor, a small
# limit so that there are many pages), appending each page's body exactly as served, one a
# line, to FILE. Prints the number of items.
bb_all_allocations() {
    local file=$1 cursor="" page path n=0
    : >"$file"
    while :; do
        path="/v1/allocations?limit=7"
        if [[ -n $cursor ]]; then
            path+="&cursor=$(jq -rn --arg c "$cursor" '$c|@uri')"
        fi
        page=$(bb_api GET "$path")
        printf '%s\n' "$page" >>"$file"
        n=$((n + $(jq '.items | length' <<<"$page")))
        cursor=$(jq -r '.nextCursor // empty' <<<"$page")
        [[ -n $cursor ]] || break
    done
    printf '%s\n' "$n"
}
