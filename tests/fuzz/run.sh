#!/usr/bin/env bash
# Builds the libFuzzer targets with clang, writes their seed corpus and runs each for a
# bounded time. ./test.sh runs it briefly; run it longer by hand:
#   tests/fuzz/run.sh --seconds 3600             # an hour per target, one after another
#   tests/fuzz/run.sh --seconds 600 turn_server  # one target
# New inputs are kept in build-fuzz/corpus/<target>; a crash is written to
# build-fuzz/crashes/ and fails the run (then make it a unit test).
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=10
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done

clang=$(command -v clang++-16 || true)
if [ -z "$clang" ]; then
    echo "run.sh: clang++-16 is missing (install clang-16 libclang-rt-16-dev)" >&2
    exit 2
fi
CXX="$clang" cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHEARTH_FUZZ=ON \
    -DHEARTH_BUILD_TESTS=OFF -DHEARTH_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzzers >/dev/null

if [ ${#targets[@]} -eq 0 ]; then
    targets=($(sed -n '/^set(HEARTH_FUZZERS/,/^)/p' tests/fuzz/CMakeLists.txt | sed '1d;$d'))
fi
seeds=build-fuzz/seeds
rm -rf "$seeds"
build-fuzz/tests/fuzz/seed_corpus "$seeds" .
mkdir -p build-fuzz/crashes
export LSAN_OPTIONS="suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

for target in "${targets[@]}"; do
    corpus=build-fuzz/corpus/$target
    mkdir -p "$corpus"
    echo "fuzzing $target for ${seconds}s"
    # -rss_limit_mb and -max_len bound memory; any crash, leak or sanitizer report fails.
    if ! build-fuzz/tests/fuzz/"${target}"_fuzzer "$corpus" "$seeds/$target" \
            -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=2048 -timeout=10 \
            -artifact_prefix=build-fuzz/crashes/"$target"- -print_final_stats=1 \
            >build-fuzz/"$target".log 2>&1; then
        tail -40 build-fuzz/"$target".log >&2
        echo "run.sh: $target failed; the input is in build-fuzz/crashes/" >&2
        exit 1
    fi
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" build-fuzz/"$target".log |
        tr '\n' ' ' | sed "s/^/  /;s/\$/\n/"
done
