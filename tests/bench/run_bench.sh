#!/bin/sh
# Builds a benchmark (Release) in build-bench/ and runs it, keeping a log.
#   tests/bench/run_bench.sh [bench_core|bench_collections] [--quick] [other flags]
# The first argument picks the benchmark (default bench_core). The log goes to
# build-bench/<bench>-<date>.log; TARGET lines are at its end.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${EMBER_BENCH_BUILD:-$root/build-bench}
bench=bench_core
case "${1:-}" in
bench_core | bench_collections)
    bench=$1
    shift
    ;;
esac
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target "$bench" >/dev/null
log=$build/$bench-$(date +%Y%m%d-%H%M%S).log
echo "log: $log"
"$build/bench/$bench" "$@" 2>&1 | tee "$log"
