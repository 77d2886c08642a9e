"""Start real hearthd and peer processes on loopback for a test, and always stop them.

Every wait here is on an event (a log line, a port answering) with a bounded timeout;
nothing sleeps to synchronise. Processes are stopped by PID in tearDown/finally paths.
"""

import base64
import hashlib
import hmac
import os
import random
import resource
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request
import zlib

HEARTHD = os.environ.get("HEARTHD", "")
SECRET = "integration-test-secret-0123456789"
READY_TIMEOUT = 20.0
# RFC 6062 TCP relays are off unless the config turns them on (relay.tcp_allocations).
TCP_ALLOCATIONS = "tcp_allocations = true;"


def _ephemeral_ports():
    """The kernel's range for the local ports of outgoing connections."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as file:
            low, high = (int(part) for part in file.read().split())
            return low, high
    except (OSError, ValueError):
        return 32768, 60999


def free_port(kinds=(socket.SOCK_DGRAM, socket.SOCK_STREAM)):
    """A port on 127.0.0.1 that is free for every socket kind in `kinds` right now, drawn
    below the ephemeral range: a port the kernel handed out (bind to 0) may be taken again
    at any moment as the local port of some outgoing connection (a test's HTTP request,
    hearthd's Redis connection) before hearthd binds it, and the listener then fails."""
    low, high = _ephemeral_ports()
    first, last = (10000, low - 1) if low > 11000 else (high + 1, 65535)
    for _ in range(200):
        port = random.randint(first, last)
        sockets = []
        try:
            for kind in kinds:
                sock = socket.socket(socket.AF_INET, kind)
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError("no free port found")


def mint(session, user, secret=SECRET, ttl=3600):
    username = f"{int(time.time()) + ttl}:{session}:{user}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def make_certificate(directory, name="cert", host="localhost"):
    """A self-signed EC certificate for `host`; returns (certificate, key) paths."""
    certificate = os.path.join(directory, f"{name}.pem")
    key = os.path.join(directory, f"{name}-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                    f"/CN={host}/O={name}", "-addext", f"subjectAltName=DNS:{host}",
                    "-keyout", key, "-out", certificate],
                   check=True, capture_output=True, timeout=30)
    return certificate, key


def config_text(port, relay_ports, allow_loopback=True, extra="", tls=None, relay_ipv6="",
                relay_extra="", listen_extra="", listen_hosts=("127.0.0.1",),
                relay_ipv4="127.0.0.1", allow_peers=()):
    """`tls` is (port, certificate, key) to add a TLS listener; `relay_ipv6` enables IPv6
    relays (and allows that address as a peer); `relay_extra` is more of the relay group,
    e.g. TCP_ALLOCATIONS; `listen_extra` more of the listen group. `listen_hosts` are the
    addresses of the UDP and TCP listeners (on `port`), `allow_peers` CIDR ranges added
    to the peer policy's allow-list (the default policy refuses private ranges)."""
    allowed = ["127.0.0.0/8"] if allow_loopback else []
    if allow_loopback and relay_ipv6:
        allowed.append(f"{relay_ipv6}/128")
    allowed += allow_peers
    # "[ ]" when empty, as tests that edit the text (soak.py) expect it.
    allow = "[ " + ", ".join(f'"{cidr}"' for cidr in allowed) + " ]" if allowed else "[ ]"
    listeners = ", ".join(f'"[{host}]:{port}"' if ":" in host else f'"{host}:{port}"'
                          for host in listen_hosts)
    tls_listen = f'tls = [ "127.0.0.1:{tls[0]}" ];' if tls else ""
    tls_files = f'tls = {{ certificate = "{tls[1]}"; private_key = "{tls[2]}"; }};' if tls else ""
    return f"""
log_level = "debug";
workers = 2;
realm = "hearth";
listen = {{ udp = [ {listeners} ]; tcp = [ {listeners} ]; {tls_listen} {listen_extra} }};
{tls_files}
relay = {{ ipv4 = "{relay_ipv4}"; ipv6 = "{relay_ipv6}"; port_min = {relay_ports[0]}; port_max = {relay_ports[1]}; {relay_extra} }};
auth = {{ secrets = ( {{ name = "test"; value = "{SECRET}"; }} ); }};
session_store = {{ kind = "embedded"; sessions = (
    {{ id = "s1"; state = "active"; participants = [ "alice", "bob" ]; allocation_cap = 64; }},
    {{ id = "over"; state = "ended"; participants = [ "alice" ]; }}
); }};
peer_policy = {{ allow = {allow}; }};
{extra if "admin" in extra else 'admin = { listen = ""; };' + extra}
"""


