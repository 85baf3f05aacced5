# common.bash - what the lbipamctl test scripts share: the binaries, pass/fail counting, and
# ctl/expect helpers over a real lbipamd started by tests/blackbox/common.bash. Sourced after
# tests/blackbox/common.bash; not a test itself (tests/CMakeLists.txt lists the scripts).

LBIPAMCTL=${LBIPAMCTL:-$(dirname "$LBIPAMD")/../clients/lbipamctl}
[[ -x $LBIPAMCTL ]] || bb_fail "LBIPAMCTL=$LBIPAMCTL is not an executable"

passed=0
failed=0
out=$bb_tmp/out
err=$bb_tmp/err
rc=0

pass() {
    passed=$((passed + 1))
    printf 'ok: %s\n' "$1"
}

fail() {
    failed=$((failed + 1))
    printf 'FAIL: %s\n' "$1" >&2
    if [[ -s $out ]]; then sed 's/^/  stdout| /' "$out" >&2; fi
    if [[ -s $err ]]; then sed 's/^/  stderr| /' "$err" >&2; fi
}

# ctl ARGS...: runs lbipamctl against the test server; stdout in $out, stderr in $err, the
# exit status in $rc. A sanitizer report counts as a failure of its own.
ctl() {
    rc=0
    "$LBIPAMCTL" --server "$(bb_url '')" "${token_args[@]}" "$@" >"$out" 2>"$err" || rc=$?
    if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$err"; then
        fail "sanitizer report from lbipamctl $*"
    fi
}

# expect NAME RC [GREP-PATTERN [stdout|stderr]]: the last ctl exited with RC and (optionally)
# printed a line matching the extended regex.
expect() {
    local name=$1 want=$2 pattern=${3:-} stream=${4:-stdout} file
    file=$out
    [[ $stream == stderr ]] && file=$err
    if ((rc != want)); then
        fail "$name: exit status $rc, expected $want"
    elif [[ -n $pattern ]] && ! grep -qE -- "$pattern" "$file"; then
        fail "$name: no line matching /$pattern/ on $stream"
    else
        pass "$name"
    fi
}

# expect_jq NAME FILTER: the last ctl's stdout is JSON for which FILTER is true.
expect_jq() {
    local name=$1 filter=$2
    if ((rc != 0)); then
        fail "$name: exit status $rc"
    elif [[ $(jq -r "$filter" "$out" 2>&1) == true ]]; then
        pass "$name"
    else
        fail "$name: jq '$filter' is not true"
    fi
}

# ctl_start_server: a fresh lbipamd; every ctl call then sends the admin token it wrote
# beside its database on first start (api.md §9).
ctl_start_server() {
    bb_start "$bb_tmp/lbipam.db"
    [[ -f $bb_tmp/admin.token ]] || bb_fail "lbipamd wrote no admin.token beside its database"
    token_args=(--token-file "$bb_tmp/admin.token")
    token=$(<"$bb_tmp/admin.token")
}
