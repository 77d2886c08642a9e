#!/usr/bin/env bash
# Sets up and runs every test: unit tests, integration tests against a real hearthd with
# coturn's client tools, and the headless-Chromium WebRTC tests.
set -euo pipefail
cd "$(dirname "$0")"
. tests/install-deps.sh
install_packages test
tests/browser/install.sh

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHEARTH_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure --timeout 600 -j2