class Process:
    """A child process whose stderr is collected and watched for lines."""

    def __init__(self, argv, name, stop_signal=signal.SIGTERM, descriptor_limit=None):
        """`descriptor_limit` sets RLIMIT_NOFILE (soft and hard) for the child."""
        self.name = name
        self.stop_signal = stop_signal
        self.lines = []
        self._changed = threading.Condition()
        limit = None
        if descriptor_limit is not None:
            def limit():
                resource.setrlimit(resource.RLIMIT_NOFILE, (descriptor_limit, descriptor_limit))
        self.process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
            preexec_fn=limit
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def mark(self):
        """A position in the output: wait_for_line(..., since=mark) ignores what came before."""
        with self._changed:
            return len(self.lines)

    def wait_for_line(self, needle, timeout=READY_TIMEOUT, since=0):
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines[since:]:
                    if needle in line:
                        return line
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self.process.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(
                        f"{self.name}: no line containing {needle!r}; output:\n" + self.output()
                    )
                self._changed.wait(remaining)

    def wait_for_lines(self, needle, count, timeout=READY_TIMEOUT, since=0):
        """Until `count` lines after `since` contain `needle` (wait_for_line finds one)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                if sum(needle in line for line in self.lines[since:]) >= count:
                    return
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self.process.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(
                        f"{self.name}: fewer than {count} lines containing {needle!r}; "
                        "output:\n" + self.output()
                    )
                self._changed.wait(remaining)

    def output(self, since=0):
        """Every line so far, or those after a mark()."""
        with self._changed:
            return "\n".join(self.lines[since:])

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(self.stop_signal)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._reader.join(timeout=5)
        self.process.stdout.close()
        return self.process.returncode


def stop_cleanly(test, hearthd):
    """Stops a hearthd and fails the test unless it exits with 0: a crash, a hang at
    shutdown, or a sanitizer's report (LeakSanitizer's comes only at exit) is a failure."""
    code = hearthd.stop()
    if code != 0:
        test.fail(f"{hearthd.name} exited with {code}; output:\n{hearthd.output()}")


class HearthTest(unittest.TestCase):
    """Starts one hearthd per test with a config written to a temporary directory."""

    allow_loopback = True
    relay_ports = (40000, 40999)
    extra_config = ""
    with_tls = False
    relay_ipv6 = ""
    relay_extra = ""  # more keys of the relay group, e.g. TCP_ALLOCATIONS
    listen_extra = ""  # more keys of the listen group
    descriptor_limit = None  # RLIMIT_NOFILE for hearthd
    listen_host = "127.0.0.1"  # the UDP and TCP listeners' address
    launcher = ()  # what runs hearthd, e.g. ("setpriv", "--bounding-set=-bpf")

    def setUp(self):
        if not HEARTHD or not os.access(HEARTHD, os.X_OK):
            self.fail("HEARTHD must name the hearthd binary (ctest sets it)")
        self.directory = tempfile.TemporaryDirectory()
        self.addCleanup(self.directory.cleanup)
        self.port = free_port()
        tls = None
        if self.with_tls:
            self.tls_port = free_port((socket.SOCK_STREAM,))
            self.certificate, self.key = make_certificate(self.directory.name)
            tls = (self.tls_port, self.certificate, self.key)
        self.config_path = os.path.join(self.directory.name, "hearth.conf")
        with open(self.config_path, "w") as config:
            config.write(config_text(self.port, self.relay_ports, self.allow_loopback,
                                     self.extra_config, tls, self.relay_ipv6,
                                     self.relay_extra, self.listen_extra,
                                     listen_hosts=(self.listen_host,)))
        # SIGINT stops at once; SIGTERM would drain first (drain.sigterm_deadline).
        self.hearthd = Process([*self.launcher, HEARTHD, "--config", self.config_path], "hearthd",
                               signal.SIGINT,
                               self.descriptor_limit)
        self.addCleanup(stop_cleanly, self, self.hearthd)
        self.hearthd.wait_for_line("hearthd ready:")

    def start_peer(self, host="127.0.0.1"):
        """coturn's turnutils_peer: a UDP echo server, the far end of every relay test."""
        port = free_port((socket.SOCK_DGRAM,))
        peer = Process(["turnutils_peer", "-L", host, "-p", str(port)], "turnutils_peer")
        self.addCleanup(peer.stop)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        probe = socket.socket(family, socket.SOCK_DGRAM)
        probe.settimeout(0.2)
        try:
            for _ in range(50):  # bounded: about ten seconds
                probe.sendto(b"ping", (host, port))
                try:
                    if probe.recvfrom(64)[0] == b"ping":
                        return port
                except socket.timeout:
                    continue
        finally:
            probe.close()
        self.fail("turnutils_peer did not echo")


