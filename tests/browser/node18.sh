#!/bin/sh
# Runs node with Debian 12's own Node.js 18, the one a plain Debian 12 host has, so that
# the browser tests are shown to run there as well as on the newer node they usually get.
#
# Where `node` is already 18 (a plain Debian 12 host), that node runs. Otherwise
# tests/browser/install.sh has unpacked Debian's nodejs 18 packages into node18/, whose
# libnode loads its bundled modules (acorn, cjs-module-lexer, undici) from the fixed path
# /usr/share/nodejs: they are laid over /usr/share in a mount namespace of this command's
# own, which leaves the host's files and its other node untouched.
set -eu
here=$(cd "$(dirname "$0")" && pwd)

major() { "$@" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo none; }

if command -v node >/dev/null 2>&1 && [ "$(major node)" = 18 ]; then
    exec node "$@"
fi

unpacked="$here/node18"
if [ ! -x "$unpacked/usr/bin/node" ]; then
    echo "node18.sh: Debian's Node.js 18 is not unpacked in $unpacked: run ./test.sh" >&2
    exit 1
fi
exec unshare --mount --propagation private sh -c '
    set -eu
    unpacked=$1; shift
    mount -t overlay hearth-node18 -o "lowerdir=$unpacked/usr/share:/usr/share" /usr/share
    export LD_LIBRARY_PATH="$unpacked/usr/lib/x86_64-linux-gnu"
    version=$("$unpacked/usr/bin/node" -p "process.versions.node")
    case "$version" in
        18.*) ;;
        *) echo "node18.sh: $unpacked holds Node.js $version, not 18" >&2; exit 1 ;;
    esac
    exec "$unpacked/usr/bin/node" "$@"' sh "$unpacked" "$@"
