#!/usr/bin/env bash
# tests/bench/bench_server.sh — redis-benchmark against redis-server and
# ember-server, side by side in one run, and the ratio table ember / redis.
#
#   tests/bench/bench_server.sh [options]
#     -n N          requests per test (default 100000)
#     -r R          repeats per server and depth; the median is kept (default 3)
#     -s best|median  which of the repeats counts (default median)
#     -c C          clients (default 50)
#     -P "1 16"     pipeline depths (default "1 16")
#     -t LIST       redis-benchmark tests (default: the 14 of issue 5)
#     -o DIR        where bench_server.{csv,md,png} go (default docs/)
#     -e PATH       the ember-server binary (default: built Release in build-bench/)
#     --quick       -n 20000 -r 1, for a smoke run
#
# Both servers run on free loopback ports, started and stopped here (also on
# Ctrl-C: a trap kills them). For each depth and repeat, redis runs first and
# ember right after, with the same flags, so both see the same machine load;
# both databases are flushed before each run. redis-benchmark prints "Could
# not fetch server CONFIG" for ember-server if CONFIG GET save/appendonly are
# missing: it still runs.
#
# Output: the table (test | redis ops/s | ember ops/s | ratio) per depth,
# one line per test and depth "TARGET server_<test>_P<d> <ratio> 1.0
# <met|missed>", and in DIR: bench_server.csv, bench_server.md and, when
# gnuplot is installed, bench_server.png (bars of the ratios).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
requests=100000
repeats=3
stat=median
clients=50
depths="1 16"
tests="set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100,mset"
outdir=$root/docs
ember_bin=

usage() {
    sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
    exit "${1:-0}"
}

while (($#)); do
    case $1 in
    -n) requests=$2 && shift ;;
    -r) repeats=$2 && shift ;;
    -s) stat=$2 && shift ;;
    -c) clients=$2 && shift ;;
    -P) depths=$2 && shift ;;
    -t) tests=$2 && shift ;;
    -o) outdir=$2 && shift ;;
    -e) ember_bin=$2 && shift ;;
    --quick) requests=20000 repeats=1 ;;
    -h | --help) usage 0 ;;
    *) echo "bench_server: unknown option $1" >&2 && usage 2 ;;
    esac
    shift
done
[[ $stat == best || $stat == median ]] || {
    echo "bench_server: -s takes best or median" >&2
    exit 2
}

for tool in redis-server redis-benchmark redis-cli; do
    command -v "$tool" >/dev/null || {
        echo "bench_server: $tool not found (tools/deps.sh installs it)" >&2
        exit 1
    }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/bench_server.XXXXXX")
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -z $ember_bin ]]; then
    build=${EMBER_BENCH_BUILD:-$root/build-bench}
    echo "bench_server: building ember-server (Release) in $build"
    if ! { cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release &&
        cmake --build "$build" -j2 --target ember-server; } >"$work/build.log" 2>&1; then
        cat "$work/build.log" >&2
        exit 1
    fi
    ember_bin=$build/examples/ember-server
fi
[[ -x $ember_bin ]] || {
    echo "bench_server: no ember-server at $ember_bin" >&2
    exit 1
}

# A port nobody listens on (bash's /dev/tcp connect fails).
free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
}

