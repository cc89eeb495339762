"""Verification failures are HTTP 200 with one failing verifyResult per
PASSporT (TS 24.229 V.2.6, ms-api.md 6.5) carrying the RFC 8224 6.2.2
code and phrase and an RFC 9410 Reason value. The manipulated PASSporTs
are built here, in python, from stird-signed ones or from scratch with the
embedded signing key and the openssl CLI."""
import os
import shutil
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stirtest  # noqa: E402
from stirtest import b64u_encode, canonical, parse_identity  # noqa: E402

# RFC 8224 6.2.2 / 13.2 reason phrases.
TEXT = {403: "Stale Date", 433: "Anonymity Disallowed", 436: "Bad Identity Info",
        437: "Unsupported Credential", 438: "Invalid Identity Header"}


class VerifyErrorsTest(stirtest.ServerTestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="stirverify.")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def ctx(self, identity, **over):
        req = {"identityHeader": identity, "from": {"tn": stirtest.ORIG_TN},
               "to": {"tn": stirtest.DEST_TN}, "time": int(time.time())}
        req.update(over)
        return req

    def results(self, req, n=1):
        st, body = self.srv.verify(req)
        self.assertEqual(st, 200, body)
        vr = body["verificationResponse"]
        self.assertEqual(len(vr["verifyResults"]), n, vr)
        return vr, [r["verifyResult"] for r in vr["verifyResults"]]

    def assertFail(self, res, code, text=None):
        self.assertEqual(res["status"], "fail", res)
        # reasonCode is a JSON integer, never a string (and not a bool).
        self.assertIs(type(res["reasonCode"]), int, res)
        self.assertEqual(res["reasonCode"], code, res)
        if text or code in TEXT:
            self.assertEqual(res["reasonText"], text or TEXT[code])
        self.assertNotIn("validClaims", res)

    def forged(self, x5u=None, **payload_over):
        x5u = x5u or self.srv.x5u_url
        payload = {"attest": "A", "dest": {"tn": [stirtest.DEST_TN]}, "iat": int(time.time()),
                   "orig": {"tn": stirtest.ORIG_TN},
                   "origid": "123e4567-e89b-42d3-a456-426614174000"}
        payload.update(payload_over)
        header = {"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": x5u}
        return stirtest.make_passport(header, payload, os.path.join(self.srv.state_dir, "sp.key"),
                                      self.tmp, ppt="shaken")

    def test_forged_passport_control_passes(self):
        # The python-built PASSporT is right: the failures below come
        # from the one thing changed in each.
        vr, (res,) = self.results(self.ctx(self.forged()))
        self.assertEqual(res["status"], "pass", res)
        self.assertEqual(vr["verstatValue"], "TN-Validation-Passed")

    def test_stale_time(self):
        identity, req = self.srv.sign_ok()
        vr, (res,) = self.results(self.ctx(identity, time=req["iat"] + 3600))
        self.assertFail(res, 403)
        self.assertEqual(vr["verstatValue"], "TN-Validation-Failed")

    def test_future_iat(self):
        vr, (res,) = self.results(self.ctx(self.forged(iat=int(time.time()) + 3600)))
        self.assertFail(res, 403)

    def test_tampered_signature(self):
        identity, _ = self.srv.sign_ok()
        token, rest = identity.split(";", 1)
        h, p, s = token.split(".")
        s = s[:10] + ("B" if s[10] != "B" else "C") + s[11:]
        vr, (res,) = self.results(self.ctx(h + "." + p + "." + s + ";" + rest))
        self.assertFail(res, 438)
        self.assertEqual(res["passport"], h + "." + p + "." + s)
        self.assertEqual(vr["verstatValue"], "TN-Validation-Failed")

    def test_orig_from_mismatch(self):
        identity, _ = self.srv.sign_ok()
        _, (res,) = self.results(self.ctx(identity, **{"from": {"tn": "12155559999"}}))
        self.assertFail(res, 438)
        self.assertIn(stirtest.ORIG_TN, res["reasonDescription"])
        self.assertIn("12155559999", res["reasonDescription"])

    def test_dest_to_mismatch(self):
        identity, _ = self.srv.sign_ok()
        _, (res,) = self.results(self.ctx(identity, to={"tn": "12155550000"}))
        self.assertFail(res, 438)

    def test_alg_none(self):
        header = {"alg": "none", "ppt": "shaken", "typ": "passport", "x5u": self.srv.x5u_url}
        payload = {"attest": "A", "dest": {"tn": [stirtest.DEST_TN]}, "iat": int(time.time()),
                   "orig": {"tn": stirtest.ORIG_TN},
                   "origid": "123e4567-e89b-42d3-a456-426614174000"}
        token = (b64u_encode(canonical(header).encode()) + "." +
                 b64u_encode(canonical(payload).encode()) + ".")
        _, (res,) = self.results(self.ctx(token + ";info=<" + self.srv.x5u_url + ">"))
        self.assertFail(res, 438)

    def test_x5u_info_mismatch(self):
        identity, _ = self.srv.sign_ok()
        token, params = parse_identity(identity)
        other = "https://127.0.0.1:%d/other.pem" % self.srv.x5u_port
        _, (res,) = self.results(self.ctx(token + ";info=<" + other + ">;alg=ES256;ppt=shaken"))
        self.assertFail(res, 438)

    def test_x5u_unreachable(self):
        url = "https://127.0.0.1:%d/x.pem" % stirtest.free_port()
        vr, (res,) = self.results(self.ctx(self.forged(x5u=url)))
        self.assertFail(res, 436)
        self.assertEqual(vr["verstatValue"], "TN-Validation-Failed")

    def test_two_failures_each_with_reason_header(self):
        identity, _ = self.srv.sign_ok()
        token, rest = identity.split(";", 1)
        h, p, s = token.split(".")
        bad_sig = s[:20] + ("A" if s[20] != "A" else "B") + s[21:]
        first = h + "." + p + "." + bad_sig + ";" + rest
        second = self.forged(x5u="https://127.0.0.1:%d/gone.pem" % stirtest.free_port())
        _, results = self.results(self.ctx(first, identityHeaders=[second]), n=2)
        expected = ((438, first), (436, second))
        for res, (code, value) in zip(results, expected):
            self.assertFail(res, code)
            sig = value.split(";")[0].split(".")[2]
            # RFC 9410 5: Reason: STIR ;cause=436 ;text="Bad Identity Info" ;ppi="..sig"
            self.assertEqual(res["reasonHeader"],
                             'STIR ;cause=%d ;text="%s" ;ppi="..%s"' % (code, TEXT[code], sig))
        # The access log line carries the per-PASSporT codes, in order.
        self.assertIn("codes=438,436", self.srv.stderr())
        self.assertNotIn("PRIVATE KEY", self.srv.stderr())

    def test_anonymous_from(self):
        identity, _ = self.srv.sign_ok()
        _, (res,) = self.results(self.ctx(identity, **{"from": {
            "uri": "sip:anonymous@anonymous.invalid"}}))
        self.assertFail(res, 433)

    def test_missing_identity_header_is_400(self):
        req = self.ctx("x")
        del req["identityHeader"]
        st, body, hd = self.srv.post("/stir/v1/verification", {"verificationRequest": req})
        self.assertProblem(st, body, hd, 400)
        self.assertInvalidParam(st, body, "identityHeader")

    def test_request_level_errors_are_400(self):
        identity, _ = self.srv.sign_ok()
        for field, change in (("time", {"time": "now"}), ("to", {"to": None}),
                              ("identityHeaders", {"identityHeaders": "x"}),
                              ("identityHeader", {"identityHeader": 5})):
            req = self.ctx(identity)
            for k, v in change.items():
                if v is None:
                    del req[k]
                else:
                    req[k] = v
            st, body, hd = self.srv.post("/stir/v1/verification", {"verificationRequest": req})
            self.assertProblem(st, body, hd, 400)
            self.assertInvalidParam(st, body, field)

    def test_garbage_identity_header_is_438(self):
        for value in ("not a header", "a.b.c;info=<x>", ";;;", "\u00e9.\u00e9.\u00e9;info=<x>"):
            _, (res,) = self.results(self.ctx(value))
            self.assertFail(res, 438)


if __name__ == "__main__":
    unittest.main()
