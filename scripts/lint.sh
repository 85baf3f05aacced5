#!/usr/bin/env bash
# lint.sh BUILD_DIR - the checks of the `lint` target (CMakeLists.txt), runnable by hand:
#   cmake --build build --target lint      or      scripts/lint.sh build
# 1. clang-format --dry-run --Werror on every .c/.h (style: .clang-format);
# 2. clang-tidy (bugprone-*, clang-analyzer-*, readability-identifier-naming: lower_case,
#    UPPER_CASE macros and enum constants) over the sources in BUILD_DIR's
#    compile_commands.json (CMAKE_EXPORT_COMPILE_COMMANDS is on);
# 3. no banned calls: sprintf strcpy strcat strtok atoi gets;
# 4. no SQL in string literals outside store/ (STYLE.md: no SQL outside store/).
# Prints every finding and exits 1 if there was any.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build}
build=$(cd "$build" 2>/dev/null && pwd) || { echo "lint: no build directory '$1'" >&2; exit 2; }
cd "$root"

status=0
fail() {
    printf 'lint: %s\n' "$*" >&2
    status=1
}

# Sources of the project (never build trees, node_modules or generated files).
mapfile -d '' sources < <(find lib store api server clients tests \
    -type f \( -name '*.c' -o -name '*.h' \) -print0 2>/dev/null | sort -z)
if ((${#sources[@]} == 0)); then
    echo "lint: no sources found under $root" >&2
    exit 2
fi

# 1. Formatting.
echo "lint: clang-format (${#sources[@]} files)"
if ! clang-format --dry-run --Werror "${sources[@]}"; then
    fail "clang-format: run clang-format -i on the files above"
fi

# 2. clang-tidy over the translation units that the build compiles from this tree, except
#    tests/: Criterion's macros and the tests' lower-case assertion macros (a deliberate test
#    vocabulary) are not production code. Tests are still format-checked and grepped below.
if [[ ! -f $build/compile_commands.json ]]; then
    fail "no $build/compile_commands.json: configure the build first"
else
    mapfile -t units < <(sed -n 's/^ *"file": *"\(.*\)",\{0,1\} *$/\1/p' \
        "$build/compile_commands.json" | grep -E "^$root/(lib|store|api|server|clients)/" |
        grep -vF "$build/" | sort -u)
    # Not enabled, and why:
    # - bugprone-easily-swappable-parameters: flags every (const char *, const char *) pair,
    #   i.e. most of a C API;
    # - clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling: wants Annex K
    #   (memcpy_s…), which glibc does not have;
    # - clang-analyzer-optin.performance.Padding: the structs it flags are a few long-lived
    #   objects (the store, a request) whose fields are grouped by meaning, not by size.
    checks='-*,bugprone-*,clang-analyzer-*,readability-identifier-naming'
    checks+=',-bugprone-easily-swappable-parameters'
    checks+=',-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling'
    checks+=',-clang-analyzer-optin.performance.Padding'
    config='{CheckOptions: [
        {key: readability-identifier-naming.FunctionCase, value: lower_case},
        {key: readability-identifier-naming.VariableCase, value: lower_case},
        {key: readability-identifier-naming.ParameterCase, value: lower_case},
        {key: readability-identifier-naming.StructCase, value: lower_case},
        {key: readability-identifier-naming.UnionCase, value: lower_case},
        {key: readability-identifier-naming.EnumCase, value: lower_case},
        {key: readability-identifier-naming.TypedefCase, value: lower_case},
        {key: readability-identifier-naming.MemberCase, value: lower_case},
        {key: readability-identifier-naming.EnumConstantCase, value: UPPER_CASE},
        {key: readability-identifier-naming.MacroDefinitionCase, value: UPPER_CASE}]}'
    echo "lint: clang-tidy (${#units[@]} translation units, $(nproc) at a time)"
    # The compile commands are gcc's: clang must not stop at a gcc-only warning flag. One
    # clang-tidy per unit, in parallel; xargs exits non-zero if any of them found something.
    tidy_out=$(mktemp)
    tidy_rc=0
    if ((${#units[@]} > 0)); then
        printf '%s\0' "${units[@]}" |
            xargs -0 -n 1 -P "$(nproc)" clang-tidy --quiet -p "$build" --checks="$checks" \
                --config="$config" --header-filter="^$root/(lib|store|api|server|clients)/" \
                --warnings-as-errors='*' --extra-arg=-Wno-unknown-warning-option \
                >"$tidy_out" 2>&1 || tidy_rc=$?
    fi
    grep -vE '^[0-9]+ warnings?( and [0-9]+ errors?)? generated|^Suppressed [0-9]+|^Use -header-filter' \
        "$tidy_out" || true
    rm -f -- "$tidy_out"
    ((tidy_rc == 0)) || fail "clang-tidy: findings above"
fi

# 3. Banned calls (unbounded or error-blind); use snprintf, memcpy with a length, strtol…
echo "lint: banned calls"
if grep -nE '(^|[^A-Za-z0-9_])(sprintf|strcpy|strcat|strtok|atoi|gets)[[:space:]]*\(' \
    "${sources[@]}"; then
    fail "banned calls above: sprintf strcpy strcat strtok atoi gets"
fi

# 4. SQL lives in store/ only. tests/ may inspect a database directly, so they are exempt.
echo "lint: SQL outside store/"
mapfile -d '' nonstore < <(find lib api server clients \
    -type f \( -name '*.c' -o -name '*.h' \) -print0 2>/dev/null | sort -z)
if ((${#nonstore[@]} > 0)) &&
    grep -nE '"[^"]*(SELECT |INSERT INTO|UPDATE [A-Za-z_]+ SET|DELETE FROM|CREATE (TABLE|INDEX)|PRAGMA )' \
        "${nonstore[@]}"; then
    fail "SQL outside store/ above: move it behind store.h"
fi

if ((status == 0)); then
    echo "lint: ok"
fi
exit "$status"
