"""The fetch pool is fair between clients (issue 12 item 6): one client's
backlog of requests waiting for slow fetches does not hold back another
client's, and beyond its own queue share a client gets 503 while others
still queue.

stird runs with 2 fetch threads, so one client may hold 1 of them
(fetch_client_threads 0 = a quarter, at least 1), and fetch_client_queue 3.
Client A (127.0.0.1) sends 6 requests at once whose x5u answer only after
30 s (each cut at the 2 s fetch budget); client B (127.0.0.2) then sends
one whose x5u answers at once. With one FIFO across clients B would come
after A's backlog (at least 2 of A's requests answered before it); with
per-client turns B takes the free thread and is answered before any of
A's except perhaps the first. Repository: tests/tools/certserver.py."""
import http.client
import json
import os
import ssl
import sys
import threading
import time
import unittest
import urllib.request

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stirtest  # noqa: E402


class FetchFairTest(stirtest.RepositoryTestCase):
    tmp_prefix = "stirfair."
    server_args = ("--fetch-threads", "2", "--fetch-client-queue", "3",
                   "--fetch-budget-ms", "2000")

    def body(self, path, cs=None):
        now = int(time.time())
        ident = stirtest.shaken_identity((cs or self.certserver).url(path),
                                         os.path.join(self.pki, "sp.key"), self.tmp, now)
        return json.dumps({"verificationRequest": stirtest.verification_request(ident, now)})

    def certserver_get(self, cs, path):
        ctx = ssl.create_default_context(cafile=os.path.join(self.pki, "tls.pem"))
        with urllib.request.urlopen(cs.url(path), context=ctx, timeout=10) as r:
            return json.loads(r.read())

    def post(self, source, body, results, tag, srv=None):
        c = http.client.HTTPConnection("127.0.0.1", (srv or self.srv).port, timeout=60,
                                       source_address=(source, 0))
        try:
            c.request("POST", "/stir/v1/verification", body=body,
                      headers={"Content-Type": "application/json"})
            r = c.getresponse()
            data = r.read()
            results.append((time.monotonic(), tag, r.status, r.getheader("Retry-After"),
                            json.loads(data)))
        finally:
            c.close()

    def test_other_client_not_held_back(self):
        results = []
        # Six distinct slow URLs (no single flight between them).
        bodies = [self.body("slow/30.%05d/chain.pem" % i) for i in range(6)]
        good = self.body("chain.pem")
        flood = [threading.Thread(target=self.post, args=("127.0.0.1", b, results, "A"))
                 for b in bodies]
        for t in flood:
            t.start()
        time.sleep(0.5)         # A's requests are parked before B arrives
        self.post("127.0.0.2", good, results, "B")
        for t in flood:
            t.join(60)

        order = [tag for _, tag, _, _, _ in sorted(results, key=lambda x: x[0])]
        b = next(x for x in results if x[1] == "B")
        self.assertEqual(b[2], 200, b[4])
        vr = b[4]["verificationResponse"]["verifyResults"][0]["verifyResult"]
        self.assertEqual(vr["status"], "pass", vr)

        # B was answered before all but at most one of A's parked requests
        # (A holds one thread at a time; one FIFO would put B after 3).
        answered_a_before_b = [x for x in results if x[1] == "A" and x[2] == 200
                               and x[0] < b[0]]
        self.assertLessEqual(len(answered_a_before_b), 1, order)

        a = [x for x in results if x[1] == "A"]
        self.assertEqual(len(a), 6, results)
        # A's own queue share is 3 waiting + 1 running: the rest is 503
        # with Retry-After and says why.
        refused = [x for x in a if x[2] == 503]
        taken = [x for x in a if x[2] == 200]
        self.assertEqual(len(refused), 2, [(x[2], x[4]) for x in a])
        self.assertEqual(len(taken), 4, [(x[2], x[4]) for x in a])
        for x in refused:
            self.assertEqual(x[3], "1")
            self.assertIn("fetch_client_queue", x[4]["detail"], x[4])
        for x in taken:
            r = x[4]["verificationResponse"]["verifyResults"][0]["verifyResult"]
            self.assertEqual(r["reasonCode"], 436, r)


    def test_lone_client_borrows_but_leaves_a_reserve(self):
        # 4 threads, one client may hold 1 (a quarter), but while nobody
        # else waits it may borrow as long as 1 thread stays free: three
        # slow requests of A run at once (the repository sees 3 downloads
        # in progress), and B still finds the reserved thread.
        # Its own repository, so the high-water mark counts only this test's
        # downloads.
        with stirtest.CertServer(os.path.join(self.pki, "tls.pem"),
                                 os.path.join(self.pki, "tls.key"), self.pki) as cs, \
             stirtest.Server(
                "--trust", os.path.join(self.pki, "root.pem"),
                "--fetch-allow-host", "127.0.0.1", "--fetch-allow-any-port",
                "--fetch-ca-file", os.path.join(self.pki, "tls.pem"),
                "--fetch-threads", "4", "--fetch-max-per-host", "8",
                "--fetch-timeout-ms", "3000", "--fetch-budget-ms", "3000",
                embedded=False) as srv:
            results = []
            bodies = [self.body("slow/2.%05d/chain.pem" % i, cs) for i in range(4)]
            good = self.body("chain.pem", cs)
            flood = [threading.Thread(target=self.post,
                                      args=("127.0.0.1", b, results, "A", srv))
                     for b in bodies]
            for t in flood:
                t.start()
            time.sleep(0.7)
            self.post("127.0.0.2", good, results, "B", srv)
            for t in flood:
                t.join(60)
            hits = self.certserver_get(cs, "__hits")
            slow_paths = [k for k in hits if k.startswith("/slow/2.")]
            b = next(x for x in results if x[1] == "B")
            self.assertEqual(b[2], 200, b[4])
            vr = b[4]["verificationResponse"]["verifyResults"][0]["verifyResult"]
            self.assertEqual(vr["status"], "pass", vr)
            a = [x for x in results if x[1] == "A"]
            self.assertEqual([x[2] for x in a], [200] * 4, a)
            # A held 3 threads at once (without borrowing: 1, so at most
            # 2 downloads with B's), never the 4th: B was answered first.
            self.assertGreaterEqual(hits.get("__max_active"), 3, hits)
            self.assertEqual(len(slow_paths), 4, hits)
            self.assertFalse([x for x in a if x[0] < b[0]], results)


if __name__ == "__main__":
    unittest.main(verbosity=2)
