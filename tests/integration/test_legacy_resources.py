"""The legacy per-type resources of the pre-2023 Ms API dialect (ms-api.md
2.3): POST /stir/v1/divSigning and /rphSigning sign with an implied ppt,
/divVerification and /rphVerification are /verification. Their HTTP-level
behaviour (404, 405, 411, 413, 415) is that of the current resources.

Every PASSporT is taken apart with python (base64url, JSON) and its
signature checked with the openssl CLI against the chain served at x5u;
the expected claims come from the RFCs (RFC 8946 3 for div, RFC 8443 3
for rph), not from stird's output."""
import os
import shutil
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stirtest  # noqa: E402
from stirtest import ORIG_TN, DEST_TN  # noqa: E402

DIV_TN = "12155551214"      # the diverting identity (the original target)
NEW_TN = "12155551299"      # where the call was retargeted


class LegacyResourcesTest(stirtest.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="stirlegacy.")
        chain, _ = cls.srv.fetch_chain()
        cls.leaf = stirtest.leaf_pem(chain)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def sign_at(self, path, req, wrap=True):
        return self.srv.sign(req, path=path, wrap=wrap)

    def assertSignedBy(self, value, ppt):
        """Header, Identity parameters and signature as RFC 8224/8225 say;
        returns the claims."""
        header, claims, params, tbs, sig = stirtest.decode_identity(value)
        self.assertEqual(header, {"alg": "ES256", "ppt": ppt, "typ": "passport",
                                  "x5u": self.srv.x5u_url})
        self.assertEqual(params.get("ppt", "").strip('"'), ppt)
        self.assertEqual(params.get("alg"), "ES256")
        self.assertEqual(params.get("info"), "<%s>" % self.srv.x5u_url)
        self.assertTrue(stirtest.es256_verify_openssl(self.leaf, tbs, sig, self.tmp),
                        "openssl does not verify the ES256 signature")
        return claims

    def div_request(self, **over):
        req = {"orig": {"tn": "+1 (215) 555-1212"}, "dest": {"tn": [NEW_TN]},
               "div": {"tn": "1-215-555-1214"}, "iat": int(time.time())}
        req.update(over)
        return req

    # ---- divSigning --------------------------------------------------------------

    def test_div_signing_implies_div(self):
        req = self.div_request(requestId="legacy-1")
        st, body = self.sign_at("/stir/v1/divSigning", req)
        self.assertEqual(st, 200, body)
        self.assertEqual(body["signingResponse"].get("requestId"), "legacy-1")
        claims = self.assertSignedBy(body["signingResponse"]["identityHeader"], "div")
        # RFC 8946 3: dest, div, iat and orig only; TNs canonical (RFC 8224 8.3).
        self.assertEqual(claims, {"dest": {"tn": [NEW_TN]}, "div": {"tn": DIV_TN},
                                  "iat": req["iat"], "orig": {"tn": ORIG_TN}})

    def test_div_signing_bare_body_and_explicit_same_ppt(self):
        for req, wrap in ((self.div_request(), False), (self.div_request(ppt="div"), True)):
            with self.subTest(wrap=wrap, ppt=req.get("ppt")):
                st, body = self.sign_at("/stir/v1/divSigning", req, wrap=wrap)
                self.assertEqual(st, 200, body)
                claims = self.assertSignedBy(body["signingResponse"]["identityHeader"], "div")
                self.assertEqual(claims["div"], {"tn": DIV_TN})

    def test_div_signing_keeps_history_info_index(self):
        # RFC 8946 8: hi stays inside the div object.
        req = self.div_request(div={"tn": DIV_TN, "hi": "1.2.1"})
        st, body = self.sign_at("/stir/v1/divSigning", req)
        self.assertEqual(st, 200, body)
        claims = self.assertSignedBy(body["signingResponse"]["identityHeader"], "div")
        self.assertEqual(claims["div"], {"hi": "1.2.1", "tn": DIV_TN})

    def test_div_signing_needs_div(self):
        req = self.div_request()
        del req["div"]
        st, body = self.sign_at("/stir/v1/divSigning", req)
        self.assertInvalidParam(st, body, "div")

    # ---- rphSigning --------------------------------------------------------------

    def test_rph_signing_implies_rph(self):
        req = {"orig": {"tn": ORIG_TN}, "dest": {"tn": [DEST_TN]}, "iat": int(time.time()),
               "rph": {"auth": ["ets.0"]}}
        st, body = self.sign_at("/stir/v1/rphSigning", req)
        self.assertEqual(st, 200, body)
        claims = self.assertSignedBy(body["signingResponse"]["identityHeader"], "rph")
        # RFC 8443 3: rph {"auth": [r-values]}, no SHAKEN claims.
        self.assertEqual(claims, {"dest": {"tn": [DEST_TN]}, "iat": req["iat"],
                                  "orig": {"tn": ORIG_TN}, "rph": {"auth": ["ets.0"]}})

    def test_rph_signing_needs_rph(self):
        req = {"orig": {"tn": ORIG_TN}, "dest": {"tn": [DEST_TN]}, "iat": int(time.time())}
        st, body = self.sign_at("/stir/v1/rphSigning", req)
        self.assertInvalidParam(st, body, "rph")

    # ---- a ppt that contradicts the resource ---------------------------------------

    def test_conflicting_ppt_is_400_naming_ppt(self):
        rph = {"orig": {"tn": ORIG_TN}, "dest": {"tn": [DEST_TN]}, "iat": int(time.time()),
               "rph": {"auth": ["ets.0"]}}
        cases = [
            ("/stir/v1/divSigning", self.div_request(ppt="shaken", attest="A"), True),
            ("/stir/v1/divSigning", self.div_request(ppt="rph"), False),
            ("/stir/v1/divSigning", self.div_request(ppt=""), True),   # "" means shaken
            ("/stir/v1/divSigning", self.div_request(ppt=["div"]), True),
            ("/stir/v1/divSigning", self.div_request(ppt=None), True),
            ("/stir/v1/rphSigning", dict(rph, ppt="div"), True),
            ("/stir/v1/rphSigning", dict(rph, ppt="RPH"), True),      # ppt is case-sensitive
        ]
        for path, req, wrap in cases:
            with self.subTest(path=path, ppt=req["ppt"], wrap=wrap):
                st, body, hd = self.srv.post(path, {"signingRequest": req} if wrap else req)
                self.assertProblem(st, body, hd, 400)
                self.assertInvalidParam(st, body, "ppt")
                self.assertIn("ppt", body["detail"])

    def test_conflict_is_logged_with_the_field(self):
        st, body, _ = self.srv.post("/stir/v1/rphSigning",
                                    {"signingRequest": {"ppt": "shaken"}})
        self.assertEqual(st, 400, body)
        # The access line is written right after the answer is queued.
        deadline = time.time() + 5
        while True:
            lines = [ln for ln in self.srv.stderr().splitlines()
                     if "/stir/v1/rphSigning 400" in ln]
            if lines or time.time() > deadline:
                break
            time.sleep(0.05)
        self.assertTrue(lines and "field=ppt" in lines[-1], lines)

    # ---- verification aliases --------------------------------------------------------

    def test_verification_aliases_answer_like_verification(self):
        now = int(time.time())
        shaken, _ = self.srv.sign_ok(dest={"tn": [DIV_TN]}, iat=now)
        st, body = self.sign_at("/stir/v1/divSigning", self.div_request(
            orig={"tn": ORIG_TN}, dest={"tn": [NEW_TN]}, div={"tn": DIV_TN}, iat=now))
        self.assertEqual(st, 200, body)
        div = body["signingResponse"]["identityHeader"]
        requests = [
            {"identityHeader": shaken, "from": {"tn": ORIG_TN}, "to": {"tn": DIV_TN},
             "time": now, "requestId": "v-1"},
            # a retargeted call: To is the original target, dest the new one
            {"identityHeader": shaken, "identityHeaders": [div], "from": {"tn": ORIG_TN},
             "to": {"tn": DIV_TN}, "dest": {"tn": NEW_TN}, "time": now},
            # a failing one: orig does not match from (RFC 8224 6.2 step 2)
            {"identityHeader": shaken, "from": {"tn": "12155550000"}, "to": {"tn": DIV_TN},
             "time": now},
        ]
        for req in requests:
            st, want, hd = self.srv.post("/stir/v1/verification", {"verificationRequest": req})
            self.assertEqual(st, 200, want)
            for alias in ("/stir/v1/divVerification", "/stir/v1/rphVerification"):
                with self.subTest(alias=alias, n=len(req.get("identityHeaders", [])) + 1):
                    st2, got, hd2 = self.srv.post(alias, {"verificationRequest": req})
                    self.assertEqual(st2, 200, got)
                    self.assertEqual(hd2.get("content-type"), hd.get("content-type"))
                    self.assertEqual(got, want)
        # And what that answer is, independently of stird:
        st, body = self.srv.verify(requests[0])
        res = body["verificationResponse"]
        self.assertEqual(res["verstatValue"], "TN-Validation-Passed")
        self.assertEqual(res["requestId"], "v-1")
        st, body, _ = self.srv.post("/stir/v1/divVerification", requests[1])  # bare body
        self.assertEqual(st, 200, body)
        results = [r["verifyResult"] for r in body["verificationResponse"]["verifyResults"]]
        self.assertEqual([r["ppt"] for r in results], ["shaken", "div"])
        self.assertEqual([r["status"] for r in results], ["pass", "pass"], results)
        st, body = self.srv.verify(requests[2])
        res = body["verificationResponse"]
        self.assertEqual(res["verstatValue"], "TN-Validation-Failed")
        self.assertEqual(res["verifyResults"][0]["verifyResult"]["reasonCode"], 438)

    def test_verification_alias_request_errors(self):
        st, body, hd = self.srv.post("/stir/v1/rphVerification",
                                     {"verificationRequest": {"time": int(time.time())}})
        self.assertProblem(st, body, hd, 400)
        self.assertInvalidParam(st, body, "identityHeader")

    # ---- HTTP-level behaviour is that of the current resources ----------------------

    LEGACY = ("/stir/v1/divSigning", "/stir/v1/rphSigning", "/stir/v1/divVerification",
              "/stir/v1/rphVerification")

    def test_405_on_other_methods(self):
        for path in self.LEGACY:
            for method in ("GET", "PUT", "DELETE"):
                with self.subTest(path=path, method=method):
                    st, hd, data = self.srv.request(method, path)
                    self.assertEqual(st, 405, data)
                    self.assertEqual(hd.get("allow"), "POST")
                    self.assertTrue(hd.get("content-type", "").startswith(
                        "application/problem+json"))

    def test_unknown_neighbours_are_404(self):
        for path in ("/stir/v1/DivSigning", "/stir/v1/divsigning", "/stir/v1/divSigning/",
                     "/stir/v1/shakenSigning", "/stir/v1/divVerificationX", "/divSigning",
                     "/stir/v2/divSigning"):
            with self.subTest(path=path):
                st, body, hd = self.srv.post(path, {"signingRequest": self.div_request()})
                self.assertProblem(st, body, hd, 404)

    def test_header_checks_identical_to_current_resources(self):
        big = 65536 + 1     # the default max_body, plus one
        pairs = (("/stir/v1/signing", "/stir/v1/divSigning"),
                 ("/stir/v1/signing", "/stir/v1/rphSigning"),
                 ("/stir/v1/verification", "/stir/v1/divVerification"),
                 ("/stir/v1/verification", "/stir/v1/rphVerification"))
        for cur, legacy in pairs:
            # 415: not JSON
            answers = [self.srv.request("POST", p, body=b"{}", headers={"Content-Type":
                                                                        "text/plain"})
                       for p in (cur, legacy)]
            self.assertEqual(answers[0][0], 415)
            self.assertEqual(answers[1][0], 415)
            self.assertEqual(answers[0][2], answers[1][2])
            # 411: no Content-Length and no chunked body
            for p in (cur, legacy):
                st, raw = self.srv.raw(("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                        "application/json\r\nConnection: close\r\n\r\n"
                                        % p).encode())
                self.assertEqual(st, 411, raw)
            # 413: Content-Length over max_body, answered from the headers
            for p in (cur, legacy):
                st, raw = self.srv.raw(("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                        "application/json\r\nContent-Length: %d\r\n\r\n"
                                        % (p, big)).encode())
                self.assertEqual(st, 413, raw)
            # 400: not JSON, not an object
            for bad in (b"{", b"[]"):
                a = self.srv.request("POST", cur, body=bad,
                                     headers={"Content-Type": "application/json"})
                b = self.srv.request("POST", legacy, body=bad,
                                     headers={"Content-Type": "application/json"})
                self.assertEqual(a[0], 400)
                self.assertEqual((a[0], a[2]), (b[0], b[2]))