# --- a minimal STUN client for the tests that look at bytes ---

MAGIC_COOKIE = 0x2112A442


def fingerprint(data):
    return (zlib.crc32(data) ^ 0x5354554E) & 0xFFFFFFFF


def binding_request(transaction_id):
    return struct.pack("!HHI", 0x0001, 0, MAGIC_COOKIE) + transaction_id


def attributes(message):
    """Yields (type, value) of every attribute of a STUN message."""
    offset = 20
    length = struct.unpack("!H", message[2:4])[0]
    end = 20 + length
    while offset + 4 <= end:
        kind, size = struct.unpack("!HH", message[offset : offset + 4])
        yield kind, message[offset + 4 : offset + 4 + size], offset
        offset += 4 + (size + 3) // 4 * 4


def xor_address(value, transaction_id):
    family = value[1]
    port = struct.unpack("!H", value[2:4])[0] ^ (MAGIC_COOKIE >> 16)
    pad = struct.pack("!I", MAGIC_COOKIE) + transaction_id
    raw = bytes(b ^ pad[i] for i, b in enumerate(value[4:]))
    host = socket.inet_ntop(socket.AF_INET if family == 1 else socket.AF_INET6, raw)
    return host, port


def data_indication(message):
    """(peer, data) of a Data indication (RFC 8656 §11.4): XOR-PEER-ADDRESS as
    (host, port) and DATA; None for any other message."""
    if struct.unpack("!H", message[0:2])[0] != 0x0017:
        return None
    found = {kind: value for kind, value, _ in attributes(message)}
    return xor_address(found[0x0012], message[8:20]), found[0x0013]


# --- a minimal TURN client: enough to allocate, permit a peer, and read answers ---

ALLOCATE, REFRESH, SEND, CREATE_PERMISSION, CHANNEL_BIND, CONNECT = \
    0x0003, 0x0004, 0x0006, 0x0008, 0x0009, 0x000A


def message(method, attributes_list, transaction_id=None, key=None, message_class=0):
    """Builds a STUN message; MESSAGE-INTEGRITY with `key` when given, then FINGERPRINT."""
    transaction_id = transaction_id or os.urandom(12)
    kind = (method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2)
    kind |= ((message_class & 1) << 4) | ((message_class & 2) << 7)
    body = b""
    for attribute_type, value in attributes_list:
        body += struct.pack("!HH", attribute_type, len(value)) + value + b"\0" * (-len(value) % 4)

    def header(length):
        return struct.pack("!HHI", kind, length, MAGIC_COOKIE) + transaction_id

    if key is not None:
        covered = header(len(body) + 24) + body
        body += struct.pack("!HH", 0x0008, 20) + hmac.new(key, covered, hashlib.sha1).digest()
    covered = header(len(body) + 8) + body
    return covered + struct.pack("!HHI", 0x8028, 4, fingerprint(covered))


def xor_peer(host, port, transaction_id=None):
    """XOR-PEER-ADDRESS; an IPv6 address is XORed with the request's transaction ID too."""
    family, raw = (2, socket.inet_pton(socket.AF_INET6, host)) if ":" in host else \
        (1, socket.inet_aton(host))
    pad = struct.pack("!I", MAGIC_COOKIE) + (transaction_id or b"")
    raw = bytes(b ^ pad[i] for i, b in enumerate(raw))
    return struct.pack("!BBH", 0, family, port ^ (MAGIC_COOKIE >> 16)) + raw


def read_stun_from_stream(sock):
    """One STUN message off a TCP stream (header first, then its length)."""
    def exactly(count):
        data = b""
        while len(data) < count:
            chunk = sock.recv(count - len(data))
            if not chunk:
                raise ConnectionError("stream closed")
            data += chunk
        return data
    header = exactly(20)
    return header + exactly(struct.unpack("!H", header[2:4])[0])


