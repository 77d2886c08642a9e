#!/usr/bin/env bash
# hearthd against coturn's turnserver on this machine, with the same hearth-load runs.
# Installs what is missing (coturn from Debian), builds hearthd and hearth-load, then runs
# bench/compare_servers.py, which prints the table of hearth/coturn ratios.
#   bench/compare.sh                 # 3 rounds, 5 s a run
#   bench/compare.sh --rounds 5 --seconds 10
#   bench/compare.sh --fast-path     # also hearthd with the XDP fast path
#   bench/compare.sh --saturation    # bench/saturation.py
#   bench/compare.sh --saturation --veth --loads bounce   # the load turned around in XDP
#   bench/compare.sh --scale         # bench/allocation_scale.py
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/install-deps.sh
install_packages test
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target hearthd hearth-load hearth-load-reflector udp-forwarder >/dev/null
script=bench/compare_servers.py
# --saturation: bench/saturation.py instead, coturn and hearthd with and without the fast
# path loaded until they lose packets, by hearth-load and by turnutils_uclient.
[[ " $* " == *" --saturation "* ]] && script=bench/saturation.py
# --scale: bench/allocation_scale.py instead, hearthd from 1000 allocations to the
# descriptor limit.
[[ " $* " == *" --scale "* ]] && script=bench/allocation_scale.py
arguments=(python3 "$script" --hearthd build/admin/hearthd
           --hearth-load build/bench/load/hearth-load --forwarder build/bench/limit/udp-forwarder "$@")
# The ephemeral ports (hearth-load's clients, free_port()) stay clear of the relay ports:
# the three servers' in compare_servers.py and saturation.py, the one hearthd's up to
# 31999 in allocation_scale.py, which needs about 20 000 of each.
export HEARTH_EPHEMERAL_PORTS="50000 60999"
[[ "$script" == bench/allocation_scale.py ]] && HEARTH_EPHEMERAL_PORTS="32768 60999"
# --fast-path (and --saturation, --scale): in a network namespace of its own, lo up and
# forwarding (the XDP program's route lookups need it), so the program attaches to a lo no
# other process uses.
if [[ " $* " == *" --fast-path "* || "$script" != bench/compare_servers.py ]]; then
    exec unshare --net sh -c 'ip link set lo up &&
        sysctl -q -w net.ipv4.conf.all.forwarding=1 net.ipv4.conf.lo.forwarding=1 \
            net.ipv4.ip_local_port_range="$HEARTH_EPHEMERAL_PORTS" &&
        exec "$@"' sh "${arguments[@]}"
fi
exec "${arguments[@]}"
