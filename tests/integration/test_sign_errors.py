"""Every invalid signing request is a 400 problem whose invalidParams
names the member at fault (TS 24.229 Table V.2.5.2-1/-2, RFC 8588,
RFC 8224 8.3, TS 29.500 ProblemDetails)."""
import json
import os
import sys
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stirtest  # noqa: E402


def good():
    return {"attest": "A", "orig": {"tn": stirtest.ORIG_TN}, "dest": {"tn": [stirtest.DEST_TN]},
            "iat": int(time.time())}


class SignErrorsTest(stirtest.ServerTestCase):

    def bad(self, field, **changes):
        req = stirtest.overridden(good(), changes)
        st, body, hd = self.srv.post("/stir/v1/signing", {"signingRequest": req})
        self.assertProblem(st, body, hd, 400)
        self.assertInvalidParam(st, body, field)
        return body

    def test_missing_mandatory(self):
        for field in ("orig", "dest", "iat"):
            body = self.bad(field, **{field: None})
            self.assertEqual(body["title"], "Missing Mandatory Parameter")

    def test_attest_not_abc(self):
        body = self.bad("attest", attest="D")
        self.assertEqual(body["title"], "Invalid Parameter Value")

    def test_iat_not_integer(self):
        self.bad("iat", iat=str(int(time.time())))
        self.bad("iat", iat=time.time() + 0.5)

    def test_iat_outside_freshness(self):
        self.bad("iat", iat=int(time.time()) - 3600)
        self.bad("iat", iat=int(time.time()) + 3600)

    def test_tn_with_letters(self):
        self.bad("orig", orig={"tn": "1215555CALL"})
        self.bad("dest", dest={"tn": ["12155551213", "1800FLOWERS"]})

    def test_origid_not_uuid(self):
        self.bad("origid", origid="not-a-uuid")

    def test_unknown_ppt_lists_supported(self):
        body = self.bad("ppt", ppt="foo")
        reason = body["invalidParams"][0]["reason"]
        self.assertIn("foo", reason)
        self.assertIn("shaken", reason)

    def test_multibyte_value_in_detail(self):
        # Details quote the bad value, possibly cut at a byte limit; the
        # problem must still carry a (valid UTF-8) detail and reason.
        body = self.bad("ppt", ppt="a" + "\u00e9" * 40)
        self.assertIn("detail", body)
        self.assertIn("reason", body["invalidParams"][0])
        self.assertIn("\u00e9\u00e9", body["detail"])

    def test_orig_with_tn_and_uri(self):
        self.bad("orig", orig={"tn": stirtest.ORIG_TN, "uri": "sip:alice@example.com"})

    def test_oversized_tn(self):
        self.bad("orig", orig={"tn": "1" * 100})

    def test_empty_dest_array(self):
        self.bad("dest", dest={"tn": []})

    def test_wrong_types(self):
        self.bad("orig", orig="12155551212")
        self.bad("dest", dest="12155551213")
        self.bad("attest", attest=1)

    def test_non_utf8_string(self):
        # Raw 0xff inside the orig tn: not UTF-8, so not JSON (RFC 8259 8.1).
        raw = (b'{"signingRequest":{"attest":"A","orig":{"tn":"1215\xff5551212"},'
               b'"dest":{"tn":["12155551213"]},"iat":' + str(int(time.time())).encode() + b'}}')
        st, body, hd = self.srv.post("/stir/v1/signing", raw)
        self.assertProblem(st, body, hd, 400)
        self.assertIn("UTF-8", body["detail"])
        self.assertInvalidParam(st, body, "orig")

    def test_server_survives_bad_input(self):
        # After all of the above the server still signs.
        identity, _ = self.srv.sign_ok()
        self.assertEqual(len(stirtest.parse_identity(identity)[0].split(".")), 3)


if __name__ == "__main__":
    unittest.main()