def error_code(response):
    for kind, value, _ in attributes(response):
        if kind == 0x0009:
            return (value[2] & 7) * 100 + value[3]
    return 0


class TurnClient:
    """A TURN client with the long-term credential mechanism; subclasses carry the bytes."""

    def __init__(self, sock, session="s1", user="alice", secret=SECRET):
        self.sock = sock
        self.username, password = mint(session, user, secret)
        self.key = hashlib.md5(f"{self.username}:hearth:{password}".encode()).digest()
        self.nonce = None

    def request(self, method, attributes_list, transaction_id=None):
        credentials = [(0x0006, self.username.encode()), (0x0014, b"hearth"),
                       (0x0015, self.nonce.encode())] if self.nonce else []
        return self.exchange(message(method, attributes_list + credentials, transaction_id,
                                     key=self.key if self.nonce else None))

    def send_indication(self, host, port, data):
        """A Send indication (RFC 8656 §11.1): no answer comes."""
        transaction_id = os.urandom(12)
        self.transmit(message(SEND, [(0x0012, xor_peer(host, port, transaction_id)),
                                     (0x0013, data)], transaction_id, message_class=1))

    def allocate_answer(self, protocol=17, family=None):
        """The answer to an authenticated Allocate, after the 401 that gives the nonce;
        `protocol` 6 asks for an RFC 6062 TCP allocation, `family` 2 for an IPv6 relayed
        address (REQUESTED-ADDRESS-FAMILY, RFC 8656 §7.1)."""
        transport = [(0x0019, bytes([protocol, 0, 0, 0]))]
        if family is not None:
            transport.append((0x0017, bytes([family, 0, 0, 0])))
        first = self.request(ALLOCATE, transport)
        for kind, value, _ in attributes(first):
            if kind == 0x0015:
                self.nonce = value.decode()
        return self.request(ALLOCATE, transport)

    def allocate(self, protocol=17, family=None):
        answer = self.allocate_answer(protocol, family)
        for kind, value, _ in attributes(answer):
            if kind == 0x0016:
                return xor_address(value, answer[8:20])
        raise AssertionError(f"Allocate failed with {error_code(answer)}")

    def permit(self, host, port):
        answer = self.request(CREATE_PERMISSION, [(0x0012, xor_peer(host, port))])
        assert struct.unpack("!H", answer[0:2])[0] == 0x0108, f"CreatePermission: {error_code(answer)}"

    def channel_bind(self, number, host, port):
        """Binds channel `number` to host:port (RFC 8656 §12); IPv6 peers too (their
        XOR-PEER-ADDRESS is XORed with the transaction ID)."""
        transaction_id = os.urandom(12)
        answer = self.request(CHANNEL_BIND, [(0x000C, struct.pack("!HH", number, 0)),
                                             (0x0012, xor_peer(host, port, transaction_id))],
                              transaction_id)
        assert struct.unpack("!H", answer[0:2])[0] == 0x0109, f"ChannelBind: {error_code(answer)}"

    def close(self):
        self.sock.close()


class StreamTurnClient(TurnClient):
    """A TURN client over one TCP connection."""

    def __init__(self, port, **credentials):
        super().__init__(socket.create_connection(("127.0.0.1", port), timeout=10), **credentials)

    def transmit(self, data):
        self.sock.sendall(data)

    def exchange(self, request):
        self.transmit(request)
        return read_stun_from_stream(self.sock)


class DatagramTurnClient(TurnClient):
    """A TURN client over UDP from its own port: one request, one answer within 5 s.
    `sock` is an unconnected UDP socket of `host`'s family to use instead of a new one
    (e.g. one made in another network namespace)."""

    def __init__(self, port, host="127.0.0.1", sock=None, **credentials):
        if sock is None:
            sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                                 socket.SOCK_DGRAM)
        sock.settimeout(5)
        sock.connect((host, port))
        super().__init__(sock, **credentials)

    def transmit(self, data):
        self.sock.send(data)

    def exchange(self, request):
        self.transmit(request)
        return self.sock.recv(4096)


CONNECTION_BIND, CONNECTION_ID = 0x000B, 0x002A


