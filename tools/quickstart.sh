#!/usr/bin/env bash
# tools/quickstart.sh — from a fresh clone to a running example:
# installs missing packages (tools/deps.sh), builds ember into build/
# (EMBER_BUILD_DIR overrides it) and runs examples/quickstart.c.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${EMBER_BUILD_DIR:-$root/build}
jobs=${EMBER_JOBS:-$(nproc 2>/dev/null || echo 2)}

step() {
    printf '\n==> %s\n' "$*"
}

step "checking dependencies"
bash "$root/tools/deps.sh"

# Quiet on success; on failure the log's end says what went wrong.
quietly() {
    local log=$1
    shift
    if ! "$@" >"$log" 2>&1; then
        tail -n 60 "$log"
        echo "failed: $* (full log: $log)" >&2
        exit 1
    fi
}

mkdir -p "$build"
step "configuring $build"
quietly "$build/quickstart-configure.log" \
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo

step "building ($jobs jobs)"
quietly "$build/quickstart-build.log" cmake --build "$build" -j "$jobs"
echo "built $build/libember.so, $build/libember.a and $build/examples/"

step "running $build/examples/quickstart"
echo
"$build/examples/quickstart"

step "next"
echo "  read examples/quickstart.c, then run the full checks with: tools/test.sh"
echo "  install: cmake --install $build --prefix <dir>, then find_package(ember) or pkg-config ember"
