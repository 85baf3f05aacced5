#!/usr/bin/env bash
# tls.sh - HTTPS end to end with certificate verification on (issue 3, Done-when 4): the test
# makes its own CA and a server certificate for 127.0.0.1 with the openssl CLI, starts lbipamd
# with --tls-cert/--tls-key, and drives it with curl --cacert (never -k). Plain HTTP to the TLS
# port must fail, and a client that does not trust the CA must be refused.
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"

command -v openssl >/dev/null || bb_fail "openssl is missing (scripts/deps.sh test installs it)"
pki=$bb_tmp/pki
mkdir -p "$pki"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=lbipam test CA" \
    -keyout "$pki/ca.key" -out "$pki/ca.pem" 2>"$pki/openssl.log" ||
    bb_fail "cannot make the CA: $(cat "$pki/openssl.log")"
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$pki/server.key" -out "$pki/server.csr" 2>>"$pki/openssl.log" ||
    bb_fail "cannot make the server key"
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$pki/ext.cnf"
openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" \
    -CAcreateserial -days 2 -extfile "$pki/ext.cnf" -out "$pki/server.pem" \
    2>>"$pki/openssl.log" || bb_fail "cannot sign the server certificate"
bb_ok "made a CA and a server certificate for IP 127.0.0.1"

db=$bb_tmp/lbipam.db
https() { curl -sS --max-time 10 --cacert "$pki/ca.pem" "$@"; }
for ((attempt = 0; attempt < 5; attempt++)); do
    bb_port=$(bb_free_port)
    bb_log=$bb_tmp/lbipamd.$attempt.log
    "$LBIPAMD" --listen "127.0.0.1:$bb_port" --db "$db" --tls-cert "$pki/server.pem" \
        --tls-key "$pki/server.key" >"$bb_log" 2>&1 &
    bb_pid=$!
    for ((i = 0; i < 100; i++)); do
        kill -0 "$bb_pid" 2>/dev/null || break
        https -f -o /dev/null "https://127.0.0.1:$bb_port/readyz" 2>/dev/null && break 2
        sleep 0.1
    done
    kill -0 "$bb_pid" 2>/dev/null && bb_fail "lbipamd (TLS) did not become ready"
    wait "$bb_pid" 2>/dev/null || true
    bb_pid=""
    grep -qiE 'address already in use|bind' "$bb_log" || bb_fail "lbipamd exited (log below)"
done
[[ -n $bb_pid ]] || bb_fail "lbipamd could not bind a port"
grep -q '"scheme":"https"' "$bb_log" || bb_fail "the log does not say https"
bb_ok "lbipamd serves HTTPS on 127.0.0.1:$bb_port (verified against the test CA)"

token=$(<"$bb_tmp/admin.token")
auth=(-H "Authorization: Bearer $token")
out=$(https --fail-with-body "${auth[@]}" -X POST -H 'Content-Type: application/json' \
    -d '{"name": "tls-c1"}' "https://127.0.0.1:$bb_port/v1/clusters") ||
    bb_fail "POST over HTTPS failed: $out"
[[ $(jq -r .name <<<"$out") == tls-c1 ]] || bb_fail "unexpected reply: $out"
out=$(https --fail-with-body "${auth[@]}" "https://127.0.0.1:$bb_port/v1/clusters/tls-c1") ||
    bb_fail "GET over HTTPS failed: $out"
bb_ok "POST and GET /v1/clusters over verified HTTPS"

code=$(https -o /dev/null -w '%{http_code}' "https://127.0.0.1:$bb_port/v1/clusters" || true)
[[ $code == 401 ]] || bb_fail "no token over HTTPS: expected 401, got $code"

if curl -sS --max-time 5 -o /dev/null "https://127.0.0.1:$bb_port/healthz" 2>"$bb_tmp/untrusted.err"; then
    bb_fail "a client without the CA accepted the server certificate"
fi
grep -qiE 'certificate|SSL' "$bb_tmp/untrusted.err" ||
    bb_fail "untrusted client failed, but not on the certificate: $(cat "$bb_tmp/untrusted.err")"
bb_ok "a client that does not trust the CA is refused: $(head -c 120 "$bb_tmp/untrusted.err")"

code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$bb_port/healthz" || true)
[[ $code != 200 ]] || bb_fail "plain HTTP to the TLS port answered 200"
bb_ok "plain HTTP to the TLS port gets no HTTP answer (status '$code')"

# the server still serves after that
https -f -o /dev/null "https://127.0.0.1:$bb_port/healthz" || bb_fail "HTTPS broke after plain HTTP"

bb_stop
[[ $bb_exit == 0 ]] || bb_fail "lbipamd exited $bb_exit after SIGTERM"
bb_pass
