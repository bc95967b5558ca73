#!/bin/bash
# Fuzzes one harness for a bounded time with AFL++ (default) or libFuzzer.
# Exits 1 if it found a crash or a hang, after printing the reproducers.
#
# Usage: tests/fuzz/run.sh TARGET SECONDS
#   TARGET is a harness tests/fuzz/fuzz_TARGET.c: elf, bzimage, boot,
#   cmdline, jailer_args, mountinfo, policy, filter_file, virtq, virtio_blk,
#   virtio_net, virtio_vsock, virtio_rng.
# Environment:
#   FUZZER=afl|libfuzzer  default afl
#   JOBS=N      processes (default 1). AFL++: one main instance (-M) and N-1
#               secondaries (-S) sharing one output directory; libFuzzer: -fork=N.
#   CORPUS=DIR  seeds in DIR/TARGET/ (default build-fuzz-corpus/, made once by
#               make-corpus.sh; delete it to regenerate, e.g. once the Linux
#               test kernel is built). A previous run's queue works too.
#   OUT=DIR     findings (default build-fuzz-FUZZER/findings/TARGET-DATE)
#   FUZZ_TIMEOUT_MS  per-input time limit, default 1000: longer is a hang
#
# The harnesses are built in build-fuzz-afl/ (CC=afl-clang-fast, or AFL_CC)
# or build-fuzz-libfuzzer/ (CC=clang) with -Dfuzz=... -Dtests=false.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
fuzz_dir=$repo/tests/fuzz

if [[ $# -ne 2 || ! $2 =~ ^[0-9]+$ ]]; then
    echo "usage: $0 TARGET SECONDS" >&2
    exit 2
fi
target=$1
seconds=$2
if [[ ! -f $fuzz_dir/fuzz_$target.c ]]; then
    echo "run.sh: no harness tests/fuzz/fuzz_$target.c" >&2
    exit 2
fi
fuzzer=${FUZZER:-afl}
jobs=${JOBS:-1}
timeout_ms=${FUZZ_TIMEOUT_MS:-1000}

case $fuzzer in
    afl) cc=${AFL_CC:-afl-clang-fast} ;;
    libfuzzer) cc=clang ;;
    *) echo "run.sh: FUZZER must be afl or libfuzzer" >&2; exit 2 ;;
esac
build=$repo/build-fuzz-$fuzzer
# Several runs may start at once (one per target): one at a time builds and seeds.
mkdir -p "$build"
exec 9>"$build/.run-lock"
flock 9
if [[ ! -f $build/build.ninja ]]; then
    CC=$cc meson setup "$build" "$repo" -Dfuzz="$fuzzer" -Dtests=false >/dev/null
fi
ninja -C "$build" "tests/fuzz/fuzz-$target" >/dev/null
bin=$build/tests/fuzz/fuzz-$target

corpus=${CORPUS:-$repo/build-fuzz-corpus}
# Made once, and again when a harness newer than it has no seeds there.
if [[ -z ${CORPUS-} && ! -d $corpus/$target ]]; then
    "$fuzz_dir/make-corpus.sh" "$corpus"
fi
seeds=$corpus/$target
[[ -d $seeds ]] || seeds=$corpus
flock -u 9
out=${OUT:-$build/findings/$target-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"

# The boot harness parses both formats: both dictionaries.
case $target in
    boot) dicts=("$fuzz_dir/elf.dict" "$fuzz_dir/bzimage.dict") ;;
    *) dicts=() ;;
esac
if [[ $target != boot && -f $fuzz_dir/$target.dict ]]; then
    dicts=("$fuzz_dir/$target.dict")
fi

findings=()
if [[ $fuzzer == afl ]]; then
    # Containers and CI: no CPU frequency governor, core dumps may go to a
    # pipe, no terminal; bind to a free core when possible, never fail on it.
    export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1
    export AFL_TRY_AFFINITY=1
    # afl-fuzz needs abort_on_error and symbolize=0. Leaks are left to the
    # smoke test and libFuzzer: in persistent mode LSan runs only at exit and
    # would blame whichever input came last.
    export ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0:allocator_may_return_null=1
    export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:symbolize=0
    dict_args=()
    for d in "${dicts[@]}"; do dict_args+=(-x "$d"); done
    pids=()
    for ((i = 0; i < jobs; i++)); do
        if ((i == 0)); then role=(-M main); else role=(-S "secondary$i"); fi
        afl-fuzz "${role[@]}" -i "$seeds" -o "$out" "${dict_args[@]}" -t "$timeout_ms" \
            -V "$seconds" -- "$bin" >"$out/afl-$i.log" 2>&1 &
        pids+=($!)
    done
    status=0
    for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
    if ((status != 0)); then
        echo "run.sh: afl-fuzz failed ($status):" >&2
        tail -n 20 "$out"/afl-*.log >&2
        exit 2
    fi
    for stats in "$out"/*/fuzzer_stats; do
        instance=$(basename "$(dirname "$stats")")
        awk -v t="$target/$instance" -F' *: ' '
            { v[$1] = $2 }
            END { printf "%s: %s execs, %s/s, edges %s of %s (bitmap %s), crashes %s, hangs %s\n",
                  t, v["execs_done"], v["execs_per_sec"], v["edges_found"], v["total_edges"],
                  v["bitmap_cvg"], v["saved_crashes"], v["saved_hangs"] }' "$stats"
    done
    shopt -s nullglob
    findings=("$out"/*/crashes/id:* "$out"/*/hangs/id:*)
    reproduce="$bin < FILE"
else
    dict_args=()
    if ((${#dicts[@]})); then
        cat "${dicts[@]}" >"$out/$target.dict"
        dict_args=(-dict="$out/$target.dict")
    fi
    fork_args=()
    if ((jobs > 1)); then
        fork_args=(-fork="$jobs")
    fi
    mkdir -p "$out/queue" "$out/artifacts"
    status=0
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
        "$bin" -max_total_time="$seconds" -timeout=$(((timeout_ms + 999) / 1000)) \
        -artifact_prefix="$out/artifacts/" -print_final_stats=1 "${dict_args[@]}" \
        "${fork_args[@]}" "$out/queue" "$seeds" >"$out/libfuzzer.log" 2>&1 || status=$?
    grep -E '^(#[0-9]+.*DONE|stat::)' "$out/libfuzzer.log" | sed "s|^|$target: |" || true
    shopt -s nullglob
    findings=("$out"/artifacts/*)
    if ((status != 0 && ${#findings[@]} == 0)); then
        echo "run.sh: libFuzzer failed ($status):" >&2
        tail -n 20 "$out/libfuzzer.log" >&2
        exit 2
    fi
    reproduce="$bin FILE"
fi

if ((${#findings[@]})); then
    echo "run.sh: $target: ${#findings[@]} crash(es) or hang(s); reproduce with: $reproduce" >&2
    printf '  %s\n' "${findings[@]}" >&2
    exit 1
fi
echo "run.sh: $target: no crash or hang in $seconds s; findings in $out"
