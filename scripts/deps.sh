#!/usr/bin/env bash
# deps.sh - install what lbipam needs on Debian 12, as root. Idempotent: installs only what is
# missing and runs `apt-get update` only when something is.
#
#   scripts/deps.sh          build + run dependencies (compiler, CMake, the C libraries,
#                            curl and jq for the README walkthrough)
#   scripts/deps.sh test     the above, plus what the test suite needs: Criterion,
#                            sqlite3, iproute2, clang-format/clang-tidy for the
#                            lint target, Node.js + npm, prometheus (promtool) and
#                            chromium for the metrics/alert/dashboard tests, and the
#                            pinned @redocly/cli and playwright-core (`npm ci` from
#                            package-lock.json into node_modules/)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mode=${1:-build}

# What the build links (see CMakeLists.txt) and what the daemon needs at run time.
build_pkgs=(
    build-essential     # gcc, make, libc headers
    cmake
    pkg-config          # CMake finds every library below through pkg-config
    libmicrohttpd-dev   # HTTP server
    libjansson-dev      # JSON
    libsqlite3-dev      # the store
    libcurl4-openssl-dev # outbound HTTP (Kubernetes client, API tests)
    libssl-dev          # SHA-256 (idempotency keys), TLS later
    libyaml-dev         # lbipam-sync reads kubeconfig files (YAML) with libyaml
    curl                # the README walkthrough (and the black-box tests)
    jq                  # the README walkthrough pretty-prints with it (and the tests read JSON)
)
# What only the test suite and the lint target need.
test_pkgs=(
    libcriterion-dev    # unit and API tests
    sqlite3             # black-box tests check PRAGMA integrity_check / user_version
    iproute2            # flags.sh checks that ::1 exists (`ip -6 addr show lo`)
    clang-format        # lint target
    clang-tidy          # lint target
    clang               # libFuzzer targets (tests/fuzz/smoke.sh, scripts/fuzz.sh)
    ca-certificates     # npm ci fetches @redocly/cli over HTTPS
    openssl             # the sync tests make their own CA and certificates
    wrk                 # tests/bench/load.sh and the fault tests' 64-connection load
    e2fsprogs           # chattr: fault_readonly.sh makes the database file immutable
    bird2               # the reachability lab's BGP speakers; `bird -p` checks rendered fragments
    python3             # the reachability lab's HTTP responder (python3 -m http.server)
    prometheus          # promtool: `check metrics` on GET /metrics, `check/test rules` on ops/
    chromium            # the dashboard's end-to-end test (driven by playwright-core, no download)
)

log() { printf 'deps: %s\n' "$*" >&2; }

is_root=0
[[ $(id -u) -eq 0 ]] && is_root=1

# Prints the packages of "$@" that are not installed.
missing() {
    local p
    for p in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
            printf '%s\n' "$p"
        fi
    done
}

updated=0
apt_install() {
    (($# > 0)) || return 0
    if ((!is_root)); then
        log "missing packages: $*; run this script as root to install them"
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    if ((!updated)); then
        log "apt-get update"
        apt-get update -qq
        updated=1
    fi
    log "apt-get install $*"
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

want=("${build_pkgs[@]}")
if [[ $mode == test ]]; then
    want+=("${test_pkgs[@]}")
elif [[ $mode != build ]]; then
    echo "usage: $0 [build|test]" >&2
    exit 2
fi

mapfile -t todo < <(missing "${want[@]}")

# Node.js runs @redocly/cli and the fake Kubernetes API server of the sync tests. Any
# Node.js >= 18.17 with npm will do, so
# a Node.js that did not come from Debian's packages (e.g. with npm bundled) counts as well.
if [[ $mode == test ]]; then
    command -v node >/dev/null 2>&1 || todo+=(nodejs)
    command -v npm >/dev/null 2>&1 || todo+=(npm)
fi

apt_install "${todo[@]}"

# playwright-core (the dashboard test) needs Node.js >= 20. Debian 12's own nodejs is 18; the
# machines this project runs on take nodejs 20 from their configured apt source. Say so
# plainly rather than let the browser test fail later with a cryptic error.
if [[ $mode == test ]]; then
    node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
    if ((node_major < 20)); then
        log "Node.js $(node --version 2>/dev/null || echo missing) is too old: the dashboard" \
            "test (playwright-core) needs Node.js >= 20; add an apt source with nodejs 20"
        exit 1
    fi
fi

if [[ $mode == test ]]; then
    # npm ci is exact (package-lock.json) but slow; skip it when node_modules already holds the
    # pinned version.
    want_version=$(sed -n 's/.*"@redocly\/cli": *"\([^"]*\)".*/\1/p' "$root/package.json" | head -n1)
    have_version=""
    if [[ -f $root/node_modules/@redocly/cli/package.json ]]; then
        have_version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' \
            "$root/node_modules/@redocly/cli/package.json" | head -n1)
    fi
    # playwright-core drives Debian's chromium in tests/ui/; it never downloads a browser.
    pw_want=$(sed -n 's/.*"playwright-core": *"\([^"]*\)".*/\1/p' "$root/package.json" | head -n1)
    pw_have=""
    if [[ -f $root/node_modules/playwright-core/package.json ]]; then
        pw_have=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' \
            "$root/node_modules/playwright-core/package.json" | head -n1)
    fi
    if [[ -z $want_version || $have_version != "$want_version" || $pw_have != "$pw_want" ]]; then
        log "npm ci (@redocly/cli $want_version, playwright-core $pw_want)"
        (cd "$root" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
    fi
fi
log "ok ($mode)"
