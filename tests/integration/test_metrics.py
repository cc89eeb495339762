"""The Prometheus registry (src/server/metrics.c) driven by
tests/tools/metrics_driver.c: every counter must hold exactly what the
driver recorded from several threads at once (no lost updates), the
histograms must put each latency in the right bucket, and Debian's
`promtool check metrics` must accept the exposition."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("STIR_SRC") or os.path.abspath(os.path.join(HERE, "..", ".."))
DRIVER = os.environ.get("METRICS_DRIVER") or os.path.join(SRC, "build", "tests", "metrics_driver")

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """{(name, frozenset(labels)): float} plus {name: type}."""
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ", 3)
            types[name] = typ
            continue
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise AssertionError("not a sample line: %r" % line)
        labels = frozenset(LABEL.findall(m.group(2) or ""))
        key = (m.group(1), labels)
        if key in samples:
            raise AssertionError("duplicate series %r" % line)
        samples[key] = float(m.group(3))
    return samples, types


def promtool(text):
    r = subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return r.returncode, r.stdout.decode()


class MetricsRegistry(unittest.TestCase):
    THREADS, N = 4, 5000

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="metrics.")
        pki = os.path.join(cls.tmp, "pki")
        subprocess.run(["bash", os.path.join(SRC, "tests", "tools", "mkpki.sh"), pki],
                       check=True, timeout=120)
        r = subprocess.run([DRIVER, str(cls.THREADS), str(cls.N),
                            os.path.join(pki, "root.pem"), os.path.join(pki, "chain.pem")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        if r.returncode != 0:
            raise AssertionError("metrics_driver failed: %s" % r.stderr.decode())
        cls.text = r.stdout.decode()
        cls.samples, cls.types = parse(cls.text)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def v(self, name, **labels):
        key = (name, frozenset(labels.items()))
        self.assertIn(key, self.samples, "missing %s%r in:\n%s" % (name, labels, self.text))
        return self.samples[key]

    def test_promtool_accepts_it(self):
        rc, out = promtool(self.text)
        self.assertEqual(rc, 0, out)

    def test_promtool_rejects_a_broken_exposition(self):
        # The check above means something only if promtool can say no.
        rc, _ = promtool(self.text.replace("# TYPE stird_requests_total counter",
                                           "# TYPE stird_requests_total bogus"))
        self.assertNotEqual(rc, 0)

    def test_request_counters_lose_nothing_across_threads(self):
        total = self.THREADS * self.N
        self.assertEqual(self.v("stird_requests_total", resource="signing", status="200"), total)
        self.assertEqual(self.v("stird_requests_total", resource="verification", status="200"), total)
        self.assertEqual(self.v("stird_requests_total", resource="verification", status="400"), total)
        self.assertEqual(self.v("stird_requests_total", resource="other", status="404"), total)

    def test_latency_buckets(self):
        total = self.THREADS * self.N
        b = "stird_request_duration_seconds_bucket"
        self.assertEqual(self.v(b, resource="signing", le="0.0001"), 0)       # 150 us
        self.assertEqual(self.v(b, resource="signing", le="0.00025"), total)
        self.assertEqual(self.v(b, resource="verification", le="0.0001"), total)  # 20 us
        self.assertEqual(self.v(b, resource="verification", le="0.0025"), total)
        self.assertEqual(self.v(b, resource="verification", le="0.005"), 2 * total)  # 3 ms
        self.assertEqual(self.v(b, resource="other", le="5"), 0)               # 7 s
        self.assertEqual(self.v(b, resource="other", le="+Inf"), total)
        self.assertEqual(self.v("stird_request_duration_seconds_count", resource="verification"),
                         2 * total)
        self.assertAlmostEqual(self.v("stird_request_duration_seconds_sum", resource="signing"),
                               total * 150e-6, places=4)
        self.assertEqual(self.types["stird_request_duration_seconds"], "histogram")

    def test_verification_families(self):
        total = self.THREADS * self.N
        r = "stird_verify_results_total"
        self.assertEqual(self.v(r, ppt="shaken", status="pass", reason_code="none"), total)
        self.assertEqual(self.v(r, ppt="div", status="fail", reason_code="438"), total)
        self.assertEqual(self.v(r, ppt="baseline", status="fail", reason_code="436"), total)
        self.assertEqual(self.v(r, ppt="other", status="fail", reason_code="other"), total)
        self.assertEqual(self.v("stird_verstat_total", verstat="TN-Validation-Passed"), total)
        self.assertEqual(self.v("stird_verstat_total", verstat="none"), total)
        self.assertEqual(self.v("stird_verstat_total", verstat="TN-Validation-Failed"), 0)

    def test_refusals_fetches_and_gauges(self):
        total = self.THREADS * self.N
        self.assertEqual(self.v("stird_refusals_total", cause="size"), total)
        for cause in ("rate", "authentication", "policy", "fetch_queue"):
            self.assertEqual(self.v("stird_refusals_total", cause=cause), 0)
        self.assertEqual(self.v("stird_rcd_fetches_total", outcome="ok"), 0)
        self.assertEqual(self.v("stird_rcd_cache_entries"), 0)
        self.assertEqual(self.v("stird_fetch_queue_depth"), 3)
        self.assertEqual(self.v("stird_sign_queue_depth"), 2)
        self.assertEqual(self.v("stird_fetch_queue_capacity"), 1024)
        # notAfter 2000000000, clock 1900000000 in the driver
        self.assertEqual(self.v("stird_signing_cert_expiry_seconds"), 100000000)

    def test_certcache_families(self):
        # One preloaded chain: an entry, and no network fetch.
        self.assertEqual(self.v("stird_certcache_entries"), 1)
        self.assertEqual(self.v("stird_certcache_fetches_total", outcome="ok"), 0)
        self.assertEqual(self.v("stird_certcache_fetch_duration_seconds_count"), 0)
        self.assertEqual(self.types["stird_certcache_hits_total"], "counter")

    def test_build_info(self):
        with open(os.path.join(SRC, "CMakeLists.txt")) as f:
            version = re.search(r"project\(stird VERSION (\S+)", f.read()).group(1)
        self.assertEqual(self.v("stird_build_info", version=version), 1)



def metrics_wired():
    """True once the HTTP layer serves /metrics (some server file other
    than metrics.c calls metrics_render). Until the integrator wires the
    listener the live test below is skipped; from then on it is binding."""
    d = os.path.join(SRC, "src", "server")
    for name in os.listdir(d):
        if name.endswith(".c") and name != "metrics.c":
            with open(os.path.join(d, name)) as f:
                if "metrics_render(" in f.read():
                    return True
    return False


@unittest.skipUnless(metrics_wired(), "GET /metrics not wired into the HTTP layer yet")
class MetricsEndpoint(unittest.TestCase):
    """A real stird: /metrics on its own listener passes promtool, and the
    counters move by exactly the requests this test makes."""

    @classmethod
    def setUpClass(cls):
        import sys
        sys.dont_write_bytecode = True
        sys.path.insert(0, HERE)
        import stirtest
        cls.stirtest = stirtest
        cls.srv = stirtest.Server()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def scrape(self):
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", self.srv.metrics_port, timeout=10)
        try:
            c.request("GET", "/metrics")
            r = c.getresponse()
            body = r.read().decode()
            self.assertEqual(r.status, 200, body)
            self.assertTrue(r.getheader("Content-Type", "").startswith("text/plain"))
            return body
        finally:
            c.close()

    def value(self, samples, name, **labels):
        return samples.get((name, frozenset(labels.items())), 0.0)

    def test_counters_move_with_requests(self):
        import time
        before, _ = parse(self.scrape())
        ident, _ = self.srv.sign_ok()
        self.srv.sign_ok()
        st, body = self.srv.verify({"identityHeader": ident, "from": {"tn": self.stirtest.ORIG_TN},
                                    "to": {"tn": self.stirtest.DEST_TN}, "time": int(time.time())})
        self.assertEqual(st, 200, body)
        st, _, _ = self.srv.request("POST", "/stir/v1/signing", body=b"{",
                                    headers={"Content-Type": "application/json"})
        self.assertEqual(st, 400)
        text = self.scrape()
        rc, out = promtool(text)
        self.assertEqual(rc, 0, out)
        after, _ = parse(text)

        def moved(name, **labels):
            return self.value(after, name, **labels) - self.value(before, name, **labels)
        self.assertEqual(moved("stird_requests_total", resource="signing", status="200"), 2)
        self.assertEqual(moved("stird_requests_total", resource="signing", status="400"), 1)
        self.assertEqual(moved("stird_requests_total", resource="verification", status="200"), 1)
        self.assertEqual(moved("stird_verify_results_total", ppt="shaken", status="pass",
                               reason_code="none"), 1)
        self.assertEqual(moved("stird_verstat_total", verstat="TN-Validation-Passed"), 1)
        self.assertEqual(moved("stird_request_duration_seconds_count", resource="signing"), 3)
        self.assertGreater(self.value(after, "stird_signing_cert_expiry_seconds"), 0)
        self.assertGreaterEqual(self.value(after, "stird_certcache_entries"), 1)


    def metrics_call(self, method, path):
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", self.srv.metrics_port, timeout=10)
        try:
            c.request(method, path)
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

    def test_only_get_metrics_is_served(self):
        import json
        st, h, body = self.metrics_call("GET", "/nothing")
        self.assertEqual(st, 404)
        self.assertEqual(h["content-type"], "application/problem+json")
        self.assertEqual(json.loads(body)["status"], 404)
        st, h, _ = self.metrics_call("POST", "/metrics")
        self.assertEqual(st, 405)
        self.assertEqual(h["allow"], "GET, HEAD")
        st, h, body = self.metrics_call("HEAD", "/metrics")
        self.assertEqual(st, 200)
        self.assertEqual(body, b"")
        self.assertGreater(int(h["content-length"]), 0)
        # the API's resources are not on the metrics listener, nor /metrics on the API
        self.assertEqual(self.metrics_call("GET", "/health")[0], 404)
        self.assertEqual(self.srv.request("GET", "/metrics")[0], 404)

    def test_banner_names_the_url(self):
        self.assertIn("metrics: http://127.0.0.1:%d/metrics" % self.srv.metrics_port,
                      self.srv.stdout())

    def test_oversized_body_is_a_size_refusal(self):
        before, _ = parse(self.scrape())
        st, _ = self.srv.raw(b"POST /stir/v1/signing HTTP/1.1\r\nHost: a\r\n"
                             b"Content-Type: application/json\r\n"
                             b"Content-Length: 100000000\r\n\r\n")
        self.assertEqual(st, 413)
        after, _ = parse(self.scrape())
        self.assertEqual(self.value(after, "stird_refusals_total", cause="size") -
                         self.value(before, "stird_refusals_total", cause="size"), 1)
        self.assertEqual(self.value(after, "stird_requests_total", resource="metrics",
                                    status="200") -
                         self.value(before, "stird_requests_total", resource="metrics",
                                    status="200"), 1)


class MetricsDisabled(unittest.TestCase):
    def test_none_disables_the_listener(self):
        import sys
        import socket
        sys.path.insert(0, HERE)
        import stirtest
        srv = stirtest.Server("--metrics-listen", "none")
        try:
            self.assertNotIn("metrics:", srv.stdout())
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", srv.metrics_port), timeout=2).close()
        finally:
            srv.stop()


if __name__ == "__main__":
    unittest.main()
