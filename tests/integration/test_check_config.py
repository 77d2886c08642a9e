"""hearthd --check-config: every error with its line, what this host would refuse at start
(TLS files, addresses it cannot bind), and a clean file passes."""

import os
import socket
import subprocess
import tempfile
import unittest

import harness

BROKEN = """log_level = "loud";
workers = 2;
relay = { ipv4 = "not-an-address"; };
auth = { secrets = ( { name = "a"; value = "0123456789abcdef0123"; } ); };
limits = { max_allocatons = 10; };
"""

# An address of TEST-NET-1 (RFC 5737): never one of this host's.
NOT_OURS = "192.0.2.1"


class CheckConfigTest(unittest.TestCase):
    def setUp(self):
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        self.directory = directory.name
        self.port = harness.free_port()

    def check(self, text):
        with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as config:
            config.write(text)
        self.addCleanup(os.unlink, config.name)
        return config.name, self.run_check(config.name)

    def run_check(self, path):
        return subprocess.run([harness.HEARTHD, "--check-config", "--config", path],
                              capture_output=True, text=True, timeout=30)

    def good(self, **changes):
        return harness.config_text(self.port, (40000, 40100), **changes)

    def with_tls(self, certificate, key):
        return self.good(tls=(harness.free_port((socket.SOCK_STREAM,)), certificate, key))

    def assert_refused(self, result, *needles):
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertNotIn(": ok", result.stdout)
        for needle in needles:
            self.assertIn(needle, result.stderr)

    def test_every_error_is_reported_with_its_line(self):
        path, result = self.check(BROKEN)
        self.assertEqual(result.returncode, 1)
        self.assertIn(f"{path}:1: log_level: must be trace, debug, info, warn or error", result.stderr)
        self.assertIn(f"{path}:3: relay.ipv4: 'not-an-address' is not an IPv4 address", result.stderr)
        self.assertIn(f"{path}:5: limits.max_allocatons: unknown key", result.stderr)

    def test_syntax_error_names_its_line_and_libconfigs_words(self):
        path, result = self.check('realm = "hearth";\nworkers = ;\n')
        self.assert_refused(result, f"{path}:2: syntax error in 'workers = ;'")

    def test_a_good_config_passes(self):
        path, result = self.check(self.good())
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(f"{path}: ok", result.stdout)

    def test_a_good_tls_config_passes(self):
        certificate, key = harness.make_certificate(self.directory)
        path, result = self.check(self.with_tls(certificate, key))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(f"{path}: ok", result.stdout)

    def test_a_missing_certificate_is_refused(self):
        _, key = harness.make_certificate(self.directory)
        missing = os.path.join(self.directory, "missing.pem")
        _, result = self.check(self.with_tls(missing, key))
        self.assert_refused(result, "tls.certificate", f"certificate {missing}")

    def test_a_missing_key_is_refused(self):
        certificate, _ = harness.make_certificate(self.directory)
        missing = os.path.join(self.directory, "missing-key.pem")
        _, result = self.check(self.with_tls(certificate, missing))
        self.assert_refused(result, "tls.private_key", f"private key {missing}")

    def test_a_key_of_another_certificate_is_refused(self):
        certificate, _ = harness.make_certificate(self.directory, "one")
        _, other_key = harness.make_certificate(self.directory, "two")
        _, result = self.check(self.with_tls(certificate, other_key))
        # OpenSSL refuses it as it loads the key ("key values mismatch").
        self.assert_refused(result, f"private key {other_key}", "mismatch")

    def test_a_directory_is_not_an_empty_config(self):
        result = self.run_check(self.directory)
        self.assert_refused(result, f"{self.directory}: is a directory, not a config file")
        self.assertEqual(len(result.stderr.strip().splitlines()), 2, result.stderr)

    def test_a_listener_on_an_address_the_host_does_not_have_is_refused(self):
        text = self.good().replace(f'udp = [ "127.0.0.1:{self.port}" ]',
                                   f'udp = [ "{NOT_OURS}:{self.port}" ]')
        _, result = self.check(text)
        self.assert_refused(result, f"cannot listen on {NOT_OURS}:{self.port} (listen.udp)",
                            "not an address of this host")

    def test_a_relay_address_the_host_does_not_have_is_refused(self):
        _, result = self.check(self.good().replace('ipv4 = "127.0.0.1"', f'ipv4 = "{NOT_OURS}"'))
        self.assert_refused(result, f"cannot relay from {NOT_OURS} (relay.ipv4)",
                            "not an address of this host")

    def test_a_port_in_use_is_refused_with_its_setting(self):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
            holder.bind(("127.0.0.1", self.port))
            holder.listen(1)
            _, result = self.check(self.good())
        self.assert_refused(result, f"cannot listen on 127.0.0.1:{self.port} (listen.tcp): "
                                    "already in use")


if __name__ == "__main__":
    unittest.main()