# Waits up to 10 s until the server on port $1 answers PING.
wait_port() {
    local i
    for ((i = 0; i < 100; i++)); do
        if [[ $(redis-cli -p "$1" ping 2>/dev/null) == PONG ]]; then
            return 0
        fi
        sleep 0.1
    done
    echo "bench_server: nothing answers on port $1" >&2
    exit 1
}

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$work" --logfile "$work/redis.log" --daemonize no &
pids+=($!)
wait_port "$redis_port"
ember_port=$(free_port)
while [[ $ember_port == "$redis_port" ]]; do ember_port=$(free_port); done
"$ember_bin" --port "$ember_port" --bind 127.0.0.1 >"$work/ember.log" 2>&1 &
pids+=($!)
wait_port "$ember_port"

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
redis_version=$(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p')
echo "bench_server: redis-server $redis_version on $redis_port, $ember_bin on $ember_port"
echo "bench_server: -c $clients -n $requests, depths $depths, $repeats repeat(s), $stat kept"

# redis-benchmark's CSV: "test","rps",... ; the test names become the -t
# names: "LRANGE_100 (first 100 elements)" -> lrange_100, "MSET (10 keys)"
# -> mset; the LPUSH that only fills the list for LRANGE is dropped.
run_one() { # port depth -> lines "test rps"
    redis-cli -p "$1" flushall >/dev/null
    redis-benchmark -h 127.0.0.1 -p "$1" -c "$clients" -n "$requests" -P "$2" -t "$tests" \
        --csv 2>"$work/stderr" |
        awk -F'","' 'NR > 1 && $1 !~ /needed to benchmark/ {
            name = tolower($1); sub(/^"/, "", name); sub(/ .*/, "", name)
            rps = $2; sub(/".*/, "", rps); print name, rps }'
    grep -v "Could not fetch server CONFIG" "$work/stderr" >&2 || true
}

raw=$work/raw.txt # server depth repeat test rps
: >"$raw"
for d in $depths; do
    for ((rep = 1; rep <= repeats; rep++)); do
        for side in redis ember; do
            port=$redis_port
            [[ $side == ember ]] && port=$ember_port
            run_one "$port" "$d" | sed "s/^/$side $d $rep /" >>"$raw"
        done
        echo "bench_server: depth $d, repeat $rep done" >&2
    done
done

# Per server, depth and test: the median (or best) of the repeats.
summary=$work/summary.txt # test depth redis ember ratio
awk -v stat="$stat" -v order="${tests//,/ }" -v depths="$depths" '
    { v[$1 " " $2 " " $4] = v[$1 " " $2 " " $4] " " $5 }
    function pick(list,    a, n, i, j, t) {
        n = split(list, a, " ")
        if (n == 0) return 0
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
            if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
        return stat == "best" ? a[n] : (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2)
    }
    END {
        nd = split(depths, D, " "); nt = split(order, T, " ")
        for (i = 1; i <= nd; i++) for (j = 1; j <= nt; j++) {
            r = pick(v["redis " D[i] " " T[j]]); e = pick(v["ember " D[i] " " T[j]])
            printf "%s %s %.0f %.0f %.3f\n", T[j], D[i], r, e, (r > 0 ? e / r : 0)
        }
    }' "$raw" >"$summary"

load_end=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir -p "$outdir"
csv=$outdir/bench_server.csv
md=$outdir/bench_server.md
{
    echo "test,depth,redis_ops_per_s,ember_ops_per_s,ratio"
    awk '{ printf "%s,%s,%s,%s,%s\n", $1, $2, $3, $4, $5 }' "$summary"
} >"$csv"

{
    echo "# ember-server vs redis-server (redis-benchmark)"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, redis-server $redis_version;" \
        "redis-benchmark -c $clients -n $requests, $repeats repeat(s) per server and depth" \
        "($stat kept), redis then ember in turn. Ratio = ember / redis (target >= 1.0)." \
        "Load average (1/5/15 min) at the start $load_start, at the end $load_end."
    for d in $depths; do
        echo
        echo "## -P $d"
        echo
        echo "| test | redis ops/s | ember ops/s | ratio |"
        echo "|---|---:|---:|---:|"
        awk -v d="$d" '$2 == d { printf "| %s | %s | %s | %s |\n", $1, $3, $4, $5 }' "$summary"
    done
} >"$md"

for d in $depths; do
    echo
    printf '%-12s %14s %14s %7s   (-P %s)\n' test "redis ops/s" "ember ops/s" ratio "$d"
    awk -v d="$d" '$2 == d { printf "%-12s %14s %14s %7s\n", $1, $3, $4, $5 }' "$summary"
done
echo
awk '{ printf "TARGET server_%s_P%s %s 1.0 %s\n", $1, $2, $5, ($5 >= 1.0 ? "met" : "missed") }' \
    "$summary"

if command -v gnuplot >/dev/null; then
    png=$outdir/bench_server.png
    # one row per test, one column per depth
    awk -v depths="$depths" -v order="${tests//,/ }" '
        { r[$1 " " $2] = $5 }
        END {
            nd = split(depths, D, " "); nt = split(order, T, " ")
            printf "test"; for (i = 1; i <= nd; i++) printf " P%s", D[i]; print ""
            for (j = 1; j <= nt; j++) {
                printf "%s", T[j]; for (i = 1; i <= nd; i++) printf " %s", r[T[j] " " D[i]]; print ""
            }
        }' "$summary" >"$work/plot.dat"
    ncols=$(wc -w <<<"$depths")
    gnuplot <<EOF
set terminal pngcairo size 1100,480 noenhanced font "sans,10"
set output "$png"
set title "ember-server / redis-server throughput (redis-benchmark -c $clients, $stat of $repeats)"
set ylabel "ratio ember / redis (log scale)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set xtics rotate by -35
set logscale y 2
set yrange [0.0625:*]
set grid ytics
set key top left
set arrow from graph 0, first 1.0 to graph 1, first 1.0 nohead lw 2 dt 2 lc rgb "black"
plot for [c=2:$((ncols + 1))] "$work/plot.dat" using c:xtic(1) title columnheader(c)
EOF
    echo "bench_server: wrote $csv, $md, $png"
else
    echo "bench_server: wrote $csv, $md (no gnuplot: no plot)"
fi
