"""Network namespaces a test makes itself, and the processes it runs in them.

`RelayTopology` is three namespaces, client, relay and peer, joined by two veth pairs:

    client ns                 relay ns                              peer ns
    to-relay  <---------->  to-client  [hearthd]  to-peer  <---------->  to-relay
    10.R.1.2                10.R.1.1              10.R.2.1               10.R.2.2
    fd00:R:1::2             fd00:R:1::1           fd00:R:2::1            fd00:R:2::2

The client's and the peer's default routes go via the relay, which does not forward
(ip_forward and IPv6 forwarding are 0): each end reaches the relay's own addresses and
nothing further, so whatever gets from the client to the peer went through hearthd (or
its XDP program). The client's and the peer's ends have TX checksum offload off, so
their packets carry full checksums as from a real NIC rather than a veth's partial ones.

`CloudNatTopology` is a VM behind a cloud's 1:1 NAT: internet, NAT and VM namespaces, the
NAT mapping a public address to the VM's private one (see the class).

`LoopbackNamespace` is one fresh namespace with only lo up, for tests that want a hearthd
on a loopback of their own.

Both are made per test with `for_test(test)`, which registers their cleanup (every
process started through them stopped by PID, then the namespaces deleted) with
test.addCleanup, so it also runs when the test fails. Namespace names carry this process's
PID and a counter, and R is held by a lock for as long as the topology lives, so tests
running at once (ctest -j) never collide. Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN), `ip`
from iproute2 and ethtool.
"""

import ctypes
import dataclasses
import fcntl
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time

import harness

NAME_PREFIX = "hearthtest"
NAME_PATTERN = re.compile(rf"^{NAME_PREFIX}-(\d+)-\d+-\w+$")
LINK_UP_TIMEOUT = 10.0
TURN_PORT = 3478  # each relay namespace is fresh: the standard port is always free there
CLONE_NEWNET = 0x40000000

_counter = itertools.count()


@dataclasses.dataclass(frozen=True)
class Interface:
    """One end of a veth pair: where it is, what it is called, and its addresses."""

    namespace: str
    name: str
    index: int
    mac: str
    ipv4: str
    ipv6: str
    prefix_length_ipv4: int = 24
    prefix_length_ipv6: int = 64


def ip(*arguments, namespace=None, check=True):
    """Runs `ip` (in `namespace` with -n); returns its stdout."""
    argv = ["ip"] + (["-n", namespace] if namespace else []) + list(arguments)
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {result.stderr.strip()}")
    return result.stdout


def exec_argv(namespace, argv):
    """`argv` run inside `namespace`. `ip netns exec` execs the command after entering the
    namespace (and mounting its own /sys), so the process's PID is the command's own."""
    return ["ip", "netns", "exec", namespace, *[str(arg) for arg in argv]]


def _process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_namespaces():
    """Deletes the namespaces left by test processes that no longer exist (killed by a
    ctest timeout before their cleanup ran), after killing by PID what those tests left
    running in them. Namespaces of live processes are left alone."""
    try:
        names = os.listdir("/run/netns")
    except FileNotFoundError:
        return
    for name in names:
        match = NAME_PATTERN.match(name)
        if match and not _process_alive(int(match.group(1))):
            for pid in ip("netns", "pids", name, check=False).split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            ip("netns", "del", name, check=False)