class LegacyRoutingPathTest(unittest.TestCase):
    """The legacy resources live under the RoutingPath like the others."""

    def test_under_routing_path(self):
        with stirtest.Server("--routing-path", "/sti/a") as srv:
            req = {"orig": {"tn": ORIG_TN}, "dest": {"tn": [NEW_TN]}, "div": {"tn": DIV_TN},
                   "iat": int(time.time())}
            st, body = srv.sign(req, path="/sti/a/stir/v1/divSigning")
            self.assertEqual(st, 200, body)
            header, _, _, _, _ = stirtest.decode_identity(
                body["signingResponse"]["identityHeader"])
            self.assertEqual(header["ppt"], "div")
            st, body = srv.sign(req, path="/stir/v1/divSigning")
            self.assertEqual(st, 404, body)
            st, body, _ = srv.post("/sti/a/stir/v1/rphVerification",
                                   {"verificationRequest": {}})
            self.assertEqual(st, 400, body)


class LegacyRphFlowTest(unittest.TestCase):
    """An rph PASSporT from /rphSigning verified through /rphVerification
    against the Resource-Priority header the client protects, with the
    verstatPriority values taken from the configuration."""

    def test_rph_round_trip_with_configured_priority_verstat(self):
        with stirtest.Server("--verstat-priority-passed", "Prio-OK",
                             "--verstat-priority-failed", "Prio-Bad") as srv:
            now = int(time.time())
            st, body = srv.sign({"orig": {"tn": ORIG_TN}, "dest": {"tn": [DEST_TN]}, "iat": now,
                                 "rph": {"auth": ["esnet.1"]}}, path="/stir/v1/rphSigning")
            self.assertEqual(st, 200, body)
            rph = body["signingResponse"]["identityHeader"]
            base = {"identityHeaders": [rph], "from": {"tn": ORIG_TN}, "to": {"tn": DEST_TN},
                    "time": now}
            st, body, _ = srv.post("/stir/v1/rphVerification", {"verificationRequest": dict(
                base, protectedHeaders=["Resource-Priority: esnet.1"])})
            self.assertEqual(st, 200, body)
            res = body["verificationResponse"]
            self.assertEqual(res["verifyResults"][0]["verifyResult"]["status"], "pass", res)
            self.assertEqual(res["verstatPriority"], "Prio-OK")
            # RFC 8443 4.2: the signed r-values must be those of the header.
            st, body, _ = srv.post("/stir/v1/rphVerification", {"verificationRequest": dict(
                base, protectedHeaders=["Resource-Priority: ets.0"])})
            self.assertEqual(st, 200, body)
            res = body["verificationResponse"]
            self.assertEqual(res["verifyResults"][0]["verifyResult"]["status"], "fail", res)
            self.assertEqual(res["verstatPriority"], "Prio-Bad")


class LegacyVerifyOnlyTest(unittest.TestCase):
    """Without signing credentials the legacy signing resources answer 503
    like /signing."""

    def test_503_without_signer(self):
        state = tempfile.mkdtemp(prefix="stirlegacy-state.")
        self.addCleanup(shutil.rmtree, state, True)
        stirtest.Server(state_dir=state).stop()     # makes the PKI
        with stirtest.Server("--trust", os.path.join(state, "root.pem"), embedded=False) as srv:
            for path in ("/stir/v1/signing", "/stir/v1/divSigning", "/stir/v1/rphSigning"):
                with self.subTest(path=path):
                    st, body, _ = srv.post(path, {"signingRequest": {"ppt": "div"}})
                    self.assertEqual(st, 503, body)


if __name__ == "__main__":
    unittest.main()
