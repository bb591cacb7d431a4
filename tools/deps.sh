#!/usr/bin/env bash
# tools/deps.sh — installs the Debian/Ubuntu packages that ember's build,
# examples and test suite need. Used by tools/quickstart.sh and .ci/run.
#
#   tools/deps.sh           install whatever is missing (needs root or sudo)
#   tools/deps.sh --check   only report; exit 1 if something is missing
#
# Packages already installed are detected with dpkg, so a second run does
# not touch the network. The test suite starts its own redis-server processes
# on free ports; the system redis-server service is never needed. When this
# script installs redis-server itself, or when CI=true, the service the
# package starts is stopped and disabled so that nothing listens on 6379.
set -euo pipefail

packages=(
    build-essential # gcc, g++, make, binutils (readelf, nm)
    cmake
    pkg-config
    libcmocka-dev
    libzstd-dev
    libxxhash-dev
    redis-server # reference server for the integration tests
    redis-tools
    clang-format
    locales # localedef data: tests/api/test_locale builds a comma-decimal locale
    libsqlite3-dev # examples/recent_visitors and bench_collections compare with SQLite
    sqlite3        # the sqlite3 shell, to look into the benchmark's database by hand
    libhiredis-dev # tests/integration/test_server_hiredis: ember-server through hiredis
    gnuplot-nox    # tests/bench/bench_server.sh: the ratio plot docs/bench_server.png
)

sudo=() # prefix for commands that need root, set by main()

say() {
    printf 'deps: %s\n' "$*"
}

is_installed() {
    local status
    status=$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) || return 1
    [[ $status == installed ]]
}

missing_packages() {
    local p
    for p in "${packages[@]}"; do
        if ! is_installed "$p"; then
            printf '%s\n' "$p"
        fi
    done
}

# Stops and disables the redis-server system service, if there is one.
# Only the service is touched: redis-server processes started by tests or by
# a user by hand are left alone.
stop_redis_service() {
    if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
        if systemctl list-unit-files redis-server.service >/dev/null 2>&1; then
            say "stopping and disabling the redis-server service (systemd)"
            "${sudo[@]}" systemctl disable --now redis-server.service >/dev/null 2>&1 || true
        fi
    elif [[ -x /etc/init.d/redis-server ]]; then
        say "stopping and disabling the redis-server service (init.d)"
        "${sudo[@]}" /etc/init.d/redis-server stop >/dev/null 2>&1 || true
        if command -v update-rc.d >/dev/null 2>&1; then
            "${sudo[@]}" update-rc.d redis-server disable >/dev/null 2>&1 || true
        fi
    fi
}

main() {
    local check_only=0
    case "${1:-}" in
    --check) check_only=1 ;;
    "") ;;
    *)
        echo "usage: $0 [--check]" >&2
        exit 2
        ;;
    esac

    if ! command -v dpkg-query >/dev/null 2>&1; then
        say "this is not a Debian-based system; install these packages (or their"
        say "equivalents) yourself: ${packages[*]}"
        exit $((check_only ? 1 : 0))
    fi

    local missing=()
    mapfile -t missing < <(missing_packages)

    if ((${#missing[@]} == 0)); then
        say "all ${#packages[@]} packages present"
    elif ((check_only)); then
        say "missing: ${missing[*]}"
        say "run tools/deps.sh (as root) to install them"
        exit 1
    else
        if ((EUID != 0)); then
            if command -v sudo >/dev/null 2>&1; then
                sudo=(sudo)
            else
                say "missing: ${missing[*]}; run this script as root"
                exit 1
            fi
        fi
        say "installing: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        "${sudo[@]}" apt-get update -q
        "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
        if printf '%s\n' "${missing[@]}" | grep -qx redis-server; then
            stop_redis_service
        fi
    fi

    if [[ ${CI:-} == true ]] && ((check_only == 0)) && ((EUID == 0)); then
        stop_redis_service
    fi
}

main "$@"
