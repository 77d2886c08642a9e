#!/usr/bin/env bash
# Installs the browser tests' npm dependencies (playwright-core only: the browser is
# Debian's chromium, never a download) when package-lock.json is newer than node_modules.
# playwright-core stays at 1.61, the last release that runs on Node.js 18 (1.62 and later
# refuse to start there), because a plain Debian 12 host runs these tests on its node 18.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
    touch node_modules
fi

# Debian 12's own Node.js 18 beside a newer node (this image's NodeSource 20), for the
# browser tests' run on it (node18.sh): its packages come from the Debian archive through
# apt and are unpacked here, never installed over the other node. A host whose node is 18
# already needs none of this.
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" != 18 ] && [ ! -x node18/usr/bin/node ]; then
    version=$(apt-cache madison nodejs | awk '$3 ~ /^18\./ { print $3; exit }')
    if [ -z "$version" ]; then
        echo "install.sh: apt knows no nodejs 18 (Debian 12's): run apt-get update" >&2
        exit 1
    fi
    rm -rf node18.tmp && mkdir node18.tmp
    # libnode108's own Depends: the node-* packages hold what it loads from
    # /usr/share/nodejs; its shared libraries are test packages (tests/install-deps.sh).
    # As root, apt would warn that its _apt user cannot write here: root downloads.
    (cd node18.tmp && apt-get download -qq -o APT::Sandbox::User=root \
        "nodejs=$version" "libnode108=$version" node-acorn node-cjs-module-lexer node-undici)
    for package in node18.tmp/*.deb; do
        dpkg-deb -x "$package" node18.tmp/root
    done
    mv node18.tmp/root node18 && rm -rf node18.tmp
fi