def open_tcp_relay(test, port):
    """An RFC 6062 TCP relay through hearthd on `port`, from a TCP allocation to a peer
    listening on loopback: Connect, then a data connection bound with ConnectionBind.
    Returns (the client's data socket, the peer's socket); both closed at cleanup."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    test.addCleanup(listener.close)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(10)
    peer_port = listener.getsockname()[1]

    control = StreamTurnClient(port)
    test.addCleanup(control.close)
    control.allocate(protocol=6)
    control.permit("127.0.0.1", peer_port)
    answer = control.request(CONNECT, [(0x0012, xor_peer("127.0.0.1", peer_port))])
    connection_id = dict((kind, value) for kind, value, _ in attributes(answer)).get(CONNECTION_ID)
    test.assertIsNotNone(connection_id, f"Connect failed with {error_code(answer)}")
    peer, _ = listener.accept()
    peer.settimeout(10)
    test.addCleanup(peer.close)

    data = StreamTurnClient(port)
    test.addCleanup(data.close)
    data.nonce = control.nonce
    bound = data.request(CONNECTION_BIND, [(CONNECTION_ID, connection_id)])
    test.assertEqual(struct.unpack("!H", bound[0:2])[0], 0x010B,
                     f"ConnectionBind failed with {error_code(bound)}")
    return data.sock, peer


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def sockets_described(targets, pid=None):
    """For a failure message: each "socket:[inode]" among `targets` as its protocol,
    local and remote address and TCP state, read from /proc/net; one /proc/net does not
    list (a TCP socket reset or never connected) is read from a copy of process `pid`'s
    descriptor instead."""
    wanted = {target[len("socket:["):-1] for target in targets if target.startswith("socket:[")}
    found = {}
    for table in ("tcp", "tcp6", "udp", "udp6", "unix"):
        try:
            with open(f"/proc/net/{table}") as rows:
                lines = list(rows)[1:]
        except FileNotFoundError:
            continue
        for row in lines:
            fields = row.split()
            inode = fields[6] if table == "unix" else fields[9]
            if inode in wanted:
                found[inode] = (f"unix {fields[-1] if len(fields) > 7 else ''}" if table == "unix"
                                else f"{table} {fields[1]} -> {fields[2]} state {fields[3]}")
    if pid is not None and len(found) < len(wanted):
        found.update({inode: description for inode, (_, description)
                      in unlisted_sockets(pid, wanted - set(found)).items()})
    return {inode: found.get(inode, "?") for inode in sorted(wanted)}


def unlisted_sockets(pid, inodes):
    """Copies of `pid`'s descriptors for the socket `inodes` (pidfd_getfd, Linux 5.6),
    read by their own getsockname and getpeername: {inode: (local address, description)}."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    found = {}
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return found
    try:
        for name in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{name}")
            except OSError:
                continue
            inode = target[len("socket:["):-1] if target.startswith("socket:[") else None
            if inode not in inodes:
                continue
            fd = libc.syscall(438, pidfd, int(name), 0)  # pidfd_getfd
            if fd < 0:
                continue
            copy = socket.socket(fileno=fd)
            try:
                local = copy.getsockname()
                try:
                    peer = copy.getpeername()
                except OSError as unconnected:
                    peer = f"none ({unconnected.strerror})"
                found[inode] = (local, f"fd {name}: {copy.family.name} {copy.type.name} "
                                       f"{local} -> {peer}")
            finally:
                copy.close()
    finally:
        os.close(pidfd)
    return found


class AdminApi:
    """For a HearthTest: hearthd with its admin API on loopback, and a client for it.
    `admin_config()` gives the config group (put it in extra_config before setUp)."""

    admin_token = "admin-api-test-token-0123456789"

    def admin_config(self, port_kinds=(socket.SOCK_STREAM,)):
        self.admin_port = free_port(port_kinds)
        return (f'admin = {{ listen = "127.0.0.1:{self.admin_port}"; '
                f'token = "{self.admin_token}"; }};')

    def admin(self, path, method="GET"):
        request = urllib.request.Request(f"http://127.0.0.1:{self.admin_port}{path}",
                                         method=method,
                                         headers={"Authorization": f"Bearer {self.admin_token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read().decode()

    def metric(self, name):
        """The first sample of family `name` in /metrics."""
        for line in self.admin("/metrics").splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return int(float(line.split()[-1]))
        self.fail(f"no {name} in /metrics")
