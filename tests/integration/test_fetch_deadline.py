"""A request parked on the fetch pool has a deadline (issue 8 item 6): one
that has waited longer than request_timeout for a fetch thread is answered
503 ProblemDetails with Retry-After (counted as
stird_refusals_total{cause="fetch_wait"}) instead of being run, even while
the only pool thread is stuck on a repository that never answers, and the
server keeps answering everything else.

stird: 1 fetch thread, request_timeout 1 s, fetch timeout and budget 8 s.
Request 1's x5u is /hang on tests/tools/certserver.py: it holds the thread
for 8 s. Requests 2-5 (other hanging URLs) queue behind it; before the fix
they waited the full 8 s (then 8 s more each, one after the other)."""
import http.client
import json
import os
import sys
import threading
import time
import unittest
import urllib.request

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stirtest  # noqa: E402


class FetchDeadlineTest(stirtest.RepositoryTestCase):
    # One fetch thread held by a hanging x5u; every request parked behind
    # it waits past request_timeout (1 s).
    server_args = ("--fetch-threads", "1", "--request-timeout", "1",
                   "--fetch-budget-ms", "8000")
    fetch_timeout_ms = 8000
    tmp_prefix = "stirdeadline."

    def body(self, path):
        now = int(time.time())
        ident = stirtest.shaken_identity(self.certserver.url(path),
                                         os.path.join(self.pki, "sp.key"), self.tmp, now)
        return json.dumps({"verificationRequest": stirtest.verification_request(ident, now)})

    def post(self, body, results, tag):
        t0 = time.monotonic()
        c = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=60)
        try:
            c.request("POST", "/stir/v1/verification", body=body,
                      headers={"Content-Type": "application/json"})
            r = c.getresponse()
            data = r.read()
            results.append((tag, time.monotonic() - t0, r.status, r.getheader("Retry-After"),
                            r.getheader("Content-Type"), json.loads(data)))
        finally:
            c.close()

    def metric(self, name, **labels):
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.srv.metrics_port,
                                    timeout=10) as r:
            text = r.read().decode()
        want = name + ("{" + ",".join('%s="%s"' % kv for kv in sorted(labels.items())) + "}"
                       if labels else "")
        for line in text.splitlines():
            if line.startswith(want + " "):
                return float(line.split()[-1])
        raise AssertionError("%s not in the metrics" % want)

    def test_late_parked_requests_get_503_quickly(self):
        results = []
        before = self.metric("stird_refusals_total", cause="fetch_wait")
        first = threading.Thread(target=self.post, args=(self.body("hang"), results, "first"))
        first.start()
        time.sleep(0.5)         # the first holds the only thread
        # /hang is one URL for everyone (single flight): the queued ones
        # ask for slow URLs of their own, which they would each wait for.
        queued = [threading.Thread(target=self.post,
                                   args=(self.body("slow/20.%d/chain.pem" % i), results, "q"))
                  for i in range(4)]
        for t in queued:
            t.start()
        # Meanwhile the server answers at once.
        t0 = time.monotonic()
        st, _, _ = self.srv.request("GET", "/health")
        self.assertEqual(st, 200)
        self.assertLess(time.monotonic() - t0, 1.0)
        for t in queued:
            t.join(30)
        q = [x for x in results if x[0] == "q"]
        self.assertEqual(len(q), 4, results)
        for tag, elapsed, status, retry, ctype, body in q:
            self.assertEqual(status, 503, body)
            self.assertEqual(retry, "1")
            self.assertEqual(ctype, "application/problem+json")
            self.assertEqual(body["status"], 503)
            self.assertIn("longer than the request timeout", body["detail"])
            # request_timeout 1 s, checked 4 times a second: well before
            # the 8 s the first request holds the thread.
            self.assertLess(elapsed, 4.0, body)
            self.assertGreaterEqual(elapsed, 0.9, body)
        self.assertEqual(self.metric("stird_refusals_total", cause="fetch_wait") - before, 4)
        first.join(30)
        f = [x for x in results if x[0] == "first"]
        self.assertEqual(len(f), 1, results)
        self.assertEqual(f[0][2], 200, f[0])
        vr = f[0][5]["verificationResponse"]["verifyResults"][0]["verifyResult"]
        self.assertEqual(vr["reasonCode"], 436, vr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
