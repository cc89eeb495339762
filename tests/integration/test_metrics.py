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
        self.assertEqual(self.v("stird_rcd_fetches_total", outcome="ok"), total)
        self.assertEqual(self.v("stird_fetch_queue_depth"), 3)
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


if __name__ == "__main__":
    unittest.main()
