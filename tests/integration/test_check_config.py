"""hearthd --check-config: every error with its line, and a clean file passes."""

import os
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


class CheckConfigTest(unittest.TestCase):
    def check(self, text):
        with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as config:
            config.write(text)
        self.addCleanup(os.unlink, config.name)
        result = subprocess.run([harness.HEARTHD, "--check-config", "--config", config.name],
                                capture_output=True, text=True, timeout=30)
        return config.name, result

    def test_every_error_is_reported_with_its_line(self):
        path, result = self.check(BROKEN)
        self.assertEqual(result.returncode, 1)
        self.assertIn(f"{path}:1: log_level: must be trace, debug, info, warn or error", result.stderr)
        self.assertIn(f"{path}:3: relay.ipv4: 'not-an-address' is not an IPv4 address", result.stderr)
        self.assertIn(f"{path}:5: limits.max_allocatons: unknown key", result.stderr)

    def test_syntax_error_names_its_line(self):
        path, result = self.check('realm = "hearth";\nworkers = ;\n')
        self.assertEqual(result.returncode, 1)
        self.assertIn(f"{path}:2:", result.stderr)

    def test_a_good_config_passes(self):
        path, result = self.check(harness.config_text(3478, (40000, 40100)))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(f"{path}: ok", result.stdout)


if __name__ == "__main__":
    unittest.main()
