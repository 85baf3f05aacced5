#!/usr/bin/env bash
# load.sh - the HTTP load benchmark of lbipamd (issue 6): one command, figures on stdout.
#
#   tests/bench/load.sh [SECONDS] [ROUNDS]        (defaults: 10 s per measurement, 3 rounds)
#
# Builds a Release lbipamd into $BUILD (default build-rel) unless LBIPAMD names a binary, then
# starts two of them on loopback, each on a fresh database on disk with synchronous=FULL (the
# default): A with group commit (default --max-batch 64) and B with --max-batch 1 (one commit,
# so one fsync, per write). Each round measures, with wrk at 64 connections (2 threads):
#   (a) GET /healthz of A: the HTTP ceiling of this server on this machine;
#   (b) PUT /v1/allocations/… of A, every request a new service (tests/bench/alloc.lua);
#   (e) the same PUTs against B (group commit off);
# and after the rounds (d) the PUTs of A over a single connection. Reported: the median of the
# rounds, p50/p99 latency, b/a and b/e. The targets of issue 6 are printed next to the figures;
# they are not asserted (the machine is shared: a benchmark, not a test).
# When lbipamd wrote an admin.token beside its database (authentication on), every /v1 request
# carries it.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
secs=${1:-10}
rounds=${2:-3}
conns=64

command -v wrk >/dev/null || {
    echo "load.sh: wrk is missing (scripts/deps.sh test installs it)" >&2
    exit 1
}
command -v curl >/dev/null || {
    echo "load.sh: curl is missing" >&2
    exit 1
}

if [[ -z ${LBIPAMD:-} ]]; then
    build=${BUILD:-$root/build-rel}
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" -j "$(nproc)" --target lbipamd >/dev/null
    LBIPAMD=$build/server/lbipamd
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lbipam-load.XXXXXX")
tmp_root=$tmp
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf -- "$tmp_root"
}
trap cleanup EXIT