class _Namespaces:
    """Namespaces owned by one test and the processes started in them."""

    def __init__(self):
        self.namespaces = []  # in creation order; deleted in reverse
        self.processes = []
        self._directory = None
        self._closed = False

    @classmethod
    def for_test(cls, test, **arguments):
        """Made for `test`, with its cleanup registered on it (runs when the test fails too)."""
        made = cls(**arguments)
        test.addCleanup(made.close)
        return made

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()

    def _add_namespace(self, role):
        """A new namespace with lo up, named `hearthtest-<pid>-<n>-<role>`."""
        while True:
            name = f"{NAME_PREFIX}-{os.getpid()}-{next(_counter)}-{role}"
            result = subprocess.run(["ip", "netns", "add", name], capture_output=True,
                                    text=True, timeout=30)
            if result.returncode == 0:
                break
            # Left by an earlier process that had this PID: take the next counter.
            if "exists" not in result.stderr:
                raise RuntimeError(f"ip netns add {name}: {result.stderr.strip()}")
        self.namespaces.append(name)
        ip("link", "set", "lo", "up", namespace=name)
        return name

    # --- processes ---

    def run(self, namespace, argv, name=None, stop_signal=signal.SIGTERM):
        """Starts `argv` in `namespace`; a harness.Process (its output collected and
        watched for lines) that close() stops by PID if the test has not already."""
        process = harness.Process(exec_argv(namespace, argv),
                                  name or f"{os.path.basename(str(argv[0]))}@{namespace}",
                                  stop_signal)
        self.processes.append(process)
        return process

    def call(self, namespace, argv, timeout=60):
        """Runs `argv` in `namespace` to its end (killed past `timeout`): CompletedProcess
        with stdout and stderr as text."""
        return subprocess.run(exec_argv(namespace, argv), capture_output=True, text=True,
                              timeout=timeout)

    def socket(self, namespace, family=socket.AF_INET, kind=socket.SOCK_DGRAM):
        """A socket of this process made inside `namespace`: it sends, receives and binds
        there for its whole life, whatever namespace this process is in. Made on a thread
        of its own that enters the namespace (setns(2) moves only the calling thread) and
        then ends."""
        made = {}

        def make():
            try:
                libc = ctypes.CDLL(None, use_errno=True)
                with open(f"/run/netns/{namespace}") as handle:
                    if libc.setns(handle.fileno(), CLONE_NEWNET) != 0:
                        error = ctypes.get_errno()
                        raise OSError(error, f"setns {namespace}: {os.strerror(error)}")
                made["socket"] = socket.socket(family, kind)
            except OSError as error:
                made["error"] = error

        thread = threading.Thread(target=make, name=f"setns {namespace}")
        thread.start()
        thread.join()
        if "error" in made:
            raise made["error"]
        return made["socket"]

    def sysctl(self, namespace, key, value=None):
        """Reads `key` in `namespace`, after setting it to `value` when given."""
        if value is not None:
            result = self.call(namespace, ["sysctl", "-q", "-w", f"{key}={value}"], timeout=30)
            if result.returncode != 0:
                raise RuntimeError(f"sysctl {key}={value} in {namespace}: {result.stderr}")
        result = self.call(namespace, ["sysctl", "-n", key], timeout=30)
        if result.returncode != 0:
            raise RuntimeError(f"sysctl {key} in {namespace}: {result.stderr}")
        return result.stdout.strip()

    def metrics(self, namespace, admin_port):
        """hearthd's /metrics as {sample: value}, read inside `namespace` (the admin API
        listens on its lo), with the admin token harness.AdminApi uses."""
        url = f"http://127.0.0.1:{admin_port}/metrics"
        result = self.call(namespace, [
            "python3", "-c", "import sys, urllib.request; print(urllib.request.urlopen("
            "urllib.request.Request(sys.argv[1], headers={'Authorization': 'Bearer ' + "
            "sys.argv[2]}), timeout=10).read().decode())", url, harness.AdminApi.admin_token],
            timeout=30)
        if result.returncode != 0:
            raise RuntimeError(f"GET {url} in {namespace}: {result.stderr.strip()}")
        samples = {}
        for line in result.stdout.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                samples[name] = float(value)
        return samples

    # --- hearthd and a peer ---

    @property
    def directory(self):
        """A temporary directory for configs and logs, removed by close()."""
        if self._directory is None:
            self._directory = tempfile.TemporaryDirectory(prefix=f"{NAME_PREFIX}-")
        return self._directory.name

    def start_hearthd(self, test, namespace, config):
        """hearthd with `config` (the text of hearth.conf) in `namespace`, once it says it
        is ready. Stopped with SIGINT (at once, no drain) at the test's cleanup, which fails
        the test unless it exits with 0 (harness.stop_cleanly)."""
        binary = harness.HEARTHD
        if not binary or not os.access(binary, os.X_OK):
            test.fail("HEARTHD must name the hearthd binary (ctest sets it)")
        path = os.path.join(self.directory, f"hearth-{len(self.processes)}.conf")
        with open(path, "w") as file:
            file.write(config)
        hearthd = self.run(namespace, [binary, "--config", path], f"hearthd@{namespace}",
                           signal.SIGINT)
        # Registered after close(), so it runs before it (cleanups run last first).
        test.addCleanup(harness.stop_cleanly, test, hearthd)
        hearthd.wait_for_line("hearthd ready:")
        return hearthd

    def start_peer(self, test, namespace, host, port=3480):
        """coturn's turnutils_peer (a UDP echo server) on host:port in `namespace`, once
        it echoes a datagram sent from inside the namespace."""
        peer = self.run(namespace, ["turnutils_peer", "-L", host, "-p", port])
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with self.socket(namespace, family) as probe:
            probe.settimeout(0.2)
            for _ in range(50):  # bounded: about ten seconds
                probe.sendto(b"ping", (host, port))
                try:
                    if probe.recvfrom(64)[0] == b"ping":
                        return peer
                except socket.timeout:
                    continue
        test.fail(f"turnutils_peer on {host}:{port} did not echo; output:\n{peer.output()}")

    # --- cleanup ---

    def close(self):
        """Stops every process started here by PID (SIGKILL past 10 s), then deletes the
        namespaces. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        errors = []
        for process in reversed(self.processes):
            try:
                process.stop()
            except Exception as error:  # keep going: the namespaces must go all the same
                errors.append(f"{process.name}: {error}")
        for name in reversed(self.namespaces):
            result = subprocess.run(["ip", "netns", "del", name], capture_output=True,
                                    text=True, timeout=30)
            if result.returncode != 0:
                errors.append(f"ip netns del {name}: {result.stderr.strip()}")
        self._release()
        if self._directory is not None:
            self._directory.cleanup()
        if errors:
            raise RuntimeError("namespace cleanup: " + "; ".join(errors))

    def _release(self):
        pass


class LoopbackNamespace(_Namespaces):
    """One fresh namespace with lo up (127.0.0.1, ::1) and nothing else: a hearthd there
    has the whole port space and a loopback no other test shares."""

    def __init__(self):
        super().__init__()
        remove_stale_namespaces()
        try:
            self.namespace = self._add_namespace("loopback")
        except BaseException:
            self.close()
            raise

    def config(self, port=TURN_PORT, relay_ports=(20000, 20999), **options):
        """harness.config_text for a hearthd listening and relaying on 127.0.0.1 here."""
        return harness.config_text(port, relay_ports, **options)


class _SubnetLock:
    """R, the second byte of the topology's 10.R.x.0/24 subnets, held by an flock on a
    file of its own until released: no two live topologies on the host share one, and a
    process that dies releases its R with its descriptors."""

    def __init__(self):
        directory = "/run/lock" if os.access("/run/lock", os.W_OK) else tempfile.gettempdir()
        start = (os.getpid() * 7 + next(_counter)) % 254
        for step in range(254):
            subnet = (start + step) % 254 + 1
            handle = open(os.path.join(directory, f"{NAME_PREFIX}-subnet-{subnet}.lock"), "w")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            self.subnet, self._handle = subnet, handle
            return
        raise RuntimeError("all 254 topology subnets are in use")

    def release(self):
        self._handle.close()


class RelayTopology(_Namespaces):
    """Client, relay and peer namespaces joined by two veth pairs (see the module's
    docstring). Attributes:

    client, relay, peer                   the namespaces' names
    subnet                                R in 10.R.1.0/24, fd00:R:1::/64, ...
    client_side, relay_client_side        the client<->relay pair (client end, relay end)
    relay_peer_side, peer_side            the relay<->peer pair (relay end, peer end)

    Each of the four is an `Interface` (namespace, name, index, mac, ipv4, ipv6)."""

    def __init__(self):
        super().__init__()
        remove_stale_namespaces()
        self._subnet_lock = _SubnetLock()
        self.subnet = self._subnet_lock.subnet
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    def _build(self):
        self.client = self._add_namespace("client")
        self.relay = self._add_namespace("relay")
        self.peer = self._add_namespace("peer")
        for namespace in (self.client, self.relay, self.peer):
            # Addresses usable at once, link-local ones included (nodad on the others too).
            self.sysctl(namespace, "net.ipv6.conf.default.accept_dad", 0)
        # Explicitly, whatever a new namespace inherits: the relay forwards nothing.
        self.sysctl(self.relay, "net.ipv4.ip_forward", 0)
        self.sysctl(self.relay, "net.ipv6.conf.all.forwarding", 0)
        self._pair(self.client, "to-relay", self.relay, "to-client")
        self._pair(self.relay, "to-peer", self.peer, "to-relay")
        self.client_side = self._configure(self.client, "to-relay", 1, 2)
        self.relay_client_side = self._configure(self.relay, "to-client", 1, 1)
        self.relay_peer_side = self._configure(self.relay, "to-peer", 2, 1)
        self.peer_side = self._configure(self.peer, "to-relay", 2, 2)
        for end, via in ((self.client_side, self.relay_client_side),
                         (self.peer_side, self.relay_peer_side)):
            ip("route", "add", "default", "via", via.ipv4, namespace=end.namespace)
            ip("-6", "route", "add", "default", "via", via.ipv6, namespace=end.namespace)
            # Full checksums from the ends, as a real NIC's packets arrive (a veth would
            # hand over CHECKSUM_PARTIAL packets whose UDP checksum is not filled in).
            result = self.call(end.namespace, ["ethtool", "-K", end.name, "tx", "off"], 30)
            if result.returncode != 0:
                raise RuntimeError(f"ethtool -K {end.name} tx off in {end.namespace}: "
                                   f"{result.stderr.strip()}")
        self._wait_until_up()

    @staticmethod
    def _pair(namespace, name, other_namespace, other_name):
        # Made in `namespace` with its other end put straight into `other_namespace`, so
        # the names never pass through (or collide in) the host's namespace.
        ip("link", "add", name, "type", "veth", "peer", "name", other_name, "netns",
           other_namespace, namespace=namespace)

    def _configure(self, namespace, name, link, host):
        ipv4, ipv6 = f"10.{self.subnet}.{link}.{host}", f"fd00:{self.subnet}:{link}::{host}"
        ip("address", "add", f"{ipv4}/24", "dev", name, namespace=namespace)
        ip("address", "add", f"{ipv6}/64", "dev", name, "nodad", namespace=namespace)
        ip("link", "set", name, "up", namespace=namespace)
        details = json.loads(ip("-j", "link", "show", "dev", name, namespace=namespace))[0]
        return Interface(namespace, name, details["ifindex"], details["address"], ipv4, ipv6)

    def interfaces(self):
        return (self.client_side, self.relay_client_side, self.relay_peer_side, self.peer_side)

    def _wait_until_up(self):
        """Until every veth end is operationally up (the kernel brings the carrier up
        asynchronously): polled, bounded by LINK_UP_TIMEOUT."""
        deadline = time.monotonic() + LINK_UP_TIMEOUT
        while True:
            down = [end for end in self.interfaces()
                    if json.loads(ip("-j", "link", "show", "dev", end.name,
                                     namespace=end.namespace))[0].get("operstate") != "UP"]
            if not down:
                return
            if time.monotonic() > deadline:
                raise RuntimeError("veth ends still down: " +
                                   ", ".join(f"{end.name}@{end.namespace}" for end in down))
            time.sleep(0.02)  # polling the kernel's link state, bounded above

    def hearthd_config(self, ipv6=False, port=TURN_PORT, relay_ports=(20000, 20999), **options):
        """harness.config_text for a hearthd in the relay namespace: listening (UDP and
        TCP, `port`) on the client-side addresses, relaying from the peer-side ones
        (`ipv6` adds the IPv6 relay address), the peer subnet allowed by the peer policy
        (the default policy refuses private ranges). More options go to config_text."""
        relay = self.relay_peer_side
        options.setdefault("listen_hosts", (self.relay_client_side.ipv4,
                                            self.relay_client_side.ipv6))
        options.setdefault("allow_peers", (f"10.{self.subnet}.2.0/24",
                                           f"fd00:{self.subnet}:2::/64"))
        return harness.config_text(port, relay_ports, allow_loopback=False,
                                   relay_ipv4=relay.ipv4, relay_ipv6=relay.ipv6 if ipv6 else "",
                                   **options)

    def _release(self):
        self._subnet_lock.release()


class CloudNatTopology(RelayTopology):
    """A cloud VM behind a 1:1 NAT, as AWS, GCP and Azure give one: the VM's namespace has
    only its private address, and a NAT namespace between it and the internet maps the
    public address PUBLIC to it and back, ports kept (nftables dnat and snat).

    internet ns (client and peer)      nat ns                          vm ns
    to-nat  <------------------>  to-internet  [1:1 NAT]  to-vm  <-------->  to-nat
    10.R.1.2                      10.R.1.1                10.R.2.1           10.R.2.2

    Attributes: internet, nat, vm (the namespaces), internet_side, vm_side (the ends at
    the internet and at the VM); PUBLIC is the address clients are to be told."""

    PUBLIC = "203.0.113.5"

    def _build(self):
        self.internet = self._add_namespace("internet")
        self.nat = self._add_namespace("nat")
        self.vm = self._add_namespace("vm")
        for namespace in (self.internet, self.nat, self.vm):
            self.sysctl(namespace, "net.ipv6.conf.default.accept_dad", 0)
        self.sysctl(self.nat, "net.ipv4.ip_forward", 1)
        self._pair(self.internet, "to-nat", self.nat, "to-internet")
        self._pair(self.nat, "to-vm", self.vm, "to-nat")
        self.internet_side = self._configure(self.internet, "to-nat", 1, 2)
        self.nat_internet_side = self._configure(self.nat, "to-internet", 1, 1)
        self.nat_vm_side = self._configure(self.nat, "to-vm", 2, 1)
        self.vm_side = self._configure(self.vm, "to-nat", 2, 2)
        ip("route", "add", "default", "via", self.nat_internet_side.ipv4, namespace=self.internet)
        ip("route", "add", "default", "via", self.nat_vm_side.ipv4, namespace=self.vm)
        rules = f"""table ip cloud_nat {{
    chain inbound {{
        type nat hook prerouting priority dstnat;
        ip daddr {self.PUBLIC} dnat to {self.vm_side.ipv4}
    }}
    chain outbound {{
        type nat hook postrouting priority srcnat;
        ip saddr {self.vm_side.ipv4} snat to {self.PUBLIC}
    }}
}}
"""
        result = subprocess.run(exec_argv(self.nat, ["nft", "-f", "-"]), input=rules,
                                capture_output=True, text=True, timeout=30)
        if result.returncode != 0:
            raise RuntimeError(f"nft in {self.nat}: {result.stderr.strip()}")
        self._wait_until_up()

    def interfaces(self):
        return (self.internet_side, self.nat_internet_side, self.nat_vm_side, self.vm_side)

    def hearthd_config(self, port=TURN_PORT, relay_ports=(20000, 20999), **options):
        """harness.config_text for a hearthd in the VM: listening and relaying on its
        private address, telling clients PUBLIC (relay.external_ipv4), peers on the
        internet side allowed (the default policy refuses private ranges)."""
        options.setdefault("listen_hosts", (self.vm_side.ipv4,))
        options.setdefault("allow_peers", (f"10.{self.subnet}.1.0/24",))
        options["relay_extra"] = options.get("relay_extra", "") + \
            f' external_ipv4 = "{self.PUBLIC}";'
        return harness.config_text(port, relay_ports, allow_loopback=False,
                                   relay_ipv4=self.vm_side.ipv4, **options)
