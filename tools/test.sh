#!/usr/bin/env bash
# tools/test.sh — every check CI runs, in four stages:
#
#   format   clang-format --dry-run --Werror over lib/ include/ tests/ examples/
#   release  RelWithDebInfo build with -Werror, the whole ctest suite
#   asan     AddressSanitizer + UndefinedBehaviorSanitizer build, the whole suite
#   tsan     ThreadSanitizer build, the tests labelled "concurrency"
#
# -Werror applies to the release stage, the warnings gate. The sanitizer builds
# use -O1, where GCC's flow-dependent warnings differ; they list their warnings
# but still run their tests.
#
# Builds go to build-ci/<stage>/ (EMBER_BUILD_ROOT overrides build-ci/). Every
# stage runs even if an earlier one failed; the script exits 1 if any failed.
#
# Local shortcuts (ignored when CI=true, where everything runs):
#   EMBER_SKIP_FORMAT=1 EMBER_SKIP_RELEASE=1 EMBER_SKIP_ASAN=1 EMBER_SKIP_TSAN=1
#   EMBER_FAIL_FAST=1   stop at the first failing stage
# Tuning: EMBER_JOBS (build parallelism, default nproc), EMBER_CTEST_JOBS (2).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_root=${EMBER_BUILD_ROOT:-$root/build-ci}
jobs=${EMBER_JOBS:-$(nproc 2>/dev/null || echo 2)}
ctest_jobs=${EMBER_CTEST_JOBS:-2}
log_dir=$build_root/logs

stage_names=()
stage_results=()
stage_seconds=()
ctest_summaries=()
total_passed=0
total_failed=0
stage_counted=0 # set when the running stage added its tests to the totals
tsan_prefix=() # command prefix that makes TSan work here (setarch -R), if needed

header() {
    printf '\n==================== %s ====================\n' "$*"
}

note() {
    printf 'test.sh: %s\n' "$*"
}

skipped() {
    local var=$1
    if [[ ${!var:-0} != 1 ]]; then
        return 1
    fi
    if [[ ${CI:-} == true ]]; then
        note "$var=1 ignored because CI=true"
        return 1
    fi
    return 0
}

# Configures and builds one tree quietly; the log is printed only on failure.
build_tree() {
    local name=$1 dir=$2
    shift 2
    local log=$log_dir/$name-build.log
    mkdir -p "$log_dir"
    note "configuring $dir ($*)"
    if ! cmake -S "$root" -B "$dir" "$@" >"$log" 2>&1; then
        tail -n 100 "$log"
        note "configure failed; full log: $log"
        return 1
    fi
    note "building with $jobs jobs"
    if ! cmake --build "$dir" -j "$jobs" >>"$log" 2>&1; then
        grep -E -B2 -A6 'error|Error' "$log" | tail -n 200 || tail -n 100 "$log"
        note "build failed; full log: $log"
        return 1
    fi
    local warnings
    warnings=$(grep -c 'warning:' "$log" || true)
    note "build ok ($warnings warnings)"
    if ((warnings > 0)); then
        grep -A3 'warning:' "$log" | head -n 40
    fi
}

