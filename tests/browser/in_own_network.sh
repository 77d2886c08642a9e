#!/bin/sh
# Runs a command in a network namespace of its own, which goes away with it: loopback up,
# and a veth pair with a private address, since Chromium gathers no ICE candidates on a
# host whose only interface is loopback. Every port is free there, 443 included.
exec unshare --net sh -c '
    ip link set lo up &&
    ip link add hearth0 type veth peer name hearth1 &&
    ip addr add 10.255.0.1/24 dev hearth0 &&
    ip link set hearth0 up && ip link set hearth1 up &&
    exec "$@"' sh "$@"
