#!/bin/sh
# Runs a command in a network namespace of its own, which goes away with it: loopback up,
# and a veth pair with a private address, since Chromium gathers no ICE candidates on a
# host whose only interface is loopback. Every port is free there, 443 included.
#
# The command starts only once the addresses have settled: Chromium aborts what it is
# loading (ERR_NETWORK_CHANGED) when an address changes. IPv6 link-local addresses come
# with the links, tentative until duplicate address detection ends about a second later,
# so DAD is off (nothing else is on this link) and the script waits, bounded, until no
# address is tentative.
exec unshare --net sh -c '
    ip link set lo up &&
    sysctl -q -w net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0 &&
    ip link add hearth0 type veth peer name hearth1 &&
    ip addr add 10.255.0.1/24 dev hearth0 &&
    ip link set hearth0 up && ip link set hearth1 up || exit 1
    polls=0
    until [ "$(ip -6 -o addr show scope link | wc -l)" -ge 2 ] &&
          [ -z "$(ip -6 -o addr show tentative)" ]; do
        polls=$((polls + 1))
        if [ "$polls" -gt 500 ]; then
            echo "in_own_network.sh: the veth addresses did not settle in 5 s" >&2
            exit 1
        fi
        sleep 0.01
    done
    exec "$@"' sh "$@"