# Runs ctest in a build tree (extra arguments are passed on) and records its
# summary line. The tsan stage runs it through tsan_prefix.
run_ctest() {
    local name=$1 dir=$2
    shift 2
    local log=$log_dir/$name-ctest.log
    local cmd=(ctest --output-on-failure -j "$ctest_jobs" --no-tests=error "$@")
    if [[ $name == tsan ]] && ((${#tsan_prefix[@]})); then
        cmd=("${tsan_prefix[@]}" "${cmd[@]}")
    fi
    note "running: ${cmd[*]}"
    local rc=0
    (cd "$dir" && "${cmd[@]}") 2>&1 | tee "$log" || rc=$?
    local summary
    summary=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" |
        tail -n 1 || true)
    if [[ -n $summary ]]; then
        ctest_summaries+=("$name: $summary")
        local failed total
        failed=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$summary")
        total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$summary")
        total_failed=$((total_failed + failed))
        total_passed=$((total_passed + total - failed))
        stage_counted=1
    else
        ctest_summaries+=("$name: ctest printed no summary (exit $rc)")
    fi
    return "$rc"
}

stage_format() {
    if ! command -v clang-format >/dev/null 2>&1; then
        note "clang-format not found (run tools/deps.sh)"
        return 1
    fi
    local files=()
    mapfile -d '' -t files < <(cd "$root" && find lib include tests examples -type f \
        \( -name '*.c' -o -name '*.h' -o -name '*.cpp' -o -name '*.hpp' -o -name '*.cc' \) \
        -print0 2>/dev/null | sort -z)
    note "$(clang-format --version), ${#files[@]} files"
    if ((${#files[@]} == 0)); then
        note "no sources found"
        return 1
    fi
    local bad=()
    local f
    for f in "${files[@]}"; do
        if ! (cd "$root" && clang-format --dry-run --Werror "$f" >/dev/null 2>&1); then
            bad+=("$f")
        fi
    done
    if ((${#bad[@]})); then
        note "${#bad[@]} file(s) need clang-format -i:"
        for f in "${bad[@]}"; do
            printf '  %s\n' "$f"
        done
        # Show the first differences so the log says what is wrong.
        (cd "$root" && clang-format --dry-run --Werror "${bad[@]}" 2>&1 | head -n 60) || true
        return 1
    fi
    note "all files formatted"
}

stage_release() {
    local dir=$build_root/release
    build_tree release "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMBER_WERROR=ON \
        -DEMBER_SANITIZE= || return 1
    run_ctest release "$dir"
}

stage_asan() {
    local dir=$build_root/asan
    # -O1 keeps sanitized tests fast; Debug keeps assert() on.
    build_tree asan "$dir" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-O1 -g" \
        -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" -DEMBER_WERROR=OFF \
        -DEMBER_SANITIZE=address,undefined -DEMBER_BUILD_BENCH=OFF || return 1
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        run_ctest asan "$dir"
}

# TSan maps its shadow memory at fixed addresses; with many random bits of
# mmap ASLR (vm.mmap_rnd_bits > 28, common on newer kernels) older runtimes
# abort with "unexpected memory mapping". Probe it, and fall back to running
# without ASLR (setarch -R), or to lowering mmap_rnd_bits when root.
tsan_probe() {
    local dir=$1
    mkdir -p "$dir"
    cat >"$dir/tsan_probe.c" <<'EOF'
#include <pthread.h>
static int shared;
static void *worker(void *arg)
{
    (void)arg;
    __atomic_fetch_add(&shared, 1, __ATOMIC_SEQ_CST);
    return 0;
}
int main(void)
{
    pthread_t t;
    if (pthread_create(&t, 0, worker, 0) != 0)
        return 1;
    __atomic_fetch_add(&shared, 1, __ATOMIC_SEQ_CST);
    pthread_join(t, 0);
    return shared == 2 ? 0 : 1;
}
EOF
    local cc=${CC:-cc}
    if ! "$cc" -fsanitize=thread -g -O1 "$dir/tsan_probe.c" -o "$dir/tsan_probe" -pthread \
        >"$dir/tsan_probe.log" 2>&1; then
        cat "$dir/tsan_probe.log"
        note "cannot build with -fsanitize=thread ($cc)"
        return 1
    fi
    if "$dir/tsan_probe" >>"$dir/tsan_probe.log" 2>&1; then
        note "TSan works here as is (vm.mmap_rnd_bits=$(cat /proc/sys/vm/mmap_rnd_bits \
            2>/dev/null || echo '?'))"
        return 0
    fi
    tail -n 5 "$dir/tsan_probe.log"
    local arch
    arch=$(uname -m)
    if command -v setarch >/dev/null 2>&1 &&
        setarch "$arch" -R "$dir/tsan_probe" >>"$dir/tsan_probe.log" 2>&1; then
        note "TSan needs ASLR off here: running the TSan tests under setarch $arch -R"
        tsan_prefix=(setarch "$arch" -R)
        return 0
    fi
    if ((EUID == 0)) && [[ -w /proc/sys/vm/mmap_rnd_bits ]]; then
        note "lowering vm.mmap_rnd_bits from $(cat /proc/sys/vm/mmap_rnd_bits) to 28"
        if echo 28 >/proc/sys/vm/mmap_rnd_bits && "$dir/tsan_probe" >>"$dir/tsan_probe.log" 2>&1
        then
            return 0
        fi
    fi
    tail -n 20 "$dir/tsan_probe.log"
    note "ThreadSanitizer does not work on this machine"
    return 1
}

stage_tsan() {
    local dir=$build_root/tsan
    tsan_probe "$build_root/tsan-probe" || return 1
    build_tree tsan "$dir" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-O1 -g" \
        -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" -DEMBER_WERROR=OFF \
        -DEMBER_SANITIZE=thread -DEMBER_BUILD_BENCH=OFF || return 1
    TSAN_OPTIONS=halt_on_error=1 run_ctest tsan "$dir" -L concurrency
}

run_stage() {
    local name=$1 skip_var=$2 title=$3
    stage_names+=("$name")
    if skipped "$skip_var"; then
        header "$title: skipped ($skip_var=1)"
        stage_results+=(skipped)
        stage_seconds+=(0)
        return 0
    fi
    header "$title"
    local start=$SECONDS rc=0
    stage_counted=0
    case $name in
    format) stage_format || rc=$? ;;
    release) stage_release || rc=$? ;;
    asan) stage_asan || rc=$? ;;
    tsan) stage_tsan || rc=$? ;;
    esac
    # A stage without a ctest summary (format, or a build that failed before
    # its tests) counts as one check.
    if ((stage_counted == 0)); then
        if ((rc == 0)); then
            total_passed=$((total_passed + 1))
        else
            total_failed=$((total_failed + 1))
        fi
    fi
    local took=$((SECONDS - start))
    stage_seconds+=("$took")
    if ((rc == 0)); then
        stage_results+=(passed)
        note "$name passed in ${took}s"
    else
        stage_results+=(FAILED)
        note "$name FAILED in ${took}s"
        if [[ ${EMBER_FAIL_FAST:-0} == 1 && ${CI:-} != true ]]; then
            summary
            exit 1
        fi
    fi
}

summary() {
    header "summary"
    local i
    for i in "${!stage_names[@]}"; do
        printf '  %-8s %-8s %5ss\n' "${stage_names[$i]}" "${stage_results[$i]}" \
            "${stage_seconds[$i]}"
    done
    if ((${#ctest_summaries[@]})); then
        echo
        for i in "${ctest_summaries[@]}"; do
            printf '  %s\n' "$i"
        done
    fi
}

main() {
    cd "$root"
    mkdir -p "$log_dir"
    local start=$SECONDS
    note "source $root, builds in $build_root, $jobs build jobs, $ctest_jobs test jobs"
    run_stage format EMBER_SKIP_FORMAT "[1/4] clang-format check"
    run_stage release EMBER_SKIP_RELEASE "[2/4] release build (-Werror) + full test suite"
    run_stage asan EMBER_SKIP_ASAN "[3/4] ASan+UBSan build + full test suite"
    run_stage tsan EMBER_SKIP_TSAN "[4/4] TSan build + concurrency tests"
    summary
    local failed=0 r
    for r in "${stage_results[@]}"; do
        if [[ $r == FAILED ]]; then
            failed=1
        fi
    done
    note "total $((SECONDS - start))s, $([[ $failed == 1 ]] && echo FAILED || echo all stages passed)"
    # Last line, also kept in a file for .ci/run: ctest tests of every stage,
    # plus one check for each stage that has no ctest run of its own.
    local result="checks: $total_passed passed, $total_failed failed"
    echo "$result" >"$log_dir/result.txt"
    echo
    echo "$result"
    exit "$failed"
}

main "$@"
