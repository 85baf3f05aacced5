#!/usr/bin/env bash
# hostile.sh - a corpus of hostile requests (issue 3, Done-when 5): each gets a 4xx
# problem+json (never a 5xx, never a crash), and a normal request works right after each.
# Malformed JSON, a 5 MiB body (announced and chunked), 10,000-deep nesting, NUL bytes,
# invalid UTF-8, a huge label map, a huge string, a 64 KiB header, a 16 KiB URL, and a
# slowloris-style trickle (lbipamd runs with --request-timeout 2 so the test is quick).
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"

# a write to a socket the server closed must fail, not kill the test
trap '' PIPE

db=$bb_tmp/lbipam.db
# bb_start, with the short request timeout
"$LBIPAMD" --help >/dev/null
bb_port=$(bb_free_port)
bb_log=$bb_tmp/lbipamd.log
"$LBIPAMD" --listen "127.0.0.1:$bb_port" --db "$db" --request-timeout 2 >"$bb_log" 2>&1 &
bb_pid=$!
bb_wait_ready || bb_fail "lbipamd exited before it was ready"
bb_token_file=$bb_tmp/admin.token
token=$(<"$bb_token_file")
bb_api POST /v1/clusters '{"name": "c1"}' >/dev/null

# send NAME EXPECTED-STATUS CURL-ARGS...: the status must match, the body be problem+json,
# and a normal request must work afterwards.
send() {
    local name=$1 want=$2 code ctype
    shift 2
    code=$(curl -sS --max-time 30 -o "$bb_tmp/body" -w '%{http_code} %{content_type}' \
        -H "Authorization: Bearer $token" "$@" 2>"$bb_tmp/err") || true
    ctype=${code#* }
    code=${code%% *}
    [[ $code == "$want" ]] ||
        bb_fail "$name: expected $want, got '$code' ($(head -c 300 "$bb_tmp/body") $(cat "$bb_tmp/err"))"
    [[ $ctype == application/problem+json* ]] || bb_fail "$name: $code is not problem+json ($ctype)"
    jq -e ".status == $want" "$bb_tmp/body" >/dev/null || bb_fail "$name: body $(cat "$bb_tmp/body")"
    still_serving "$name"
    bb_ok "$name -> $code $(jq -r .reason "$bb_tmp/body")"
}

still_serving() {
    kill -0 "$bb_pid" 2>/dev/null || bb_fail "lbipamd died after: $1"
    bb_api GET /v1/clusters/c1 >/dev/null
}

url=$(bb_url /v1/pools)
json=(-X POST -H 'Content-Type: application/json')

send "malformed JSON" 400 "${json[@]}" --data-binary '{"name": "p", "blocks": [' "$url"
send "trailing garbage" 400 "${json[@]}" --data-binary '{"name": "p"} x' "$url"

head -c $((5 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$bb_tmp/5mib"
send "5 MiB body" 413 "${json[@]}" --data-binary "@$bb_tmp/5mib" "$url"
send "5 MiB chunked body" 413 "${json[@]}" -H 'Transfer-Encoding: chunked' \
    --data-binary "@$bb_tmp/5mib" "$url"

awk 'BEGIN { printf "{\"name\": \"deep\", \"labels\": ";
             for (i = 0; i < 10000; i++) printf "["; for (i = 0; i < 10000; i++) printf "]";
             printf "}" }' >"$bb_tmp/deep.json"
send "10,000-deep nesting" 400 "${json[@]}" --data-binary "@$bb_tmp/deep.json" "$url"
printf '%*s' 20000 '' | tr ' ' '{' >"$bb_tmp/open.json"
send "10,000+ unclosed objects" 400 "${json[@]}" --data-binary "@$bb_tmp/open.json" "$url"

printf '{"name": "p\0x", "blocks": []}' >"$bb_tmp/nul.json"
send "NUL byte in a string" 400 "${json[@]}" --data-binary "@$bb_tmp/nul.json" "$url"
send "escaped NUL" 400 "${json[@]}" --data-binary '{"name": "p\u0000x"}' "$url"
printf '{"name": "p\xff\xfe", "blocks": []}' >"$bb_tmp/utf8.json"
send "invalid UTF-8" 400 "${json[@]}" --data-binary "@$bb_tmp/utf8.json" "$url"
send "NUL in the path" 404 "$(bb_url /v1/pools/a%00b)"

awk 'BEGIN { printf "{\"name\": \"labels\", \"labels\": {";
             for (i = 0; i < 20000; i++) printf "%s\"k%d\": \"v\"", (i ? "," : ""), i;
             printf "}}" }' >"$bb_tmp/labels.json"
send "20,000 labels" 422 "${json[@]}" --data-binary "@$bb_tmp/labels.json" "$(bb_url /v1/clusters)"
printf '{"name": "big", "description": "%s"}' "$(head -c 900000 /dev/zero | tr '\0' x)" \
    >"$bb_tmp/string.json"
send "900 kB string" 422 "${json[@]}" --data-binary "@$bb_tmp/string.json" "$(bb_url /v1/clusters)"

send "64 KiB header" 431 -H "X-Junk: $(head -c 65536 /dev/zero | tr '\0' a)" "$url"
send "16 KiB URL" 414 "$url?x=$(head -c 16384 /dev/zero | tr '\0' a)"
send "100 query arguments" 400 "$url?$(for i in $(seq 100); do printf 'a%d=1&' "$i"; done)"

# Slowloris: a request line, then one header line a second, never the end of the headers.
# The server must answer 408 (problem+json) within its 2 s request timeout plus a tick, and
# not wait for the trickle to finish.
start=$(date +%s%N)
exec 3<>"/dev/tcp/127.0.0.1/$bb_port"
printf 'GET /v1/clusters HTTP/1.1\r\nHost: x\r\n' >&3
for ((i = 0; i < 8; i++)); do
    sleep 1
    printf 'X-Slow-%d: %d\r\n' "$i" "$i" >&3 2>/dev/null || break
done
reply=$(timeout 10 cat <&3 || true)
exec 3>&-
elapsed=$((($(date +%s%N) - start) / 1000000))
[[ $reply == "HTTP/1.1 408 "* ]] || bb_fail "slowloris: expected a 408, got: ${reply:0:200}"
grep -q 'application/problem+json' <<<"$reply" || bb_fail "slowloris: 408 is not problem+json"
((elapsed < 9000)) || bb_fail "slowloris: the connection was held ${elapsed} ms"
still_serving slowloris
bb_ok "slowloris trickle -> 408 request_timeout after ${elapsed} ms (connection closed)"

# A trickled body is cut off the same way.
exec 3<>"/dev/tcp/127.0.0.1/$bb_port"
printf 'POST /v1/clusters HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{' "$token" >&3
for ((i = 0; i < 6; i++)); do
    sleep 1
    printf ' ' >&3 2>/dev/null || break
done
reply=$(timeout 10 cat <&3 || true)
exec 3>&-
[[ $reply == "HTTP/1.1 408 "* ]] || bb_fail "slow body: expected a 408, got: ${reply:0:200}"
still_serving "slow body"
bb_ok "a body trickled byte by byte -> 408"

bb_stop
[[ $bb_exit == 0 ]] || bb_fail "lbipamd exited $bb_exit after SIGTERM"
if grep -q '"status":"5' "$bb_log"; then
    bb_fail "a 5xx was served: $(grep '"status":"5' "$bb_log" | head -3)"
fi
bb_pass
