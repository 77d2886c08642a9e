#!/usr/bin/env bash
# Installs the browser tests' npm dependencies (playwright-core only: the browser is
# Debian's chromium, never a download) when package-lock.json is newer than node_modules.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent
    touch node_modules
fi
