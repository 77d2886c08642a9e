#!/usr/bin/env bash
# Installs the Debian packages hearth needs, only those missing. Sourced by run.sh and
# test.sh; `install_packages run` for running hearthd, `install_packages test` for tests.
set -euo pipefail

# libbpf-dev, bpftool and clang build the XDP fast path (relay/xdp) into hearthd.
# The compiler, cmake, GoogleTest, Google Benchmark and Python 3 too: a plain Debian 12 host
# may have none of them, and configuring the tree (run.sh's too) finds GTest, benchmark and
# the interpreter of the integration tests.
hearth_run_packages=(build-essential cmake libgtest-dev libbenchmark-dev python3
                     libevent-dev libssl-dev libhiredis-dev libconfig++-dev libspdlog-dev
                     pkg-config openssl nlohmann-json3-dev libcli11-dev libcurl4-openssl-dev
                     libbpf-dev bpftool clang)
# dpkg-dev and file (dpkg-shlibdeps, and the file utility cpack needs for it), fakeroot,
# systemd (systemd-analyze, -sysusers, -tmpfiles), man-db and groff-base: the Debian
# package's test. prometheus for promtool and for the scrape of the dashboard's queries
# (tests/integration). iproute2 (ip) and procps (sysctl): the XDP tests' veth pairs in
# their own network namespace (tests/xdp), and the namespaces of
# tests/integration/namespaces.py; ethtool turns off TX checksum offload on their veth
# ends; nftables (nft) drops what the relay namespace would forward itself in the fast
# path's test (tests/integration/test_fast_path_veth.py) and is the cloud NAT of
# test_external_address.py.
# libnode108's shared libraries (libuv1 to libbrotli1): Debian 12's Node.js 18, unpacked
# beside a newer node for the browser tests' run on it (tests/browser/node18.sh).
hearth_test_packages=(redis-server redis-sentinel coturn haproxy squid chromium clang-16 libclang-rt-16-dev llvm
                      dpkg-dev file fakeroot systemd man-db groff-base prometheus iproute2 procps ethtool nftables
                      libuv1 libc-ares2 libicu72 libnghttp2-14 libbrotli1)

install_packages() {
    local wanted=("${hearth_run_packages[@]}")
    if [ "${1:-run}" = test ]; then
        wanted+=("${hearth_test_packages[@]}")
        command -v node >/dev/null 2>&1 || wanted+=(nodejs npm)
    fi
    local missing=()
    for package in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$package")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        return 0
    fi
    echo "hearth: installing ${missing[*]}" >&2
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    # coturn's, haproxy's, squid's and prometheus's packages would start their own servers;
    # hearth's tests start haproxy and squid themselves and use only coturn's client tools
    # and promtool.
    DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
    if command -v systemctl >/dev/null 2>&1; then
        $sudo systemctl disable --now coturn >/dev/null 2>&1 || true
        $sudo systemctl disable --now haproxy >/dev/null 2>&1 || true
        $sudo systemctl disable --now squid >/dev/null 2>&1 || true
        $sudo systemctl disable --now redis-server >/dev/null 2>&1 || true
        $sudo systemctl disable --now redis-sentinel >/dev/null 2>&1 || true
        $sudo systemctl disable --now prometheus prometheus-node-exporter >/dev/null 2>&1 || true
    fi
}
