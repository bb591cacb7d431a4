#!/bin/sh
# Builds bench_core (Release) in build-bench/ and runs it, keeping a log.
#   tests/bench/run_bench.sh [--quick] [other bench_core flags]
# The log goes to build-bench/bench_core-<date>.log; TARGET lines are at its end.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${EMBER_BENCH_BUILD:-$root/build-bench}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target bench_core >/dev/null
log=$build/bench_core-$(date +%Y%m%d-%H%M%S).log
echo "log: $log"
"$build/bench/bench_core" "$@" 2>&1 | tee "$log"