free_port() {
    local p
    for ((;;)); do
        p=$((20000 + RANDOM % 10000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
}

# start NAME ARGS...: starts lbipamd on a fresh database $tmp/NAME.db, sets port_NAME/token_NAME.
start() {
    local name=$1 port i token=-
    shift
    port=$(free_port)
    "$LBIPAMD" --listen "127.0.0.1:$port" --db "$tmp/$name.db" --log-level warn "$@" \
        >"$tmp/$name.log" 2>&1 &
    pids+=($!)
    for ((i = 0; i < 100; i++)); do
        curl -sf -o /dev/null "http://127.0.0.1:$port/readyz" && break
        sleep 0.1
    done
    if [[ -s $tmp/admin.token ]]; then
        token=$(<"$tmp/admin.token")
    fi
    printf -v "port_$name" '%s' "$port"
    printf -v "token_$name" '%s' "$token"
    local auth=()
    [[ $token == - ]] || auth=(-H "Authorization: Bearer $token")
    curl -sSf -o /dev/null "${auth[@]}" -X POST -H 'Content-Type: application/json' \
        -d '{"name": "bench"}' "http://127.0.0.1:$port/v1/clusters"
    curl -sSf -o /dev/null "${auth[@]}" -X POST -H 'Content-Type: application/json' \
        -d '{"name": "big", "blocks": [{"cidr": "10.0.0.0/8"}]}' "http://127.0.0.1:$port/v1/pools"
}

# run LABEL CONNS THREADS URL SCRIPT [ARGS...]: one wrk run; prints "rps p50 p99 non2xx errors".
run() {
    local label=$1 c=$2 t=$3 url=$4 script=$5 out
    shift 5
    out=$(LBIPAM_WRK_LOG=0 wrk -t"$t" -c"$c" -d"${secs}s" -s "$script" "$url" -- "$@" 2>&1)
    printf '%s\n' "$out" >>"$tmp/wrk.log"
    awk -v label="$label" '/^wrk-figure/ {v[$2] = $3}
        END {printf "%s %s %s %s %s\n", v["rps"], v["p50_ms"], v["p99_ms"], v["non2xx"],
             v["socket_errors"]}' <<<"$out"
}

median() { sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# The database directory's own token file names differ per server: keep them apart.
mkdir -p "$tmp/a" "$tmp/b"
tmp=$tmp_root/a
start A
tmp=$tmp_root/b
start B --max-batch 1
tmp=$tmp_root

echo "lbipam load benchmark: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores," \
    "$(lscpu | sed -n 's/^Model name: *//p' | head -n1)"
echo "lbipamd $LBIPAMD; databases on $(df -T "$tmp" | awk 'NR == 2 {print $2}')," \
    "synchronous=FULL; wrk $conns connections, 2 threads, ${secs} s per run, $rounds rounds"
echo

# A short warm-up of both servers: page cache, the WAL file, connection threads.
secs_saved=$secs
secs=2
run warm 64 2 "http://127.0.0.1:$port_A/" "$root/tests/bench/alloc.lua" bench warm w "$token_A" >/dev/null
run warm 64 2 "http://127.0.0.1:$port_B/" "$root/tests/bench/alloc.lua" bench warm w "$token_B" >/dev/null
secs=$secs_saved

: >"$tmp/a.txt"
: >"$tmp/b.txt"
: >"$tmp/e.txt"
for ((r = 1; r <= rounds; r++)); do
    a=$(run healthz $conns 2 "http://127.0.0.1:$port_A/healthz" "$root/tests/bench/healthz.lua")
    b=$(run alloc $conns 2 "http://127.0.0.1:$port_A/" "$root/tests/bench/alloc.lua" \
        bench load "r$r-" "$token_A")
    e=$(run alloc1 $conns 2 "http://127.0.0.1:$port_B/" "$root/tests/bench/alloc.lua" \
        bench load "r$r-" "$token_B")
    echo "$a" >>"$tmp/a.txt"
    echo "$b" >>"$tmp/b.txt"
    echo "$e" >>"$tmp/e.txt"
    printf 'round %d: healthz %8.0f req/s   alloc %7.0f/s   alloc, group commit off %6.0f/s\n' \
        "$r" "${a%% *}" "${b%% *}" "${e%% *}"
done
d=$(run single 1 1 "http://127.0.0.1:$port_A/" "$root/tests/bench/alloc.lua" bench single s \
    "$token_A")

col() { awk -v c="$1" '{print $c}' "$2" | median; }
for x in a b e; do
    printf -v "${x}_rps" '%s' "$(col 1 "$tmp/$x.txt")"
    printf -v "${x}_p50" '%s' "$(col 2 "$tmp/$x.txt")"
    printf -v "${x}_p99" '%s' "$(col 3 "$tmp/$x.txt")"
    printf -v "${x}_bad" '%s' "$(awk '{n += $4 + $5} END {print n + 0}' "$tmp/$x.txt")"
done
read -r d_rps d_p50 d_p99 d_non2xx d_err <<<"$d"

echo
echo "medians of $rounds rounds ($conns connections):"
printf '  (a) GET /healthz (HTTP ceiling)         %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms\n' \
    "$a_rps" "$a_p50" "$a_p99"
printf '  (b) PUT allocation, group commit        %8.0f /s     p50 %6.2f ms  p99 %6.2f ms\n' \
    "$b_rps" "$b_p50" "$b_p99"
printf '  (e) PUT allocation, group commit off    %8.0f /s     p50 %6.2f ms  p99 %6.2f ms\n' \
    "$e_rps" "$e_p50" "$e_p99"
printf '  (d) PUT allocation, 1 connection        %8.0f /s     p50 %6.2f ms  p99 %6.2f ms\n' \
    "$d_rps" "$d_p50" "$d_p99"
echo
ratio=$(awk -v b="$b_rps" -v a="$a_rps" 'BEGIN {printf "%.2f", b / a}')
gain=$(awk -v b="$b_rps" -v e="$e_rps" 'BEGIN {printf "%.1f", b / e}')
verdict() { awk -v x="$1" -v t="$2" -v op="$3" 'BEGIN {
    ok = op == "ge" ? x + 0 >= t + 0 : x + 0 <= t + 0; print ok ? "met" : "MISSED"}'; }
printf '  (c) ratio b/a (allocations / HTTP ceiling)  %s   target >= 0.5: %s\n' "$ratio" \
    "$(verdict "$ratio" 0.5 ge)"
printf '      p99 allocation latency                 %s ms   target <= 25 ms: %s\n' "$b_p99" \
    "$(verdict "$b_p99" 25 le)"
printf '  (e) group commit gain b/e                   %sx   target >= 3x: %s\n' "$gain" \
    "$(verdict "$gain" 3 ge)"
bad=$((a_bad + b_bad + e_bad + ${d_non2xx:-0} + ${d_err:-0}))
echo "  non-2xx replies and socket errors, all runs: $bad"
if ((bad > 0)); then
    echo "load.sh: some requests failed (see the wrk output above in $tmp/wrk.log)" >&2
    cat "$tmp/wrk.log" >&2
    exit 1
fi
