#!/usr/bin/env bash
# Sets up and runs every test: unit tests, integration tests against a real hearthd with
# coturn's client tools, and the headless-Chromium WebRTC tests.
set -euo pipefail
cd "$(dirname "$0")"
. tests/install-deps.sh
install_packages test
tests/browser/install.sh

# Release (-O3): its deeper inlining finds warnings that -O2 does not (GCC 12's -Wrestrict),
# and -Werror makes them fail here. The sanitizer build below is Debug, so every run builds
# both ends; no test reads debug information.
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DHEARTH_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure --timeout 600 -j2
# The microbenchmarks as a smoke run only: they must run, their figures are not judged here
# (bench/README.md has the measured ones).
build/bench/hearth_microbench --benchmark_min_time=0.001 >/dev/null

# The whole suite again under AddressSanitizer, UndefinedBehaviorSanitizer and
# LeakSanitizer, in its own build directory: any report fails the run.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DHEARTH_SANITIZE=ON -DHEARTH_BUILD_BENCH=OFF \
    >/dev/null
cmake --build build-asan -j"$(nproc)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure --timeout 900 -j2

# Every parser that sees the network or a file, under libFuzzer with ASan and UBSan, from
# the seed corpus, for a short bounded time each (tests/fuzz/run.sh --seconds N for longer).
tests/fuzz/run.sh --seconds 20
