"""RCD content fetches (RFC 9795 icn, jCard and logo URLs) are charged to
the client that caused them, start no threads, and end with their request.

Unlike x5u (prefetch.c: parallel fetch threads, owned by the pool thread),
the RCD content of a PASSporT is fetched inline, on the fetch-pool thread
running the request, so its client's thread cap already bounds it and no
thread is left behind. What was not bounded: the RCD fetch budget
(rcd_fetch_budget_ms) was per PASSporT. A request of 16 rcd PASSporTs
whose icn hang held its pool thread for 16 x (budget + fetch timeout): 32 s
here, long after its client had given up (request_timeout 5 s), and a
shutdown waited for it. Now the budget is per request (stir_rcd_request_begin
/ stir_rcd_request_end around the verification on the pool thread).

Client A (127.0.0.1) floods such requests; its PASSporTs are signed here
with python3-cryptography by the fixture's sp key, and their x5u is the
fixture's good chain (so stird reaches the RCD claims). Client B (127.0.0.2)
verifying an ordinary PASSporT passes within its fetch budget; stird's
thread count stays within its pools; A's requests are answered within one
RCD budget plus one fetch timeout. fetch_max_per_host 0, so that the
per-host download cap (a separate limit) plays no part."""
import base64
import json
import os
import sys
import threading
import time
import unittest


sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stirtest  # noqa: E402

FETCH_TIMEOUT_MS = 2000
RCD_BUDGET_MS = 500
PASSPORTS = 16          # Identity headers per request of A (the most accepted)
SENDERS = 6
FLOOD_S = 6


def threads_of(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    raise AssertionError("no Threads line")


class RcdFairTest(stirtest.RepositoryTestCase):
    server_args = ("--fetch-threads", "4", "--fetch-max-per-host", "0",
                   "--fetch-connect-timeout-ms", str(FETCH_TIMEOUT_MS),
                   "--fetch-budget-ms", "1500",
                   "--rcd-fetch-budget-ms", str(RCD_BUDGET_MS), "--request-timeout", "5")
    fetch_timeout_ms = FETCH_TIMEOUT_MS
    tmp_prefix = "stirrcdfair."

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.hang = stirtest.HangServer()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.hang.stop()

    def post(self, source, body, timeout=120):
        return stirtest.post_from(self.srv.port, source, "/stir/v1/verification", body, timeout)

    def test_flood_of_hanging_rcd_content(self):
        key = stirtest.load_ec_key(os.path.join(self.pki, "sp.key"))
        x5u = self.certserver.url("chain.pem")
        # Any well-formed digest: the content never arrives to be compared.
        digest = "sha256-" + base64.b64encode(b"\x00" * 32).decode()

        def rcd_passport(n, now):
            icn = self.hang.url("icn/%d.png" % n)
            return stirtest.make_passport(
                {"alg": "ES256", "ppt": "rcd", "typ": "passport", "x5u": x5u},
                {"dest": {"tn": [stirtest.DEST_TN]}, "iat": now, "orig": {"tn": stirtest.ORIG_TN},
                 "rcd": {"nam": "Flood %d" % n, "icn": icn}, "rcdi": {"/icn": digest}},
                key, None, ppt="rcd")

        seq = iter(range(1, 1 << 30))
        lock = threading.Lock()

        def a_body():
            now = int(time.time())
            with lock:
                ids = [next(seq) for _ in range(PASSPORTS)]
            return json.dumps({"verificationRequest": {
                "identityHeaders": [rcd_passport(i, now) for i in ids],
                "from": {"tn": stirtest.ORIG_TN}, "to": {"tn": stirtest.DEST_TN},
                "time": now}})

        # One request alone first: its verdicts show the RCD content was
        # reached (and not fetched), and how long it held its thread.
        t0 = time.monotonic()
        st, body = self.post("127.0.0.1", a_body())
        alone = time.monotonic() - t0
        self.assertEqual(st, 200, body)
        results = [r["verifyResult"] for r in body["verificationResponse"]["verifyResults"]]
        self.assertEqual(len(results), PASSPORTS)
        for r in results:
            self.assertEqual(r["status"], "fail", r)
            self.assertIn(self.hang.url("icn/"), json.dumps(r), r)
        # One RCD budget, plus the fetch it had started, plus slack: not
        # one per PASSporT (16 x 2.5 s before).
        limit = (RCD_BUDGET_MS + FETCH_TIMEOUT_MS) / 1000.0 + 2.0
        self.assertLess(alone, limit, results[-1])

        base_threads = threads_of(self.srv.proc.pid)
        stop = time.monotonic() + FLOOD_S
        a_replies, peak = [], [base_threads]

        def flood():
            while time.monotonic() < stop:
                t = time.monotonic()
                try:
                    st, _ = self.post("127.0.0.1", a_body())
                except OSError:
                    st = "error"
                with lock:
                    a_replies.append((st, time.monotonic() - t))

        senders = [threading.Thread(target=flood) for _ in range(SENDERS)]
        for t in senders:
            t.start()
        time.sleep(FLOOD_S / 2)
        good = json.dumps({"verificationRequest": {
            "identityHeader": self.good_identity(x5u),
            "from": {"tn": stirtest.ORIG_TN}, "to": {"tn": stirtest.DEST_TN},
            "time": int(time.time())}})
        t0 = time.monotonic()
        st, body = self.post("127.0.0.2", good)
        b_elapsed = time.monotonic() - t0
        while any(t.is_alive() for t in senders):
            peak.append(threads_of(self.srv.proc.pid))
            time.sleep(0.1)
        self.assertEqual(st, 200, body)
        vr = body["verificationResponse"]["verifyResults"][0]["verifyResult"]
        self.assertEqual(vr["status"], "pass", vr)
        self.assertLess(b_elapsed, 3.0)
        # No thread per RCD fetch: the pools' threads, nothing more.
        self.assertLessEqual(max(peak), base_threads + 2, peak)
        self.assertTrue(a_replies)
        self.assertTrue(all(st in (200, 503) for st, _ in a_replies), a_replies)
        self.assertLess(max(d for _, d in a_replies), limit + 5.0 + 2.0, a_replies)
        print("A alone: %.2f s; B: %.3f s; threads %d..%d; A's replies %d, slowest %.2f s"
              % (alone, b_elapsed, base_threads, max(peak), len(a_replies),
                 max(d for _, d in a_replies)))

    def good_identity(self, x5u):
        # B's chain is the same good one as A's (cached by now): what B
        # needs is a fetch thread, and its PASSporT has no rcd.
        now = int(time.time())
        return stirtest.make_passport(
            {"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": x5u},
            {"attest": "A", "dest": {"tn": [stirtest.DEST_TN]}, "iat": now,
             "orig": {"tn": stirtest.ORIG_TN}, "origid": stirtest.SHAKEN_ORIGID},
            os.path.join(self.pki, "sp.key"), self.tmp, ppt="shaken")


if __name__ == "__main__":
    unittest.main(verbosity=2)
