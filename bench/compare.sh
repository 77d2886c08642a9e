#!/usr/bin/env bash
# hearthd against coturn's turnserver on this machine, with the same hearth-load runs.
# Installs what is missing (coturn from Debian), builds hearthd and hearth-load, then runs
# bench/compare_servers.py, which prints the table of hearth/coturn ratios.
#   bench/compare.sh                 # 3 rounds, 5 s a run
#   bench/compare.sh --rounds 5 --seconds 10
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/install-deps.sh
install_packages test
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target hearthd hearth-load udp-forwarder >/dev/null
arguments=(python3 bench/compare_servers.py --hearthd build/admin/hearthd
           --hearth-load build/bench/load/hearth-load --forwarder build/bench/limit/udp-forwarder "$@")
# --fast-path: in a network namespace of its own, lo up and forwarding (the XDP program's
# route lookups need it), so the program attaches to a lo no other process uses.
if [[ " $* " == *" --fast-path "* ]]; then
    exec unshare --net sh -c 'ip link set lo up &&
        sysctl -q -w net.ipv4.conf.all.forwarding=1 net.ipv4.conf.lo.forwarding=1 \
            net.ipv4.ip_local_port_range="50000 60999" &&
        exec "$@"' sh "${arguments[@]}"
fi
exec "${arguments[@]}"
