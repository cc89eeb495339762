"""Certificate-level verification failures, end to end through stird.

The fixture PKI comes from tests/tools/mkpki.sh (openssl CLI only) and is
served by tests/tools/certserver.py over HTTPS; the PASSporTs are signed
here with the fixture leaf keys through the openssl CLI. Expected codes
(RFC 8224 6.2.2, ms-api.md 6.8): a credential that cannot be obtained is
436 Bad Identity Info; one obtained but not acceptable is 437 Unsupported
Credential."""
import os
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stirtest  # noqa: E402


class CertTest(stirtest.RepositoryTestCase):
    tmp_prefix = "stircerts."

    def url(self, path):
        return self.certserver.url(path)

    def verify(self, path, key="sp.key"):
        """Sign a SHAKEN PASSporT with a fixture key, x5u at certserver `path`."""
        now = int(time.time())
        identity = stirtest.shaken_identity(self.url(path), os.path.join(self.pki, key), self.tmp,
                                            now)
        st, body = self.srv.verify(stirtest.verification_request(identity, now))
        self.assertEqual(st, 200, body)
        return body["verificationResponse"]["verifyResults"][0]["verifyResult"]

    def assertCode(self, res, code):
        self.assertEqual(res["status"], "fail", res)
        self.assertIs(type(res["reasonCode"]), int)
        self.assertEqual(res["reasonCode"], code, res)

    def test_good_chain_passes(self):
        res = self.verify("chain.pem")
        self.assertEqual(res["status"], "pass", res)

    # ---- 437: obtained, but not an acceptable credential -------------------

    def test_expired(self):
        self.assertCode(self.verify("chain_expired.pem", "expired.key"), 437)

    def test_not_yet_valid(self):
        self.assertCode(self.verify("chain_future.pem", "future.key"), 437)

    def test_untrusted_root(self):
        self.assertCode(self.verify("chain_untrusted.pem", "evil_sp.key"), 437)

    def test_no_tnauthlist(self):
        self.assertCode(self.verify("chain_notn.pem", "notn.key"), 437)

    def test_p384_leaf(self):
        # ES256 needs P-256 (RFC 7518 3.4); the signature is not even
        # checkable, so this must not pass. The PASSporT is signed with the
        # good key to isolate the certificate as the reason.
        self.assertCode(self.verify("chain_p384.pem"), 437)

    # ---- 436: the credential cannot be obtained ------------------------------

    def test_not_a_certificate(self):
        self.assertCode(self.verify("ext.cnf"), 436)

    def test_private_key_in_body(self):
        self.assertCode(self.verify("chain_key.pem"), 436)

    def test_too_many_certificates(self):
        self.assertCode(self.verify("chain9.pem"), 436)

    def test_oversized(self):
        self.assertCode(self.verify("big/100000"), 436)

    def test_timeout(self):
        t0 = time.time()
        self.assertCode(self.verify("slow/5/chain.pem"), 436)
        self.assertLess(time.time() - t0, 4.5)

    def test_slow_repository_does_not_hold_workers(self):
        # stird runs 2 HTTP workers here; 4 verifications stuck on a slow
        # repository must not delay anyone else (they wait in the fetch pool).
        import threading
        self.verify("chain.pem")                     # warm: cached from now on
        results = []
        threads = [threading.Thread(target=lambda p=p: results.append(self.verify(p)))
                   for p in ("slow/3.1/chain.pem", "slow/3.2/chain.pem", "slow/3.3/chain.pem",
                             "slow/3.4/chain.pem")]
        slow = ["/slow/3.%d/chain.pem" % i for i in range(1, 5)]
        before = self.certserver.hits()   # other tests fetch these paths too
        for t in threads:
            t.start()
        # From when all four downloads hang at the repository (not after a
        # fixed sleep, which a loaded machine can outlast).
        deadline = time.time() + 30
        while time.time() < deadline:
            hits = self.certserver.hits()
            if all(hits.get(p, 0) > before.get(p, 0) for p in slow):
                break
            time.sleep(0.02)
        else:
            self.fail("the slow downloads never reached the repository: %r" % hits)
        t0 = time.time()
        res = self.verify("chain.pem")
        st, _, _ = self.srv.request("GET", "/health")
        elapsed = time.time() - t0
        for t in threads:
            t.join()
        self.assertEqual(res["status"], "pass", res)
        self.assertEqual(st, 200)
        # A held worker would delay this by the rest of the 2 s fetch
        # timeout, about 2 s from here.
        self.assertLess(elapsed, 1.2)
        self.assertEqual(len(results), 4)
        for r in results:
            self.assertCode(r, 436)

    def test_full_fetch_queue_is_503(self):
        import threading
        srv = stirtest.Server(
            "--trust", os.path.join(self.pki, "root.pem"),
            "--fetch-allow-host", "127.0.0.1", "--fetch-allow-any-port",
            "--fetch-ca-file", os.path.join(self.pki, "tls.pem"),
            "--fetch-timeout-ms", "1000", "--fetch-threads", "1", "--fetch-queue", "1",
            embedded=False)
        try:
            statuses = []

            def one(i):
                now = int(time.time())
                tmp = tempfile.mkdtemp(dir=self.tmp)
                identity = stirtest.shaken_identity(self.url("slow/3.%d/chain.pem" % i),
                                                    os.path.join(self.pki, "sp.key"), tmp, now,
                                                    ppt=None)
                st, body, hd = srv.post("/stir/v1/verification", {
                    "verificationRequest": stirtest.verification_request(identity, now)})
                statuses.append((st, hd.get("retry-after")))

            threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            # One verifying, at most one queued; the others are told to come
            # back (exactly how many depends on when the pool thread wakes).
            codes = sorted(st for st, _ in statuses)
            self.assertIn(codes, ([200, 200, 503, 503], [200, 503, 503, 503]))
            self.assertTrue(all(ra == "1" for st, ra in statuses if st == 503), statuses)
        finally:
            srv.stop()

    def test_http_404(self):
        self.assertCode(self.verify("status/404"), 436)
        self.assertCode(self.verify("missing.pem"), 436)

    def test_redirect_not_followed(self):
        self.assertCode(self.verify("redirect/chain.pem"), 436)


if __name__ == "__main__":
    unittest.main()
