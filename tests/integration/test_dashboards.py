"""The Grafana dashboard (etc/grafana/hearth-dashboard.json) and the Prometheus alert rules
(etc/prometheus/hearth-alerts.yml): promtool accepts the rules, and every metric either
names is one a real hearthd exports, so neither can drift from /metrics."""

import json
import os
import re
import shutil
import socket
import subprocess
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

import harness
import test_redis

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DASHBOARD = os.path.join(ROOT, "etc", "grafana", "hearth-dashboard.json")
RULES = os.path.join(ROOT, "etc", "prometheus", "hearth-alerts.yml")
PROMTOOL = shutil.which("promtool")
PROMETHEUS = shutil.which("prometheus")
READ_ONLY_TOKEN = "dashboard-read-only-token"
# Each scrape must answer within the interval (Prometheus's timeout), and a missed one
# would raise HearthDown: two seconds leave room for a sanitizer build on a busy machine.
SCRAPE_SECONDS = 2
# Grafana's $__rate_interval: four scrape intervals at least.
RATE_INTERVAL = f"{4 * SCRAPE_SECONDS}s"
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


class FullNodeFixture(test_redis.RedisFixture):
    """A hearthd with everything that adds families: Redis (the store's round trips), a TLS
    listener (the certificate's expiry), per-allocation series and an allocation."""

    def start_full_node(self):
        port = harness.free_port()
        tls_port = harness.free_port((socket.SOCK_STREAM,))
        self.admin_port = harness.free_port((socket.SOCK_STREAM,))
        certificate, key = harness.make_certificate(self.directory.name)
        config = harness.config_text(port, (39500, 39999), tls=(tls_port, certificate, key), extra=f"""
admin = {{ listen = "127.0.0.1:{self.admin_port}"; token = "{test_redis.ADMIN_TOKEN}";
          read_only_token = "{READ_ONLY_TOKEN}"; per_allocation_metrics = true; }};
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


class NamesExistTest(FullNodeFixture):
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


class ScrapeTest(FullNodeFixture):
    """Debian's Prometheus scrapes a hearthd as the README's operator guide says (the
    read-only token, the alert rules loaded): every query of the dashboard, as Grafana
    would send it, returns series, and the rules evaluate without error. Grafana itself is
    not a Debian package; what it draws is what these queries return."""

    def start_prometheus(self, admin_port):
        token = os.path.join(self.directory.name, "hearth.token")
        with open(token, "w") as file:
            file.write(READ_ONLY_TOKEN)
        config = os.path.join(self.directory.name, "prometheus.yml")
        with open(config, "w") as file:
            file.write(f"""global: {{ scrape_interval: {SCRAPE_SECONDS}s, evaluation_interval: {SCRAPE_SECONDS}s }}
rule_files: [ "{RULES}" ]
scrape_configs:
  - job_name: hearth
    authorization: {{ credentials_file: {token} }}
    static_configs:
      - targets: [ "127.0.0.1:{admin_port}" ]
""")
        self.prometheus_port = harness.free_port((socket.SOCK_STREAM,))
        prometheus = harness.Process(
            [PROMETHEUS, f"--config.file={config}",
             f"--storage.tsdb.path={os.path.join(self.directory.name, 'tsdb')}",
             f"--web.listen-address=127.0.0.1:{self.prometheus_port}"], "prometheus")
        self.addCleanup(prometheus.stop)
        prometheus.wait_for_line("Server is ready to receive web requests")
        return prometheus

    def api(self, path, **parameters):
        query = urllib.parse.urlencode(parameters)
        url = f"http://127.0.0.1:{self.prometheus_port}/api/v1/{path}?{query}"
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as error:
            self.fail(f"Prometheus {path} {parameters}: {error.code} {error.read().decode()}")
        self.assertEqual(answer["status"], "success", answer)
        return answer["data"]

    def until(self, what, check, timeout=60):
        """Polls Prometheus's API until check() returns something true: scrapes and rule
        evaluations happen on its clock, every SCRAPE_SECONDS here."""
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            if time.monotonic() > deadline:
                self.fail(f"Prometheus: {what} within {timeout} s")
            time.sleep(SCRAPE_SECONDS / 4)

    def relay_a_little(self, node):
        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(peer.close)
        peer.bind(("127.0.0.1", 0))
        peer.settimeout(10)
        client = harness.DatagramTurnClient(node.port)
        self.addCleanup(client.close)
        client.allocate()
        client.permit(*peer.getsockname())
        for number in range(5):
            client.send_indication(*peer.getsockname(), f"packet {number}".encode())
            peer.recvfrom(2048)

    def test_every_dashboard_query_returns_series_and_every_rule_evaluates(self):
        if PROMETHEUS is None:
            self.fail("prometheus is missing: run ./test.sh (it installs Debian's prometheus)")
        self.open_session()
        node = self.start_full_node()
        self.relay_a_little(node)
        self.start_prometheus(node.admin_port)
        instance = f"127.0.0.1:{node.admin_port}"

        targets = self.until("the hearthd target up", lambda: [
            target for target in self.api("targets")["activeTargets"]
            if target["health"] == "up"])
        self.assertEqual([t["labels"]["instance"] for t in targets], [instance])
        # The dashboard's Node variable: label_values(hearth_build_info, instance).
        self.assertEqual(self.api("label/instance/values", **{"match[]": "hearth_build_info"}),
                         [instance])

        dashboard, expressions = dashboard_expressions()
        # "." in the instance matches itself among others: the regex needs no escaping.
        queries = {expression: expression.replace("$instance", instance)
                   .replace("$__rate_interval", RATE_INTERVAL)
                   for expression in expressions if not expression.startswith("label_values")}

        def empty_queries():
            return [expression for expression, query in queries.items()
                    if not self.api("query", query=query)["result"]]

        # rate() needs two samples in its window: a few scrapes after the first.
        deadline = time.monotonic() + 15 * SCRAPE_SECONDS
        while (empty := empty_queries()) and time.monotonic() < deadline:
            time.sleep(SCRAPE_SECONDS / 4)
        self.assertEqual(empty, [])

        def rules():
            return [rule for group in self.api("rules")["groups"] for rule in group["rules"]]
        self.until("every rule evaluated", lambda: rules() and all(
            not rule["lastEvaluation"].startswith("0001") for rule in rules()))
        self.assertEqual(len(rules()), len(rule_expressions()))
        self.assertEqual([(r["name"], r.get("lastError")) for r in rules() if r["health"] != "ok"],
                         [])
        # The harness's certificate lives two days: both expiry alerts are pending, and
        # nothing else on this healthy node is.
        alerts = {alert["labels"]["alertname"] for alert in self.api("alerts")["alerts"]}
        self.assertEqual(alerts, {"HearthCertificateExpiresSoon",
                                  "HearthCertificateExpiresVerySoon"})


if __name__ == "__main__":
    unittest.main()
