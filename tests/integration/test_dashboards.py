"""The Grafana dashboard (etc/grafana/hearth-dashboard.json) and the Prometheus alert rules
(etc/prometheus/hearth-alerts.yml): promtool accepts the rules, and every metric either
names is one a real hearthd exports, so neither can drift from /metrics."""

import json
import os
import re
import shutil
import socket
import subprocess
import unittest

import harness
import test_redis

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DASHBOARD = os.path.join(ROOT, "etc", "grafana", "hearth-dashboard.json")
RULES = os.path.join(ROOT, "etc", "prometheus", "hearth-alerts.yml")
PROMTOOL = shutil.which("promtool")
# Series Prometheus makes itself, not hearthd.
PROMETHEUS_OWN = {"up"}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def dashboard_expressions():
    with open(DASHBOARD) as file:
        dashboard = json.load(file)
    expressions = [target["expr"] for panel in dashboard["panels"]
                   for target in panel.get("targets", [])]
    expressions += [variable["definition"] for variable in dashboard["templating"]["list"]
                    if variable.get("definition")]
    return dashboard, expressions


def rule_expressions():
    # The rules file's expressions, without a YAML library: each `expr:` line, or the
    # folded lines under `expr: >`.
    expressions, folding = [], None
    with open(RULES) as file:
        for line in file:
            stripped = line.strip()
            if folding is not None:
                if line.startswith(folding):
                    expressions[-1] += " " + stripped
                    continue
                folding = None
            if stripped.startswith("expr:"):
                value = stripped[len("expr:"):].strip()
                if value == ">":
                    expressions.append("")
                    folding = line[:line.index("expr:")] + "  "
                else:
                    expressions.append(value)
    return expressions


def metric_names(expression):
    """The metric names in a PromQL expression: identifiers followed by `{`, `[`, `)` or
    an operator that are not functions, keywords or label names."""
    without_strings = re.sub(r'"[^"]*"', '""', expression)
    without_labels = re.sub(r"\{[^}]*\}", "{}", without_strings)
    without_groupings = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)",
                               "", without_labels)
    names = set()
    for match in re.finditer(r"\b([a-zA-Z_][a-zA-Z0-9_]*)\b(?!\s*\()", without_groupings):
        name = match.group(1)
        if name.startswith(("hearth_", "process_")) or name in PROMETHEUS_OWN:
            names.add(name)
    return names


class AlertRulesTest(unittest.TestCase):
    def test_promtool_accepts_the_rules(self):
        if PROMTOOL is None:
            self.fail("promtool is missing: run ./test.sh (it installs Debian's prometheus)")
        checked = subprocess.run([PROMTOOL, "check", "rules", RULES], capture_output=True,
                                 text=True, timeout=30)
        self.assertEqual(checked.returncode, 0, checked.stdout + checked.stderr)
        self.assertIn("SUCCESS", checked.stdout)

    def test_the_rules_cover_what_an_operator_watches(self):
        names = set().union(*map(metric_names, rule_expressions()))
        for family in ("hearth_session_store_up", "hearth_tls_certificate_expiry_timestamp_seconds",
                       "hearth_allocations_limit", "hearth_allocation_loss_ratio_bucket",
                       "hearth_allocation_end_jitter_seconds_bucket",
                       "hearth_dropped_packets_total", "hearth_last_reload_success"):
            self.assertIn(family, names)


class DashboardTest(unittest.TestCase):
    def test_every_panel_asks_the_datasource_variable(self):
        dashboard, _ = dashboard_expressions()
        (variable,) = [v for v in dashboard["templating"]["list"] if v["name"] == "datasource"]
        self.assertEqual((variable["type"], variable["query"]), ("datasource", "prometheus"))
        for panel in dashboard["panels"]:
            if panel["type"] == "row":
                continue
            self.assertEqual(panel["datasource"]["uid"], "${datasource}", panel["title"])
            for target in panel["targets"]:
                self.assertEqual(target["datasource"]["uid"], "${datasource}", panel["title"])

    def test_panel_ids_are_unique_and_each_panel_has_a_query(self):
        dashboard, _ = dashboard_expressions()
        ids = [panel["id"] for panel in dashboard["panels"]]
        self.assertEqual(len(ids), len(set(ids)))
        for panel in dashboard["panels"]:
            if panel["type"] != "row":
                self.assertTrue(panel["targets"], panel["title"])


class NamesExistTest(test_redis.RedisFixture):
    """A hearthd with everything that adds families: Redis (the store's round trips), a TLS
    listener (the certificate's expiry), per-allocation series and an allocation."""

    def start_full_node(self):
        port = harness.free_port()
        tls_port = harness.free_port((socket.SOCK_STREAM,))
        self.admin_port = harness.free_port((socket.SOCK_STREAM,))
        certificate, key = harness.make_certificate(self.directory.name)
        config = harness.config_text(port, (39500, 39999), tls=(tls_port, certificate, key), extra=f"""
admin = {{ listen = "127.0.0.1:{self.admin_port}"; token = "{test_redis.ADMIN_TOKEN}";
          per_allocation_metrics = true; }};
""").replace('session_store = { kind = "embedded";',
             f'session_store = {{ kind = "redis"; redis = {{ port = {self.redis_port}; '
             f'node_id = "names"; }};')
        path = os.path.join(self.directory.name, "names.conf")
        with open(path, "w") as file:
            file.write(config)
        node = harness.Process([harness.HEARTHD, "--config", path], "hearthd names",
                               harness.signal.SIGINT)
        self.addCleanup(harness.stop_cleanly, self, node)
        node.wait_for_line("hearthd ready:")
        node.wait_for_line("Redis 127.0.0.1")
        node.port, node.admin_port = port, self.admin_port
        return node

    def exported_names(self, text):
        names = set()
        for line in text.splitlines():
            if line.startswith("# TYPE "):
                _, _, name, kind = line.split()
                names.add(name)
                if kind == "histogram":
                    names.update(name + suffix for suffix in HISTOGRAM_SUFFIXES)
        return names

    def test_every_metric_the_dashboard_and_the_rules_name_is_exported(self):
        self.open_session()
        node = self.start_full_node()
        client = harness.DatagramTurnClient(node.port)
        self.addCleanup(client.close)
        client.allocate()
        exported = self.exported_names(self.admin(node, "/metrics")) | PROMETHEUS_OWN
        _, dashboard = dashboard_expressions()
        rules = rule_expressions()
        self.assertGreater(len(rules), 10)
        named = {}
        for source, expressions in (("dashboard", dashboard), ("rules", rules)):
            for expression in expressions:
                for name in metric_names(expression):
                    named.setdefault(name, source)
        self.assertGreater(len(named), 20)
        missing = {name: source for name, source in named.items() if name not in exported}
        self.assertEqual(missing, {})


if __name__ == "__main__":
    unittest.main()
