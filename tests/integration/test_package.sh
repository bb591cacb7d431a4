#!/usr/bin/env bash
# test_package.sh — checks ember as a consumer sees it once installed.
#
#   test_package.sh BUILD_DIR SOURCE_DIR [SANITIZE]
#
# Installs BUILD_DIR into a temporary prefix with `cmake --install --prefix`,
# then, against that prefix only:
#   (a) builds a consumer with CMake: find_package(ember REQUIRED) and
#       target_link_libraries(... ember::ember), and runs it;
#   (b) builds the same consumer with `pkg-config --cflags --libs ember` and
#       runs it;
#   (c) checks the shared library's SONAME is libember.so.<major>.
# SANITIZE is the build's EMBER_SANITIZE value: a sanitized libember.so needs
# consumers built with the same -fsanitize flags.
set -euo pipefail

if (($# < 2)); then
    echo "usage: $0 BUILD_DIR SOURCE_DIR [SANITIZE]" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
sanitize=${3:-}
cc=${CC:-cc}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ember-package.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
failures=0

step() {
    printf '\n--- %s\n' "$*"
}

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

san_flags=()
if [[ -n $sanitize ]]; then
    san_flags=("-fsanitize=$sanitize" -fno-omit-frame-pointer)
fi

major=$(sed -n 's/^#define EMBER_VERSION_MAJOR \([0-9][0-9]*\).*/\1/p' \
    "$source_dir/include/ember.h")
if [[ -z $major ]]; then
    echo "cannot read EMBER_VERSION_MAJOR from $source_dir/include/ember.h"
    exit 1
fi

step "install $build into $prefix"
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 || {
    cat "$tmp/install.log"
    echo "FAIL: cmake --install"
    exit 1
}
sed 's/^/    /' "$tmp/install.log"
if [[ ! -f $prefix/include/ember.h ]]; then
    fail "include/ember.h not installed"
fi

# The consumer: uses the public header only, and exercises the library for
# real (open, a command, its reply, close), not just the link.
mkdir -p "$tmp/consumer"
cat >"$tmp/consumer/consumer.c" <<'EOF'
#include <ember.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    if (strcmp(ember_version(), "") == 0 || ember_version_number() != EMBER_VERSION_NUMBER) {
        fprintf(stderr, "header/library version mismatch: %s\n", ember_version());
        return 1;
    }
    ember_db *db = NULL;
    if (ember_db_open(NULL, &db) != EMBER_OK)
        return 2;
    const char *set[] = {"SET", "greeting", "hello"};
    const char *get[] = {"GET", "greeting"};
    ember_reply *r = NULL;
    if (ember_command(db, 3, set, NULL, &r) != EMBER_OK)
        return 3;
    ember_reply_free(r);
    r = NULL;
    if (ember_command(db, 2, get, NULL, &r) != EMBER_OK)
        return 4;
    size_t len = 0;
    const char *s = ember_reply_str(r, &len);
    int ok = s && len == 5 && memcmp(s, "hello", 5) == 0;
    ember_reply_free(r);
    if (ember_db_close(db) != EMBER_OK || !ok)
        return 5;
    printf("consumer ok: ember %s\n", ember_version());
    return 0;
}
EOF
cat >"$tmp/consumer/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.18)
project(ember_consumer LANGUAGES C)
find_package(ember REQUIRED)
add_executable(consumer consumer.c)
target_link_libraries(consumer ember::ember)
EOF

step "(a) CMake consumer: find_package(ember) + ember::ember"
cmake_args=(-S "$tmp/consumer" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$prefix"
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
if ((${#san_flags[@]})); then
    cmake_args+=(-DCMAKE_C_FLAGS="${san_flags[*]}" -DCMAKE_EXE_LINKER_FLAGS="${san_flags[*]}")
fi
if cmake "${cmake_args[@]}" >"$tmp/a.log" 2>&1 &&
    cmake --build "$tmp/cmake-build" >>"$tmp/a.log" 2>&1; then
    found=$(sed -n 's/^ember_DIR:PATH=//p' "$tmp/cmake-build/CMakeCache.txt")
    echo "    ember_DIR=$found"
    if [[ $found != "$prefix"/* ]]; then
        fail "(a) find_package found ember outside the test prefix: $found"
    fi
    if "$tmp/cmake-build/consumer"; then
        echo "    (a) ok"
    else
        fail "(a) the CMake-built consumer exited with $?"
    fi
else
    sed 's/^/    /' "$tmp/a.log"
    fail "(a) configuring or building the CMake consumer"
fi

step "(b) pkg-config consumer: pkg-config --cflags --libs ember"
pcfile=$(find "$prefix" -name ember.pc -print -quit)
if [[ -z $pcfile ]]; then
    fail "(b) ember.pc was not installed"
else
    echo "    $pcfile"
    export PKG_CONFIG_PATH
    PKG_CONFIG_PATH=$(dirname "$pcfile")
    if flags=$(pkg-config --cflags --libs ember 2>"$tmp/b.log"); then
        echo "    pkg-config --cflags --libs ember: $flags"
        # The flags must point into the prefix the package was installed to;
        # a .pc file that names another prefix (e.g. the configure-time one)
        # would build against whatever ember happens to live there.
        libdir=$(pkg-config --variable=libdir ember)
        includedir=$(pkg-config --variable=includedir ember)
        if [[ ! -f $includedir/ember.h || ! -e $libdir/libember.so ]]; then
            fail "(b) ember.pc points to includedir=$includedir libdir=$libdir, which do not" \
                "hold the installed files (installed with --prefix $prefix)"
        else
            read -r -a flag_array <<<"$flags"
            if "$cc" "${san_flags[@]}" "$tmp/consumer/consumer.c" -o "$tmp/consumer-pc" \
                "${flag_array[@]}" -Wl,-rpath,"$libdir" >"$tmp/b.log" 2>&1; then
                if "$tmp/consumer-pc"; then
                    echo "    (b) ok"
                else
                    fail "(b) the pkg-config-built consumer exited with $?"
                fi
            else
                sed 's/^/    /' "$tmp/b.log"
                fail "(b) compiling with pkg-config's flags"
            fi
        fi
    else
        sed 's/^/    /' "$tmp/b.log"
        fail "(b) pkg-config --cflags --libs ember"
    fi
fi

step "(c) SONAME"
so=$(find "$prefix" -name 'libember.so.*.*' -type f -print -quit)
if [[ -z $so ]]; then
    fail "(c) no versioned libember.so.* installed"
else
    soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
    echo "    $(basename "$so"): SONAME $soname"
    if [[ $soname != "libember.so.$major" ]]; then
        fail "(c) SONAME is '$soname', expected libember.so.$major"
    fi
    link=$(dirname "$so")/libember.so.$major
    if [[ ! -L $link || $(readlink -f "$link") != "$(readlink -f "$so")" ]]; then
        fail "(c) $link is not a symlink to $(basename "$so")"
    fi
fi
if [[ -z $(find "$prefix" -name libember.a -print -quit) ]]; then
    fail "libember.a was not installed"
fi

echo
if ((failures)); then
    echo "test_package: $failures check(s) failed"
    exit 1
fi
echo "test_package: all checks passed"
